// Connected accounts in the database: the connect flows in progress (`oauth_client_states`, the
// state stored as its SHA-256, single-use), saving a connected credential (its access and refresh
// tokens sealed like any secret), and the refresh lease that lets one instance at a time refresh a
// credential (a conditional UPDATE inside an IMMEDIATE transaction: the database is the lock).
import { first, one } from './engine';
import { createHash } from 'node:crypto';
import { and, eq, isNull, lt, or } from 'drizzle-orm';

import { appendAudit } from './audit';
import { openCredentialSecrets, sealCredentialSecrets, toMeta } from './credentials';
import { writeTx, type Store } from './store';
import type { CredentialMeta, Workspace } from '../domain/models';

const STATE_TTL_MS = 10 * 60_000;
const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

export type ConnectState = { userId: string; appName: string; credentialId: string; codeVerifier: string; returnTo: string; reconnect: boolean };

/** Stores a new flow's state (as its hash) for 10 minutes; expired ones are swept on the way. */
export async function saveConnectState(store: Store, state: string, s: ConnectState): Promise<void> {
  const { oauthClientStates } = store.t;
  const now = store.clock.now();
  await writeTx(store, async (tx) => {
    await tx.delete(oauthClientStates).where(lt(oauthClientStates.expiresAt, now));
    await tx.insert(oauthClientStates).values({ stateHash: hashState(state), ...s, expiresAt: now + STATE_TTL_MS });
  });
}

export type StateCheck = { ok: true; state: ConnectState } | { ok: false; reason: 'unknown_state' | 'other_person' | 'expired' | 'other_app' };

/**
 * Takes a flow's state for this person and app: deleted on the way (single use, even when two
 * callbacks race), except when it belongs to someone else, whose flow stays untouched.
 */
export async function takeConnectState(store: Store, state: string, userId: string, appName: string): Promise<StateCheck> {
  const { oauthClientStates } = store.t;
  const now = store.clock.now();
  return writeTx(store, async (tx): Promise<StateCheck> => {
    const row = first(await tx.select().from(oauthClientStates).where(eq(oauthClientStates.stateHash, hashState(state))));
    if (!row) return { ok: false, reason: 'unknown_state' };
    if (row.userId !== userId) return { ok: false, reason: 'other_person' };
    await tx.delete(oauthClientStates).where(eq(oauthClientStates.stateHash, row.stateHash));
    if (row.expiresAt <= now) return { ok: false, reason: 'expired' };
    if (row.appName !== appName) return { ok: false, reason: 'other_app' };
    const { stateHash: _h, expiresAt: _e, ...s } = row;
    return { ok: true, state: s };
  });
}

export type ConnectedInput = {
  credentialId: string;
  name: string;
  type: string;
  fields: Record<string, string>;
  appName: string;
  account: string | null;
  secrets: { access_token: string; refresh_token?: string };
  /** From connectedSchedule (src/connect/token-client.ts): the access token's schedule and the credential's expiry. */
  schedule: ConnectedTimes;
};

/** A connected credential's times (ms): the access token's expiry and refresh time, and the credential's own `expiresAt`. */
export type ConnectedTimes = { tokenExpiresAt: number | null; tokenRefreshAt: number | null; expiresAt: number | null };

export type ConnectedSave = { ok: true; credential: CredentialMeta; reconnected: boolean } | { ok: false; reason: 'credential_id_taken' };

/**
 * Saves a connected account as a private credential of `ws` (the person's Private workspace): new,
 * or replacing the tokens of the connected credential with that ID (a reconnect, same ID). A
 * pasted-secret credential with that ID is never overwritten. Audited without any token.
 */
export async function saveConnectedCredential(store: Store, actor: { id: string; username: string }, ws: Workspace, input: ConnectedInput): Promise<ConnectedSave> {
  const { credentials } = store.t;
  return writeTx(store, async (tx): Promise<ConnectedSave> => {
    const existing = first(await tx.select().from(credentials).where(and(eq(credentials.workspaceId, ws.id), eq(credentials.credentialId, input.credentialId))));
    if (existing && !existing.connectedApp) return { ok: false, reason: 'credential_id_taken' };
    const now = store.clock.now();
    const set = {
      type: input.type,
      fieldsJson: JSON.stringify(input.fields),
      connectedApp: input.appName,
      connectedAccount: input.account,
      connectionStatus: 'active' as const,
      tokenExpiresAt: input.schedule.tokenExpiresAt,
      tokenRefreshAt: input.schedule.tokenRefreshAt,
      expiresAt: input.schedule.expiresAt,
      refreshingUntil: null,
      updatedAt: now,
    };
    const row = existing
      ? one(await tx.update(credentials).set(set).where(eq(credentials.id, existing.id)).returning())
      : one(await tx.insert(credentials).values({ workspaceId: ws.id, credentialId: input.credentialId, name: input.name, createdBy: actor.id, ...set }).returning());
    await sealCredentialSecrets(store, tx, ws, row.id, input.secrets);
    await appendAudit(store, tx, {
      actor,
      workspace: { id: ws.id, ref: ws.ref },
      action: existing ? 'credential.reconnect' : 'credential.connect',
      target: `credential:${input.credentialId}`,
      details: { scope: 'private', type: input.type, app: input.appName, account: input.account, secrets: Object.keys(input.secrets) },
    });
    return { ok: true, credential: toMeta(row, ws, existing ? null : actor.username), reconnected: !!existing };
  });
}

