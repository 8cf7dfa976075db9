// Toolkits and the credential lookups that resolution needs. Every function takes the workspace
// (already checked against the caller) and filters by it in the same query.
import { first, one } from './engine';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';

import { memberStatus, resolveCredential, statusOf, type Candidate, type CredentialScope, type Found } from '../domain/resolution';
import { expiryOf } from '../domain/expiry';
import type { MemberRun } from '../domain/models';
import { getToolkitType } from '../toolkits';
import { appendAudit, type AuditActor } from './audit';
import { prepared, preparedIn } from './prepared';
import { batchBuffer } from './group-commit';
import { openCredentialSecrets } from './credentials';
import { writeTx, type Store } from './store';
import { listMembers } from './workspaces';
import type { MemberCredentialState, Toolkit, ToolkitInput, Workspace } from '../domain/models';

export type { MemberCredentialState, Toolkit, ToolkitInput };

type Row = typeof toolkits.$inferSelect;
import type { Tables } from './engine';
import type { toolkits } from '../../db/schema';

/** The columns a resolution candidate is made of (never the sealed secrets). */
const candidateColumns = ({ credentials }: Tables) => ({
  rowId: credentials.id,
  credentialId: credentials.credentialId,
  name: credentials.name,
  type: credentials.type,
  expiresAt: credentials.expiresAt,
  connectedApp: credentials.connectedApp,
  connectedAccount: credentials.connectedAccount,
  connectionStatus: credentials.connectionStatus,
});


