// The authorization server's tables: clients, grants (one person's consent for one client), and
// the codes and tokens of each grant, all by SHA-256 only. Exchanges run in one transaction each,
// so a code or refresh token is spent exactly once even with concurrent requests.
import { first, one } from './engine';
import type { GrantInfo } from '../domain/models';
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';

import { ACCESS_TOKEN_TTL_MS, judgeCodeExchange, judgeRefresh, REFRESH_TOKEN_TTL_MS, type ClientMetadata, type Failure } from '../domain/oauth';
import { appendAudit } from './audit';
import { prepared } from './prepared';
import { writeTx, type Store, type Tx } from './store';

export type OAuthClient = { rowId: number; clientId: string; kind: 'registered' | 'metadata'; name: string; redirectUris: string[]; createdAt: number };
export type { GrantInfo };
/** Hashes of a fresh access and refresh token pair (the tokens themselves never reach the store). */
export type TokenHashes = { accessHash: string; refreshHash: string };
export type RevokeReason = 'settings' | 'client' | 'code_reuse' | 'refresh_reuse' | 'deactivated';

import type { oauthClients } from '../../db/schema';

const toClient = (r: typeof oauthClients.$inferSelect): OAuthClient => ({
  rowId: r.id,
  clientId: r.clientId,
  kind: r.kind,
  name: r.name,
  redirectUris: JSON.parse(r.redirectUrisJson) as string[],
  createdAt: r.createdAt,
});

/** Returns the client with this client_id, or null. */
export async function findClient(store: Store, clientId: string): Promise<OAuthClient | null> {
  const { oauthClients } = store.t;
  const row = first(await store.db.select().from(oauthClients).where(eq(oauthClients.clientId, clientId)));
  return row ? toClient(row) : null;
}

/** Stores a client registered with POST /oauth/register and returns it. */
export async function insertRegisteredClient(store: Store, clientId: string, m: ClientMetadata): Promise<OAuthClient> {
  const { oauthClients } = store.t;
  const now = store.clock.now();
  const row = one(await writeTx(store, (tx) => tx
    .insert(oauthClients)
    .values({ clientId, kind: 'registered', name: m.name, redirectUrisJson: JSON.stringify(m.redirectUris), createdAt: now, updatedAt: now })
    .returning()));
  return toClient(row);
}

/** Stores (or refreshes) a client described by its metadata document and returns it. */
export async function saveMetadataClient(store: Store, clientId: string, m: ClientMetadata): Promise<OAuthClient> {
  const { oauthClients } = store.t;
  const now = store.clock.now();
  const values = { name: m.name, redirectUrisJson: JSON.stringify(m.redirectUris), updatedAt: now };
  const row = first(await writeTx(store, (tx) => tx
    .insert(oauthClients)
    .values({ clientId, kind: 'metadata', createdAt: now, ...values })
    .onConflictDoUpdate({ target: oauthClients.clientId, set: values, where: eq(oauthClients.kind, 'metadata') })
    .returning()));
  if (!row) throw new Error('a registered client already holds this metadata URL as its client_id');
  return toClient(row);
}

/** Records a person's consent and its first code; returns the grant's id. Audited as oauth.grant. */
export async function insertGrantWithCode(
  store: Store,
  user: { id: string; username: string },
  client: OAuthClient,
  g: { redirectUri: string; resource: string; codeHash: string; codeChallenge: string; expiresAt: number },
): Promise<number> {
  const { oauthCodes, oauthGrants } = store.t;
  return writeTx(store, async (tx) => {
    const now = store.clock.now();
    const grant = one(await tx
      .insert(oauthGrants)
      .values({ userId: user.id, clientRowId: client.rowId, clientName: client.name, redirectUri: g.redirectUri, resource: g.resource, createdAt: now })
      .returning({ id: oauthGrants.id }));
    await tx.insert(oauthCodes).values({ codeHash: g.codeHash, grantId: grant.id, codeChallenge: g.codeChallenge, expiresAt: g.expiresAt });
    await appendAudit(store, tx, {
      actor: user,
      workspace: null,
      action: 'oauth.grant',
      target: `oauth_grant:${grant.id}`,
      details: { client: client.name, client_id: client.clientId, redirect_host: new URL(g.redirectUri).host },
    });
    return grant.id;
  });
}

// Writes the access and refresh token rows of a grant, and drops its expired codes and tokens
// (a rotated refresh token is kept until it expires, so reuse is recognised until then).
async function insertTokenPair(store: Store, tx: Tx, grantId: number, resource: string, hashes: TokenHashes, now: number) {
  const { oauthCodes, oauthGrants, oauthTokens } = store.t;
  await tx.delete(oauthTokens).where(and(eq(oauthTokens.grantId, grantId), lt(oauthTokens.expiresAt, now)));
  await tx.delete(oauthCodes).where(and(eq(oauthCodes.grantId, grantId), lt(oauthCodes.expiresAt, now)));
  await tx.insert(oauthTokens)
    .values([
      { grantId, kind: 'access', tokenHash: hashes.accessHash, resource, expiresAt: now + ACCESS_TOKEN_TTL_MS, createdAt: now },
      { grantId, kind: 'refresh', tokenHash: hashes.refreshHash, resource, expiresAt: now + REFRESH_TOKEN_TTL_MS, createdAt: now },
    ]);
  await tx.update(oauthGrants).set({ lastUsedAt: now }).where(eq(oauthGrants.id, grantId));
}

