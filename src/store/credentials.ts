// Credentials: metadata in the clear, secrets sealed with a per-credential data key that is
// wrapped by the master key (src/crypto/envelope.ts). Every function takes the workspace it acts
// in, already checked against the caller, and filters by it in the same query.
import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';

import { createDataKey, openSecrets, sealSecrets, unwrapDataKey, wrapDataKey } from '../crypto/envelope';
import { appendAudit, type AuditActor } from './audit';
import { credentialBinding } from './keys';
import { writeTx, type Store, type Tx } from './store';
import { first, one, type Tables } from './engine';
import type { credentials } from '../../db/schema';
import { getToolkitType } from '../toolkits';
import type { CredentialMeta, ToolkitRef, Workspace } from '../domain/models';

type Row = typeof credentials.$inferSelect;

export type { CredentialMeta, ToolkitRef };

/** The metadata of a credential row as pages and the API see it (never a secret). */
export function toMeta(r: Row, ws: Pick<Workspace, 'kind'>, createdBy: string | null): CredentialMeta {
  return {
    rowId: r.id,
    credentialId: r.credentialId,
    name: r.name,
    type: r.type,
    scope: ws.kind === 'project' ? 'project' : 'private',
    fields: JSON.parse(r.fieldsJson),
    createdBy,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    lastUsedAt: r.lastUsedAt,
    lastTest: r.lastTestAt ? { at: r.lastTestAt, ok: !!r.lastTestOk, message: r.lastTestMessage ?? '' } : null,
    expiresAt: r.expiresAt,
    ...(r.connectedApp ? { connection: { app: r.connectedApp, account: r.connectedAccount, status: r.connectionStatus ?? 'active' } } : {}),
  };
}

const withCreator = ({ credentials, users }: Tables) => ({ c: credentials, createdBy: users.username });

export type CredentialFilter = { type?: string; q?: string };