// ---------------------------------------------------------------------------------------------
// Refresh

/** A connected credential as a run sees it: its state, and its secrets opened for the call. */
export type Connection = {
  rowId: number;
  credentialId: string;
  appName: string;
  status: 'active' | 'reconnect_required';
  refreshAt: number | null;
  /** The credential's own expiry (kept by a refresh that does not rotate the refresh token). */
  expiresAt: number | null;
  refreshingUntil: number | null;
  secrets: Record<string, string>;
  owner: { id: string; username: string | null; workspaceId: number };
};

/** Reads a connected credential (a private one: the owner's workspace is its binding), or null. */
export async function readConnection(store: Store, rowId: number): Promise<Connection | null> {
  const { credentials, workspaces } = store.t;
  const r = first(await store.db
    .select({ c: credentials, ownerUserId: workspaces.ownerUserId })
    .from(credentials)
    .innerJoin(workspaces, eq(workspaces.id, credentials.workspaceId))
    .where(eq(credentials.id, rowId)));
  if (!r || !r.c.connectedApp || !r.ownerUserId) return null;
  const owner = { kind: 'private' as const, id: r.c.workspaceId, ownerUserId: r.ownerUserId };
  return {
    rowId,
    credentialId: r.c.credentialId,
    appName: r.c.connectedApp,
    status: r.c.connectionStatus ?? 'active',
    refreshAt: r.c.tokenRefreshAt,
    expiresAt: r.c.expiresAt,
    refreshingUntil: r.c.refreshingUntil,
    secrets: openCredentialSecrets(store, r.c, owner),
    owner: { id: r.ownerUserId, username: null, workspaceId: r.c.workspaceId },
  };
}

/** Claims the refresh lease of a credential until `until`; false when another refresh holds it. */
export async function claimRefresh(store: Store, rowId: number, until: number): Promise<boolean> {
  const { credentials } = store.t;
  const now = store.clock.now();
  return writeTx(store, async (tx) =>
    (await tx
      .update(credentials)
      .set({ refreshingUntil: until })
      .where(and(eq(credentials.id, rowId), eq(credentials.connectionStatus, 'active'), or(isNull(credentials.refreshingUntil), lt(credentials.refreshingUntil, now))))
      .returning({ id: credentials.id })).length === 1,
  );
}

/** Lets go of the refresh lease without a change (the token endpoint could not be reached). */
export async function releaseRefresh(store: Store, rowId: number): Promise<void> {
  const { credentials } = store.t;
  await writeTx(store, (tx) => tx.update(credentials).set({ refreshingUntil: null }).where(eq(credentials.id, rowId)));
}

/** Stores a refreshed access token with its (possibly rotated) refresh token in one transaction, and frees the lease. */
export async function storeRefreshed(store: Store, conn: Connection, secrets: Record<string, string>, schedule: ConnectedTimes): Promise<void> {
  const { credentials } = store.t;
  await writeTx(store, async (tx) => {
    const ws = { kind: 'private' as const, id: conn.owner.workspaceId, ownerUserId: conn.owner.id };
    await sealCredentialSecrets(store, tx, ws, conn.rowId, secrets);
    await tx
      .update(credentials)
      .set({ tokenExpiresAt: schedule.tokenExpiresAt, tokenRefreshAt: schedule.tokenRefreshAt, expiresAt: schedule.expiresAt, refreshingUntil: null, connectionStatus: 'active' })
      .where(eq(credentials.id, conn.rowId));
  });
}

/** Marks a credential reconnect_required and audits credential.refresh_failed (the owner as actor, in their Private workspace). */
export async function markReconnectRequired(store: Store, conn: Connection, error: string): Promise<void> {
  const { credentials, users } = store.t;
  await writeTx(store, async (tx) => {
    await tx.update(credentials).set({ connectionStatus: 'reconnect_required', refreshingUntil: null }).where(eq(credentials.id, conn.rowId));
    const owner = first(await tx.select({ id: users.id, username: users.username }).from(users).where(eq(users.id, conn.owner.id)));
    await appendAudit(store, tx, {
      actor: owner ? { id: owner.id, username: owner.username } : null,
      workspace: { id: conn.owner.workspaceId, ref: 'private' },
      action: 'credential.refresh_failed',
      target: `credential:${conn.credentialId}`,
      outcome: 'failure',
      details: { scope: 'private', app: conn.appName, error },
    });
  });
}