// Ends a grant inside `tx`: every code and token goes, the grant stays (revoked) for the record.
async function revokeGrantTx(store: Store, tx: Tx, grantId: number, reason: RevokeReason): Promise<boolean> {
  const { oauthCodes, oauthGrants, oauthTokens, users } = store.t;
  const grant = first(await tx
    .update(oauthGrants)
    .set({ revokedAt: store.clock.now() })
    .where(and(eq(oauthGrants.id, grantId), isNull(oauthGrants.revokedAt)))
    .returning({ userId: oauthGrants.userId, clientName: oauthGrants.clientName }));
  if (!grant) return false;
  await tx.delete(oauthCodes).where(eq(oauthCodes.grantId, grantId));
  await tx.delete(oauthTokens).where(eq(oauthTokens.grantId, grantId));
  const actor = first(await tx.select({ id: users.id, username: users.username }).from(users).where(eq(users.id, grant.userId))) ?? null;
  await appendAudit(store, tx, { actor, workspace: null, action: 'oauth.revoke', target: `oauth_grant:${grantId}`, details: { client: grant.clientName, reason } });
  return true;
}

/** Ends every live grant of a person inside `tx` (deactivation); returns how many ended. */
export async function revokeUserGrantsTx(store: Store, tx: Tx, userId: string): Promise<number> {
  const { oauthGrants } = store.t;
  const live = await tx.select({ id: oauthGrants.id }).from(oauthGrants).where(and(eq(oauthGrants.userId, userId), isNull(oauthGrants.revokedAt)));
  let ended = 0;
  for (const g of live) if (await revokeGrantTx(store, tx, g.id, 'deactivated')) ended++;
  return ended;
}

export type Exchange = { ok: true; resource: string } | Failure;

/**
 * Spends an authorization code and stores the first token pair. A code presented again revokes
 * its grant (in the same transaction as the refusal is decided).
 */
export async function exchangeCode(
  store: Store,
  req: { codeHash: string; clientId: string; redirectUri: string; codeVerifier: string },
  hashes: TokenHashes,
): Promise<Exchange> {
  const { oauthClients, oauthCodes, oauthGrants } = store.t;
  return writeTx(store, async (tx) => {
    const now = store.clock.now();
    const row = first(await tx
      .select({ code: oauthCodes, grant: oauthGrants, clientId: oauthClients.clientId })
      .from(oauthCodes)
      .innerJoin(oauthGrants, eq(oauthGrants.id, oauthCodes.grantId))
      .innerJoin(oauthClients, eq(oauthClients.id, oauthGrants.clientRowId))
      .where(eq(oauthCodes.codeHash, req.codeHash)));
    if (!row) return { ok: false, reason: 'code_unknown' };
    const verdict = judgeCodeExchange(
      { ...row.code, clientId: row.clientId, redirectUri: row.grant.redirectUri, revoked: row.grant.revokedAt !== null },
      req,
      now,
    );
    if (!verdict.ok) {
      if (verdict.revokeGrant) await revokeGrantTx(store, tx, row.grant.id, 'code_reuse');
      else if (row.code.usedAt === null) await tx.update(oauthCodes).set({ usedAt: now }).where(eq(oauthCodes.codeHash, req.codeHash));
      return { ok: false, reason: verdict.reason };
    }
    await tx.update(oauthCodes).set({ usedAt: now }).where(eq(oauthCodes.codeHash, req.codeHash));
    await insertTokenPair(store, tx, row.grant.id, row.grant.resource, hashes, now);
    return { ok: true, resource: row.grant.resource };
  });
}

/** Spends a refresh token for a new pair (rotation); a rotated one presented again revokes the grant. */
export async function rotateRefreshToken(store: Store, req: { refreshHash: string; clientId: string }, hashes: TokenHashes): Promise<Exchange> {
  const { oauthClients, oauthGrants, oauthTokens } = store.t;
  return writeTx(store, async (tx) => {
    const now = store.clock.now();
    const row = first(await tx
      .select({ token: oauthTokens, grant: oauthGrants, clientId: oauthClients.clientId })
      .from(oauthTokens)
      .innerJoin(oauthGrants, eq(oauthGrants.id, oauthTokens.grantId))
      .innerJoin(oauthClients, eq(oauthClients.id, oauthGrants.clientRowId))
      .where(and(eq(oauthTokens.tokenHash, req.refreshHash), eq(oauthTokens.kind, 'refresh'))));
    if (!row) return { ok: false, reason: 'refresh_unknown' };
    const verdict = judgeRefresh({ ...row.token, clientId: row.clientId, revoked: row.grant.revokedAt !== null }, req, now);
    if (!verdict.ok) {
      if (verdict.revokeGrant) await revokeGrantTx(store, tx, row.grant.id, 'refresh_reuse');
      return { ok: false, reason: verdict.reason };
    }
    await tx.update(oauthTokens).set({ rotatedAt: now }).where(eq(oauthTokens.id, row.token.id));
    await insertTokenPair(store, tx, row.grant.id, row.token.resource, hashes, now);
    return { ok: true, resource: row.token.resource };
  });
}

