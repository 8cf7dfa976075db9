// Personal access tokens: only their SHA-256 is stored; the token is shown once.
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { apiTokens, users } from '../../db/schema';
import { appendAudit } from './audit';
import { prepared } from './prepared';
import { writeTx, type Store } from './store';

import type { ApiTokenInfo } from '../domain/models';

export type { ApiTokenInfo };

/** Stores a token hash for the user and records it; returns the new token's id. */
export async function insertApiToken(store: Store, user: { id: string; username: string }, name: string, tokenHash: string): Promise<number> {
  return writeTx(store, (tx) => {
    const row = tx.insert(apiTokens).values({ userId: user.id, name, tokenHash }).returning({ id: apiTokens.id }).get();
    appendAudit(store, tx, { actor: user, workspace: null, action: 'token.create', target: `token:${row.id}`, details: { name } });
    return row.id;
  });
}

/** Returns the user's tokens, newest first (never the token itself, which is not stored). */
export async function listApiTokens(store: Store, userId: string): Promise<ApiTokenInfo[]> {
  return store.db
    .select({ id: apiTokens.id, name: apiTokens.name, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .where(eq(apiTokens.userId, userId))
    .orderBy(desc(apiTokens.id))
    .all();
}

/** Deletes one of the user's own tokens; false when the user has no token with that id. */
export async function revokeApiToken(store: Store, user: { id: string; username: string }, tokenId: number): Promise<boolean> {
  return writeTx(store, (tx) => {
    const gone = tx.delete(apiTokens).where(and(eq(apiTokens.id, tokenId), eq(apiTokens.userId, user.id))).returning({ name: apiTokens.name }).get();
    if (!gone) return false;
    appendAudit(store, tx, { actor: user, workspace: null, action: 'token.revoke', target: `token:${tokenId}`, details: { name: gone.name } });
    return true;
  });
}

const TOUCH_EVERY_MS = 60_000;

/** Returns the enabled user a token hash belongs to, noting when it was last used (at most once a minute). */
export async function findUserByTokenHash(store: Store, tokenHash: string): Promise<{ id: string; username: string; isAdmin: boolean } | null> {
  const row = prepared(store.db, 'userByTokenHash', () =>
    store.db
      .select({ tokenId: apiTokens.id, lastUsedAt: apiTokens.lastUsedAt, id: users.id, username: users.username, isAdmin: users.isAdmin, disabled: users.disabled })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .where(eq(apiTokens.tokenHash, sql.placeholder('hash')))
      .prepare(),
  ).get({ hash: tokenHash });
  if (!row || row.disabled) return null;
  const now = store.clock.now();
  if (row.lastUsedAt === null || now - row.lastUsedAt > TOUCH_EVERY_MS) {
    store.db
      .update(apiTokens)
      .set({ lastUsedAt: now })
      .where(and(eq(apiTokens.id, row.tokenId), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, now - TOUCH_EVERY_MS))))
      .run();
  }
  return { id: row.id, username: row.username, isAdmin: row.isAdmin };
}