function toToolkit(r: Row): Toolkit {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    settings: JSON.parse(r.settingsJson),
    credential: {
      scope: r.credentialScope,
      credentialId: r.credentialId,
      rowId: r.credentialRowId,
      fallback: r.fallbackCredentialId ? { credentialId: r.fallbackCredentialId, rowId: r.fallbackRowId } : null,
    },
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** Returns the workspace's toolkits by name, optionally one page at a time. */
export async function listToolkits(store: Store, ws: Workspace, page?: { limit: number; offset: number }): Promise<Toolkit[]> {
  const { toolkits } = store.t;
  const q = store.db.select().from(toolkits).where(eq(toolkits.workspaceId, ws.id)).orderBy(asc(sql`lower(${toolkits.name})`), asc(toolkits.id));
  return (await (page ? q.limit(page.limit).offset(page.offset) : q)).map(toToolkit);
}

/** Returns how many toolkits the workspace has. */
export async function countToolkits(store: Store, ws: Workspace): Promise<number> {
  const { toolkits } = store.t;
  return first(await store.db.select({ n: sql<number>`count(*)` }).from(toolkits).where(eq(toolkits.workspaceId, ws.id)))!.n;
}

/** Returns the workspace's project credentials with these row ids (those a page of toolkits uses). */
export async function projectCandidatesByRow(store: Store, ws: Workspace, rowIds: number[]): Promise<Candidate[]> {
  const { credentials } = store.t;
  if (ws.kind !== 'project' || !rowIds.length) return [];
  return await store.db
    .select(candidateColumns(store.t))
    .from(credentials)
    .where(and(eq(credentials.workspaceId, ws.id), inArray(credentials.id, rowIds)));
}

/** Returns one toolkit of the workspace, or null. */
export async function getToolkit(store: Store, ws: Workspace, id: number): Promise<Toolkit | null> {
  const { toolkits } = store.t;
  const r = first(await prepared(store, 'toolkitInWorkspace', () =>
    store.db
      .select()
      .from(toolkits)
      .where(and(eq(toolkits.id, sql.placeholder('id')), eq(toolkits.workspaceId, sql.placeholder('ws'))))
      
  )({ id, ws: ws.id }));
  return r ? toToolkit(r) : null;
}

/** Returns the workspace's project credentials of the given types, as resolution candidates. */
export async function projectCandidates(store: Store, ws: Workspace, types?: string[]): Promise<Candidate[]> {
  const { credentials } = store.t;
  if (ws.kind !== 'project') return [];
  return await store.db
    .select(candidateColumns(store.t))
    .from(credentials)
    .where(types ? and(eq(credentials.workspaceId, ws.id), inArray(credentials.type, types)) : eq(credentials.workspaceId, ws.id))
    .orderBy(asc(sql`lower(${credentials.name})`));
}

/** Returns the user's own private credentials, as resolution candidates. */
export async function privateCandidates(store: Store, userId: string): Promise<Candidate[]> {
  const { credentials, workspaces } = store.t;
  return await prepared(store, 'privateCandidatesOfUser', () =>
    store.db
      .select(candidateColumns(store.t))
      .from(credentials)
      .innerJoin(workspaces, eq(workspaces.id, credentials.workspaceId))
      .where(eq(workspaces.ownerUserId, sql.placeholder('userId')))
      .orderBy(asc(credentials.credentialId))
      
  )({ userId });
}

function credentialDetails(c: ToolkitInput['credential']) {
  return { scope: c.scope, credential_id: c.credentialId, ...(c.fallback ? { fallback: c.fallback.credentialId } : {}) };
}

/** The columns a toolkit's credential reference is stored in. */
function credentialColumns(c: ToolkitInput['credential']) {
  return {
    credentialScope: c.scope,
    credentialId: c.credentialId,
    credentialRowId: c.rowId,
    fallbackCredentialId: c.fallback?.credentialId ?? null,
    fallbackRowId: c.fallback?.rowId ?? null,
  };
}

/** Creates a toolkit and records it. */
export async function createToolkit(store: Store, actor: { id: string; username: string }, ws: Workspace, input: ToolkitInput): Promise<Toolkit> {
  const { toolkits } = store.t;
  return writeTx(store, async (tx) => {
    const row = one(await tx
      .insert(toolkits)
      .values({
        workspaceId: ws.id,
        name: input.name,
        type: input.type,
        settingsJson: JSON.stringify(input.settings),
        ...credentialColumns(input.credential),
        createdBy: actor.id,
      })
      .returning());
    await appendAudit(store, tx, {
      actor,
      workspace: { id: ws.id, ref: ws.ref },
      action: 'toolkit.create',
      target: `toolkit:${row.id}`,
      details: { name: input.name, type: input.type, credential: credentialDetails(input.credential) },
    });
    return toToolkit(row);
  });
}

/** True when two credential references name different credentials (a changed fallback counts: it decides who runs as whom). */
export function credentialChanged(a: Toolkit['credential'], b: ToolkitInput['credential']): boolean {
  const fallbackChanged = (a.fallback?.credentialId ?? null) !== (b.fallback?.credentialId ?? null) || (a.fallback?.rowId ?? null) !== (b.fallback?.rowId ?? null);
  return a.scope !== b.scope || a.credentialId !== b.credentialId || (a.scope === 'project' && a.rowId !== b.rowId) || fallbackChanged;
}

/**
 * Updates a toolkit; a changed credential is recorded as its own event
 * (toolkit.credential_change) next to toolkit.update for the other fields.
 */
export async function updateToolkit(store: Store, actor: AuditActor, ws: Workspace, id: number, input: ToolkitInput): Promise<Toolkit | null> {
  const { toolkits } = store.t;
  return writeTx(store, async (tx) => {
    const before = first(await tx.select().from(toolkits).where(and(eq(toolkits.id, id), eq(toolkits.workspaceId, ws.id))));
    if (!before) return null;
    const old = toToolkit(before);
    const changed: string[] = [];
    if (old.name !== input.name) changed.push('name');
    if (JSON.stringify(old.settings) !== JSON.stringify(input.settings)) changed.push('settings');
    const credChanged = credentialChanged(old.credential, input.credential);
    if (!changed.length && !credChanged) return old;
    const row = one(await tx
      .update(toolkits)
      .set({
        name: input.name,
        settingsJson: JSON.stringify(input.settings),
        ...credentialColumns(input.credential),
        updatedAt: store.clock.now(),
      })
      .where(eq(toolkits.id, id))
      .returning());
    const workspace = { id: ws.id, ref: ws.ref };
    if (changed.length) await appendAudit(store, tx, { actor, workspace, action: 'toolkit.update', target: `toolkit:${id}`, details: { name: input.name, changed } });
    if (credChanged) {
      await appendAudit(store, tx, {
        actor,
        workspace,
        action: 'toolkit.credential_change',
        target: `toolkit:${id}`,
        details: { name: input.name, from: credentialDetails(old.credential), to: credentialDetails(input.credential) },
      });
    }
    return toToolkit(row);
  });
}

/** Deletes a toolkit; false when it is not in this workspace. */
export async function deleteToolkit(store: Store, actor: AuditActor, ws: Workspace, id: number): Promise<boolean> {
  const { toolkits } = store.t;
  return writeTx(store, async (tx) => {
    const gone = first(await tx.delete(toolkits).where(and(eq(toolkits.id, id), eq(toolkits.workspaceId, ws.id))).returning());
    if (!gone) return false;
    await appendAudit(store, tx, { actor, workspace: { id: ws.id, ref: ws.ref }, action: 'toolkit.delete', target: `toolkit:${id}`, details: { name: gone.name, type: gone.type } });
    return true;
  });
}


/**
 * For each member of the project, their own private credential with this Credential ID (or
 * null): one query, names and types only, for readiness views and the change dialog.
 */
export async function memberCredentials(store: Store, ws: Pick<Workspace, 'id' | 'kind'>, credentialId: string): Promise<MemberCredentialState[]> {
  const { credentials, memberships, users } = store.t;
  if (ws.kind !== 'project') return [];
  const priv = sql`(SELECT id FROM workspaces pw WHERE pw.owner_user_id = ${memberships.userId})`;
  const rows = await store.db
    .select({
      username: users.username,
      role: memberships.role,
      disabled: users.disabled,
      ...candidateColumns(store.t),
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .leftJoin(credentials, and(sql`${credentials.workspaceId} = ${priv}`, eq(credentials.credentialId, credentialId)))
    .where(eq(memberships.workspaceId, ws.id))
    .orderBy(asc(users.username));
  return rows.map((r) => ({
    username: r.username,
    role: r.role,
    disabled: r.disabled,
    // With the connection's state: a connected account that needs reconnecting is not ready.
    credential: r.rowId
      ? { rowId: r.rowId, credentialId: r.credentialId!, name: r.name!, type: r.type!, expiresAt: r.expiresAt, connectedApp: r.connectedApp, connectedAccount: r.connectedAccount, connectionStatus: r.connectionStatus }
      : null,
  }));
}

/** A candidate read with the sealed columns a run opens: the same row, in the same statement. */
export type RunCandidate = Candidate & { workspaceId: number; fieldsJson: string; wrappedKey: Buffer | null; secretBlob: Buffer | null };

const runColumns = (t: Tables) => ({
  ...candidateColumns(t),
  workspaceId: t.credentials.workspaceId,
  fieldsJson: t.credentials.fieldsJson,
  wrappedKey: t.credentials.wrappedKey,
  secretBlob: t.credentials.secretBlob,
});

type Candidates<C> = { projectCredential: C | null; privateCredential: C | null; fallbackCredential: C | null };

/**
 * Returns the lookup of the credential a run uses, by the only keys allowed: the project's own
 * credential row, or the executing user's Private credential with the toolkit's Credential ID
 * (and, for a private-scope toolkit, the project's fallback row). `columns` says what is read.
 */
function candidateLookup<C>(columns: (t: Tables) => ReturnType<typeof candidateColumns>, key: string) {
  return async (store: Store, ws: Workspace, toolkit: Pick<Toolkit, 'credential'>, executingUserId: string): Promise<Candidates<C>> => {
    const { credentials, workspaces } = store.t;
    const projectRow = async (rowId: number | null | undefined) =>
      rowId
        ? ((first(await prepared(store, `project${key}`, () =>
            store.db
              .select(columns(store.t))
              .from(credentials)
              .where(and(eq(credentials.id, sql.placeholder('rowId')), eq(credentials.workspaceId, sql.placeholder('ws')))),
          )({ rowId, ws: ws.id })) ?? null) as C | null)
        : null;
    if (toolkit.credential.scope === 'project') {
      return { projectCredential: await projectRow(toolkit.credential.rowId), privateCredential: null, fallbackCredential: null };
    }
    const r = first(await prepared(store, `private${key}`, () =>
      store.db
        .select(columns(store.t))
        .from(credentials)
        .innerJoin(workspaces, eq(workspaces.id, credentials.workspaceId))
        .where(and(eq(workspaces.ownerUserId, sql.placeholder('userId')), eq(credentials.credentialId, sql.placeholder('cid')))),
    )({ userId: executingUserId, cid: toolkit.credential.credentialId }));
    // The fallback is a row of this project (ws), like a project-scope toolkit's credential.
    return { projectCredential: null, privateCredential: (r ?? null) as C | null, fallbackCredential: ws.kind === 'project' ? await projectRow(toolkit.credential.fallback?.rowId) : null };
  };
}

/** The candidates a page shows a toolkit's readiness from (never the sealed secrets). */
export const findResolutionCandidates: (store: Store, ws: Workspace, toolkit: Pick<Toolkit, 'credential'>, executingUserId: string) => Promise<Required<Found>> = candidateLookup<Candidate>(candidateColumns, 'Candidate');

/** The candidates of a run, each with its sealed columns, so the one resolution picks opens without a second read. */
export const findRunCandidates = candidateLookup<RunCandidate>(runColumns, 'RunCandidate');

/** Decrypts the candidate a run resolved to. `scope` says whose it is; the lookup already held it to this project or the executing user. */
export function openRunCandidate(store: Store, ws: Workspace, scope: CredentialScope, c: RunCandidate, executingUserId: string): ResolvedCredential {
  const owner: Pick<Workspace, 'kind' | 'id' | 'ownerUserId'> =
    scope === 'project' ? { kind: 'project', id: ws.id, ownerUserId: null } : { kind: 'private', id: c.workspaceId, ownerUserId: executingUserId };
  return { fields: JSON.parse(c.fieldsJson) as Record<string, string>, secrets: openCredentialSecrets(store, { id: c.rowId, wrappedKey: c.wrappedKey, secretBlob: c.secretBlob }, owner), type: c.type };
}

export type ResolvedCredential = { fields: Record<string, string>; secrets: Record<string, string>; type: string };

export type ExecutionRecord = {
  actor: { id: string; username: string };
  toolkit: Toolkit;
  tool: string;
  outcome: 'success' | 'failure';
  details: Record<string, unknown>;
  credentialRowId: number | null;
};

/**
 * Records an execution and the credential's last use, together, through the group committer:
 * resolves once the commit holding them is durable.
 */
export async function recordExecution(store: Store, ws: Workspace, rec: ExecutionRecord): Promise<void> {
  const { credentials } = store.t;
  await store.groupCommit.run(async (tx) => {
    // In a batch on PostgreSQL, one UPDATE for the batch's credentials (at the batch's latest time).
    const used = rec.credentialRowId ? batchBuffer<{ rowId: number; at: number }>(store.engine, tx, 'credentialLastUsed', async (list) => {
      const at = Math.max(...list.map((u) => u.at));
      await tx.update(credentials).set({ lastUsedAt: at }).where(inArray(credentials.id, [...new Set(list.map((u) => u.rowId))]));
    }) : null;
    if (used && rec.credentialRowId) used.push({ rowId: rec.credentialRowId, at: store.clock.now() });
    else if (rec.credentialRowId) {
      await preparedIn(store, tx, 'credentialLastUsed', (w) =>
        w.update(credentials).set({ lastUsedAt: sql.placeholder('now') as unknown as number }).where(eq(credentials.id, sql.placeholder('rowId'))),
      )({ now: store.clock.now(), rowId: rec.credentialRowId });
    }
    await appendAudit(store, tx, {
      actor: rec.actor,
      workspace: { id: ws.id, ref: ws.ref },
      action: 'toolkit.execute',
      target: `toolkit:${rec.toolkit.id}`,
      outcome: rec.outcome,
      details: { toolkit: rec.toolkit.name, toolkit_type: rec.toolkit.type, tool: rec.tool, ...rec.details },
    });
  });
}

/** A toolkit for one member: their status, whose credential a private-scope toolkit runs with, and
 *  the expiry word of the credential that would run. */
export type { MemberRun };

/**
 * Returns each toolkit's status for one member, resolved in memory from two queries for the
 * whole list (the project credentials the list points at or falls back to, and the member's own credentials).
 */
export async function toolkitStatuses(store: Store, ws: Workspace, userId: string, list: Toolkit[]): Promise<Map<number, MemberRun>> {
  const rowIds = list.flatMap((t) => [t.credential.scope === 'project' ? t.credential.rowId : null, t.credential.fallback?.rowId ?? null].filter((r): r is number => !!r));
  const byRow = new Map((await projectCandidatesByRow(store, ws, rowIds)).map((p) => [p.rowId, p]));
  const byId = new Map((await privateCandidates(store, userId)).map((p) => [p.credentialId, p]));
  const now = store.clock.now();
  const runs = new Map<number, MemberRun>();
  for (const t of list) {
    const kind = getToolkitType(t.type);
    const row = (id: number | null | undefined) => (id ? (byRow.get(id) ?? null) : null);
    const found =
      t.credential.scope === 'project'
        ? { projectCredential: row(t.credential.rowId) }
        : { privateCredential: byId.get(t.credential.credentialId) ?? null, fallbackCredential: row(t.credential.fallback?.rowId) };
    if (!kind) {
      runs.set(t.id, { status: 'credential_missing', expiry: 'none' });
      continue;
    }
    const r = resolveCredential(t.credential, kind.credentialTypes, found, now);
    runs.set(t.id, { status: statusOf(r), ...(r.ok && r.runsWith ? { runsWith: r.runsWith } : {}), expiry: r.ok ? expiryOf(r.credential.expiresAt, now) : r.reason === 'expired' ? 'expired' : 'none' });
  }
  return runs;
}

/**
 * Returns who in the project could not run this toolkit as configured (no matching private
 * credential, one of the wrong type, or a project credential that cannot serve it), and how many
 * members there are: the content of the Credential Configuration Change dialog and of the API's
 * members_without_credential. Names only.
 */
export async function membersNotReady(store: Store, ws: Workspace, t: Pick<Toolkit, 'type' | 'credential'>): Promise<{ affected: string[]; total: number }> {
  if (ws.kind !== 'project') return { affected: [], total: 0 };
  const accepted = getToolkitType(t.type)?.credentialTypes ?? [];
  if (t.credential.scope === 'project') {
    const members = await listMembers(store, ws);
    const ready = memberStatus(t.credential, accepted, await findResolutionCandidates(store, ws, t, ''), store.clock.now()) === 'ready';
    return { affected: ready ? [] : members.map((m) => m.username), total: members.length };
  }
  const members = await memberCredentials(store, ws, t.credential.credentialId);
  // Own credentials only, fallback or not: the answer names who has no matching credential of their own.
  const now = store.clock.now();
  const affected = members.filter((m) => memberStatus(t.credential, accepted, { privateCredential: m.credential }, now) !== 'ready').map((m) => m.username);
  return { affected, total: members.length };
}