/** Revokes one of the person's own grants (Settings); false when they have no live grant with that id. */
export async function revokeOwnGrant(store: Store, user: { id: string }, grantId: number): Promise<boolean> {
  const { oauthGrants } = store.t;
  return writeTx(store, async (tx) => {
    const own = first(await tx
      .select({ id: oauthGrants.id })
      .from(oauthGrants)
      .where(and(eq(oauthGrants.id, grantId), eq(oauthGrants.userId, user.id))));
    return own ? revokeGrantTx(store, tx, own.id, 'settings') : false;
  });
}

/**
 * Revokes the grant a token belongs to, when that token was issued to `clientId` (RFC 7009); an
 * unknown token or another client's is left alone, and the answer is the same either way.
 */
export async function revokeGrantByToken(store: Store, tokenHash: string, clientId: string): Promise<void> {
  const { oauthClients, oauthGrants, oauthTokens } = store.t;
  await writeTx(store, async (tx) => {
    const row = first(await tx
      .select({ grantId: oauthTokens.grantId, clientId: oauthClients.clientId })
      .from(oauthTokens)
      .innerJoin(oauthGrants, eq(oauthGrants.id, oauthTokens.grantId))
      .innerJoin(oauthClients, eq(oauthClients.id, oauthGrants.clientRowId))
      .where(eq(oauthTokens.tokenHash, tokenHash)));
    if (row && row.clientId === clientId) await revokeGrantTx(store, tx, row.grantId, 'client');
  });
}

/** Returns the person's live grants, newest first. */
export async function listGrants(store: Store, userId: string): Promise<GrantInfo[]> {
  const { oauthGrants } = store.t;
  return (await store.db
    .select({ id: oauthGrants.id, clientName: oauthGrants.clientName, redirectUri: oauthGrants.redirectUri, createdAt: oauthGrants.createdAt, lastUsedAt: oauthGrants.lastUsedAt })
    .from(oauthGrants)
    .where(and(eq(oauthGrants.userId, userId), isNull(oauthGrants.revokedAt)))
    .orderBy(desc(oauthGrants.id)))
    .map(({ redirectUri, ...g }) => ({ ...g, redirectHost: new URL(redirectUri).host }));
}

const TOUCH_EVERY_MS = 60_000;

/**
 * Returns who a live access token acts for: its grant not revoked, the token not expired, the
 * person not disabled. Notes the grant's last use (at most once a minute).
 */
export async function findAccessToken(
  store: Store,
  tokenHash: string,
): Promise<{ user: { id: string; username: string; isAdmin: boolean }; clientName: string; resource: string } | null> {
  const { oauthGrants, oauthTokens, users } = store.t;
  const row = first(await prepared(store, 'oauthAccessToken', () =>
    store.db
      .select({
        grantId: oauthGrants.id,
        userId: oauthGrants.userId,
        clientName: oauthGrants.clientName,
        lastUsedAt: oauthGrants.lastUsedAt,
        revokedAt: oauthGrants.revokedAt,
        resource: oauthTokens.resource,
        expiresAt: oauthTokens.expiresAt,
        username: users.username,
        isAdmin: users.isAdmin,
        disabled: users.disabled,
      })
      .from(oauthTokens)
      .innerJoin(oauthGrants, eq(oauthGrants.id, oauthTokens.grantId))
      .innerJoin(users, eq(users.id, oauthGrants.userId))
      .where(and(eq(oauthTokens.tokenHash, sql.placeholder('hash')), eq(oauthTokens.kind, 'access')))
      
  )({ hash: tokenHash }));
  const now = store.clock.now();
  if (!row || row.revokedAt !== null || row.disabled || now >= row.expiresAt) return null;
  if (row.lastUsedAt === null || now - row.lastUsedAt > TOUCH_EVERY_MS) {
    await writeTx(store, (tx) => tx
      .update(oauthGrants)
      .set({ lastUsedAt: now })
      .where(and(eq(oauthGrants.id, row.grantId), or(isNull(oauthGrants.lastUsedAt), lt(oauthGrants.lastUsedAt, now - TOUCH_EVERY_MS)))));
  }
  return { user: { id: row.userId, username: row.username, isAdmin: row.isAdmin }, clientName: row.clientName, resource: row.resource };
}
