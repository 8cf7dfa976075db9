// Personal access tokens: only their SHA-256 is stored; the token is shown once.
import { first, one } from './engine';
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';

import { appendAudit } from './audit';
import { prepared } from './prepared';
import { writeTx, type Store } from './store';

import type { ApiTokenInfo } from '../domain/models';

export type { ApiTokenInfo };

export type TokenInsert = { ok: true; id: number; name: string } | { ok: false; reason: 'name_taken' };

/**
 * Stores a token hash for the user under a name that is unique among their tokens, and records
 * it. A taken name is refused, or with `renameIfTaken` the first free of name-2, name-3… is used
 * (the CLI's default name, so `token create alice` keeps working every time).
 */
export async function insertApiToken(store: Store, user: { id: string; username: string }, name: string, tokenHash: string, opts: { renameIfTaken?: boolean } = {}): Promise<TokenInsert> {
  const { apiTokens } = store.t;
  return writeTx(store, async (tx) => {
    const taken = async (n: string) => !!first(await tx.select({ id: apiTokens.id }).from(apiTokens).where(and(eq(apiTokens.userId, user.id), eq(apiTokens.name, n))));
    let free = name;
    for (let n = 2; await taken(free); n++) {
      if (!opts.renameIfTaken) return { ok: false, reason: 'name_taken' } as const;
      free = `${name}-${n}`;
    }
    const row = one(await tx.insert(apiTokens).values({ userId: user.id, name: free, tokenHash }).returning({ id: apiTokens.id }));
    await appendAudit(store, tx, { actor: user, workspace: null, action: 'token.create', target: `token:${row.id}`, details: { name: free } });
    return { ok: true, id: row.id, name: free } as const;
  });
}

/** Returns the user's tokens, newest first (never the token itself, which is not stored). */
export async function listApiTokens(store: Store, userId: string): Promise<ApiTokenInfo[]> {
  const { apiTokens } = store.t;
  return await store.db
    .select({ id: apiTokens.id, name: apiTokens.name, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .where(eq(apiTokens.userId, userId))
    .orderBy(desc(apiTokens.id));
}

/** Deletes one of the user's own tokens, by id or by name; false when the user has no such token. */
export async function revokeApiToken(store: Store, user: { id: string; username: string }, which: { id: number } | { name: string }): Promise<boolean> {
  const { apiTokens } = store.t;
  return writeTx(store, async (tx) => {
    const match = 'id' in which ? eq(apiTokens.id, which.id) : eq(apiTokens.name, which.name);
    const gone = first(await tx.delete(apiTokens).where(and(match, eq(apiTokens.userId, user.id))).returning({ id: apiTokens.id, name: apiTokens.name }));
    if (!gone) return false;
    await appendAudit(store, tx, { actor: user, workspace: null, action: 'token.revoke', target: `token:${gone.id}`, details: { name: gone.name } });
    return true;
  });
}

const TOUCH_EVERY_MS = 60_000;

/** Returns the enabled user a token hash belongs to, noting when it was last used (at most once a minute). */
export async function findUserByTokenHash(store: Store, tokenHash: string): Promise<{ id: string; username: string; isAdmin: boolean } | null> {
  const { apiTokens, users } = store.t;
  const row = first(await prepared(store, 'userByTokenHash', () =>
    store.db
      .select({ tokenId: apiTokens.id, lastUsedAt: apiTokens.lastUsedAt, id: users.id, username: users.username, isAdmin: users.isAdmin, disabled: users.disabled })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .where(eq(apiTokens.tokenHash, sql.placeholder('hash')))
      
  )({ hash: tokenHash }));
  if (!row || row.disabled) return null;
  const now = store.clock.now();
  if (row.lastUsedAt === null || now - row.lastUsedAt > TOUCH_EVERY_MS) {
    await writeTx(store, (tx) => tx
      .update(apiTokens)
      .set({ lastUsedAt: now })
      .where(and(eq(apiTokens.id, row.tokenId), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, now - TOUCH_EVERY_MS)))));
  }
  return { id: row.id, username: row.username, isAdmin: row.isAdmin };
}