function filterConditions({ credentials }: Tables, ws: Workspace, filter: CredentialFilter) {
  const conds = [eq(credentials.workspaceId, ws.id)];
  if (filter.type) conds.push(eq(credentials.type, filter.type));
  if (filter.q) {
    const pattern = `%${filter.q.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    conds.push(or(sql`lower(${credentials.name}) LIKE ${pattern} ESCAPE '\\'`, sql`${credentials.credentialId} LIKE ${pattern} ESCAPE '\\'`)!);
  }
  return and(...conds);
}

/** Returns the workspace's credentials by name, optionally filtered and one page at a time. */
export async function listCredentials(store: Store, ws: Workspace, filter: CredentialFilter = {}, page?: { limit: number; offset: number }): Promise<CredentialMeta[]> {
  const { credentials, users } = store.t;
  const q = store.db
    .select(withCreator(store.t))
    .from(credentials)
    .leftJoin(users, eq(users.id, credentials.createdBy))
    .where(filterConditions(store.t, ws, filter))
    .orderBy(asc(sql`lower(${credentials.name})`), asc(credentials.id));
  return (await (page ? q.limit(page.limit).offset(page.offset) : q)).map((r) => toMeta(r.c, ws, r.createdBy));
}

/** Returns how many credentials of the workspace match the filter. */
export async function countCredentials(store: Store, ws: Workspace, filter: CredentialFilter = {}): Promise<number> {
  const { credentials } = store.t;
  return first(await store.db.select({ n: sql<number>`count(*)` }).from(credentials).where(filterConditions(store.t, ws, filter)))!.n;
}

/** Returns one credential of the workspace by its Credential ID, or null. */
export async function getCredential(store: Store, ws: Workspace, credentialId: string): Promise<CredentialMeta | null> {
  const { credentials, users } = store.t;
  const r = first(await store.db
    .select(withCreator(store.t))
    .from(credentials)
    .leftJoin(users, eq(users.id, credentials.createdBy))
    .where(and(eq(credentials.workspaceId, ws.id), eq(credentials.credentialId, credentialId))));
  return r ? toMeta(r.c, ws, r.createdBy) : null;
}

/** Returns the Credential IDs already used in the workspace. */
export async function credentialIdsInUse(store: Store, ws: Workspace): Promise<Set<string>> {
  const { credentials } = store.t;
  return new Set((await store.db.select({ id: credentials.credentialId }).from(credentials).where(eq(credentials.workspaceId, ws.id))).map((r) => r.id));
}

/** Seals a credential's secrets under a fresh data key, inside the caller's transaction. */
export async function sealCredentialSecrets(store: Store, tx: Tx, ws: Pick<Workspace, 'kind' | 'id' | 'ownerUserId'>, rowId: number, secrets: Record<string, string>) {
  const { credentials } = store.t;
  const binding = credentialBinding(rowId, ws);
  const dataKey = createDataKey();
  await tx.update(credentials)
    .set({ wrappedKey: wrapDataKey(store.ring, dataKey, binding), secretBlob: sealSecrets(dataKey, secrets, binding), keyId: store.ring.active.id })
    .where(eq(credentials.id, rowId));
}

/** Returns the decrypted secrets of a credential row (only for an outbound call, never for display). */
export function openCredentialSecrets(store: Store, row: Pick<Row, 'id' | 'wrappedKey' | 'secretBlob'>, ws: Pick<Workspace, 'kind' | 'id' | 'ownerUserId'>): Record<string, string> {
  if (!row.wrappedKey || !row.secretBlob) return {};
  const binding = credentialBinding(row.id, ws);
  return openSecrets(unwrapDataKey(store.ring, row.wrappedKey, binding), row.secretBlob, binding);
}

export type CredentialInput = { name: string; credentialId: string; type: string; fields: Record<string, string>; secrets: Record<string, string>; expiresAt?: number | null };
export type CredentialWrite = { ok: true; credential: CredentialMeta } | { ok: false; reason: 'credential_id_taken' | 'not_found' };

async function idTaken(store: Store, tx: Tx, ws: Workspace, credentialId: string): Promise<boolean> {
  const { credentials } = store.t;
  return !!first(await tx.select({ id: credentials.id }).from(credentials).where(and(eq(credentials.workspaceId, ws.id), eq(credentials.credentialId, credentialId))));
}

/** Stores a new credential with its secrets sealed; the audit event holds field names only. */
export async function createCredential(store: Store, actor: { id: string; username: string }, ws: Workspace, input: CredentialInput): Promise<CredentialWrite> {
  const { credentials } = store.t;
  return writeTx(store, async (tx) => {
    if (await idTaken(store, tx, ws, input.credentialId)) return { ok: false, reason: 'credential_id_taken' } as const;
    const row = one(await tx
      .insert(credentials)
      .values({ workspaceId: ws.id, credentialId: input.credentialId, name: input.name, type: input.type, fieldsJson: JSON.stringify(input.fields), createdBy: actor.id, expiresAt: input.expiresAt ?? null })
      .returning());
    await sealCredentialSecrets(store, tx, ws, row.id, input.secrets);
    await appendAudit(store, tx, {
      actor,
      workspace: { id: ws.id, ref: ws.ref },
      action: 'credential.create',
      target: `credential:${input.credentialId}`,
      details: { scope: ws.kind === 'project' ? 'project' : 'private', type: input.type, name: input.name, fields: Object.keys(input.fields), secrets: Object.keys(input.secrets) },
    });
    return { ok: true, credential: toMeta(row, ws, actor.username) } as const;
  });
}

/** `expiresAt`: undefined keeps it, null clears it. */
export type CredentialPatch = { name?: string; credentialId?: string; fields?: Record<string, string>; secrets?: Record<string, string>; expiresAt?: number | null };

/**
 * Updates a credential. Secrets not given keep their value (a blank form field means "keep");
 * given ones are merged in and everything is sealed again under a fresh data key.
 */
export async function updateCredential(store: Store, actor: AuditActor, ws: Workspace, credentialId: string, patch: CredentialPatch): Promise<CredentialWrite> {
  const { credentials, toolkits, users } = store.t;
  return writeTx(store, async (tx) => {
    const row = first(await tx.select().from(credentials).where(and(eq(credentials.workspaceId, ws.id), eq(credentials.credentialId, credentialId))));
    if (!row) return { ok: false, reason: 'not_found' } as const;
    const changed: string[] = [];
    const set: Partial<Row> = {};
    if (patch.name !== undefined && patch.name !== row.name) {
      set.name = patch.name;
      changed.push('name');
    }
    if (patch.credentialId !== undefined && patch.credentialId !== row.credentialId) {
      if (await idTaken(store, tx, ws, patch.credentialId)) return { ok: false, reason: 'credential_id_taken' } as const;
      set.credentialId = patch.credentialId;
      changed.push('credential_id');
      // Project toolkits point at the row; keep the ID they display in step.
      await tx.update(toolkits).set({ credentialId: patch.credentialId }).where(eq(toolkits.credentialRowId, row.id));
      await tx.update(toolkits).set({ fallbackCredentialId: patch.credentialId }).where(eq(toolkits.fallbackRowId, row.id));
    }
    if (patch.expiresAt !== undefined && patch.expiresAt !== row.expiresAt) {
      set.expiresAt = patch.expiresAt;
      changed.push('expires_at');
    }
    if (patch.fields) {
      const before = JSON.parse(row.fieldsJson) as Record<string, string>;
      for (const k of new Set([...Object.keys(before), ...Object.keys(patch.fields)])) if (before[k] !== patch.fields[k]) changed.push(`fields.${k}`);
      set.fieldsJson = JSON.stringify(patch.fields);
    }
    const newSecrets = patch.secrets && Object.keys(patch.secrets).length ? patch.secrets : null;
    if (newSecrets) for (const k of Object.keys(newSecrets)) changed.push(`secrets.${k}`);
    const now = store.clock.now();
    if (changed.length) {
      await tx.update(credentials).set({ ...set, updatedAt: now }).where(eq(credentials.id, row.id));
      if (newSecrets) await sealCredentialSecrets(store, tx, ws, row.id, { ...openCredentialSecrets(store, row, ws), ...newSecrets });
      await appendAudit(store, tx, {
        actor,
        workspace: { id: ws.id, ref: ws.ref },
        action: 'credential.update',
        target: `credential:${set.credentialId ?? row.credentialId}`,
        details: { scope: ws.kind === 'project' ? 'project' : 'private', changed, ...(set.credentialId ? { previous_credential_id: row.credentialId } : {}) },
      });
    }
    const updated = first(await tx.select().from(credentials).where(eq(credentials.id, row.id)))!;
    const creator = row.createdBy ? first(await tx.select({ u: users.username }).from(users).where(eq(users.id, row.createdBy)))?.u ?? null : null;
    return { ok: true, credential: toMeta(updated, ws, creator) } as const;
  });
}

/** Deletes a credential (secure_delete overwrites its bytes); false when it does not exist here. */
export async function deleteCredential(store: Store, actor: AuditActor, ws: Workspace, credentialId: string): Promise<boolean> {
  const { credentials } = store.t;
  return writeTx(store, async (tx) => {
    const row = first(await tx.select().from(credentials).where(and(eq(credentials.workspaceId, ws.id), eq(credentials.credentialId, credentialId))));
    if (!row) return false;
    await tx.delete(credentials).where(eq(credentials.id, row.id));
    await appendAudit(store, tx, {
      actor,
      workspace: { id: ws.id, ref: ws.ref },
      action: 'credential.delete',
      target: `credential:${credentialId}`,
      details: { scope: ws.kind === 'project' ? 'project' : 'private', type: row.type, name: row.name },
    });
    return true;
  });
}

/** Returns a credential of the workspace with its secrets, for a connection test or an execute. */
export async function loadCredentialForUse(store: Store, ws: Workspace, credentialId: string) {
  const { credentials } = store.t;
  const row = first(await store.db.select().from(credentials).where(and(eq(credentials.workspaceId, ws.id), eq(credentials.credentialId, credentialId))));
  if (!row) return null;
  return { row, fields: JSON.parse(row.fieldsJson) as Record<string, string>, secrets: openCredentialSecrets(store, row, ws) };
}

/** Keeps the outcome of the last connection test (the message is already scrubbed of secrets); an
 *  expiry the service reported replaces the one that was typed, except on a connected account,
 *  whose expiry follows its token answers (connectedSchedule): the service would report the
 *  access token's, which a refresh renews. */
export async function recordConnectionTest(store: Store, ws: Workspace, rowId: number, result: { ok: boolean; message: string; expiresAt?: number }): Promise<void> {
  const { credentials } = store.t;
  await writeTx(store, (tx) => tx
    .update(credentials)
    .set({ lastTestAt: store.clock.now(), lastTestOk: result.ok, lastTestMessage: result.message.slice(0, 500), ...(result.expiresAt !== undefined ? { expiresAt: sql`CASE WHEN ${credentials.connectedApp} IS NULL THEN ${result.expiresAt} ELSE ${credentials.expiresAt} END` } : {}) })
    .where(and(eq(credentials.id, rowId), eq(credentials.workspaceId, ws.id))));
}


/**
 * Returns the toolkits that would run with this credential (the usage API, the "Used by" section,
 * the delete confirmation): for a project credential, the project's toolkits naming it directly
 * or as fallback; for a private one, the private-scope toolkits naming its Credential ID, in the
 * owner's Private workspace or a project the owner belongs to, whose toolkit type accepts its type.
 */
export async function toolkitsUsingCredential(store: Store, ws: Workspace, cred: Pick<CredentialMeta, 'rowId' | 'credentialId' | 'type'>): Promise<ToolkitRef[]> {
  const { memberships, toolkits, workspaces } = store.t;
  if (ws.kind === 'project') {
    return await store.db
      .select({ id: toolkits.id, name: toolkits.name, workspace: sql<string>`CAST(${ws.ref} AS TEXT)`, workspaceName: sql<string>`CAST(${ws.name} AS TEXT)` })
      .from(toolkits)
      .where(
        and(
          eq(toolkits.workspaceId, ws.id),
          or(
            eq(toolkits.credentialRowId, cred.rowId),
            // A private-scope toolkit whose fallback is this credential (members without their own run with it).
            eq(toolkits.fallbackRowId, cred.rowId),
          ),
        ),
      )
      .orderBy(asc(toolkits.name));
  }
  const userId = ws.ownerUserId!;
  const projectIds = (await store.db.select({ id: memberships.workspaceId }).from(memberships).where(eq(memberships.userId, userId))).map((r) => r.id);
  const rows = await store.db
    .select({ id: toolkits.id, name: toolkits.name, type: toolkits.type, workspace: sql<string>`coalesce(${workspaces.slug}, 'private')`, workspaceName: workspaces.name })
    .from(toolkits)
    .innerJoin(workspaces, eq(workspaces.id, toolkits.workspaceId))
    .where(and(eq(toolkits.credentialScope, 'private'), eq(toolkits.credentialId, cred.credentialId), inArray(toolkits.workspaceId, [ws.id, ...projectIds])))
    .orderBy(sql`${workspaces.kind} = 'project'`, asc(workspaces.name), asc(toolkits.name));
  // A toolkit of a type that does not take this credential's type would not run with it.
  return rows.filter((r) => getToolkitType(r.type)?.credentialTypes.includes(cred.type)).map(({ type: _type, ...ref }) => ref);
}
