// The lucia adapter: sessions stored by the SHA-256 of their token (see src/auth/session.ts).
import { and, eq, lte, sql } from 'drizzle-orm';
import type { Adapter, DatabaseSession, DatabaseUser } from 'lucia';

import { prepared } from './prepared';
import { writeTx, type Store } from './store';
import { first } from './engine';
import type * as schema from '../../db/schema';

/** Returns a lucia Adapter over the sessions table; disabled users have no valid session. */
export function createSessionAdapter(store: Store): Adapter {
  const { sessions, users } = store.t;
  const db = store.db;
  const toSession = (s: typeof schema.sessions.$inferSelect): DatabaseSession => ({
    id: s.id,
    userId: s.userId,
    expiresAt: new Date(s.expiresAt * 1000),
    attributes: { createdAt: s.createdAt },
  });
  return {
    async getSessionAndUser(sessionId) {
      const row = first(await prepared(store, 'sessionAndUser', () =>
        db.select().from(sessions).innerJoin(users, eq(users.id, sessions.userId)).where(eq(sessions.id, sql.placeholder('id')))
      )({ id: sessionId }));
      if (!row || row.users.disabled) return [null, null];
      const user: DatabaseUser = { id: row.users.id, attributes: { username: row.users.username, isAdmin: row.users.isAdmin } };
      return [toSession(row.sessions), user];
    },
    async getUserSessions(userId) {
      return (await db.select().from(sessions).where(eq(sessions.userId, userId))).map(toSession);
    },
    async setSession(s) {
      const createdAt = (s.attributes as { createdAt?: number }).createdAt ?? store.clock.now();
      await writeTx(store, (tx) => tx.insert(sessions).values({ id: s.id, userId: s.userId, expiresAt: Math.floor(s.expiresAt.getTime() / 1000), createdAt }));
    },
    async updateSessionExpiration(sessionId, expiresAt) {
      await writeTx(store, (tx) => tx.update(sessions).set({ expiresAt: Math.floor(expiresAt.getTime() / 1000) }).where(eq(sessions.id, sessionId)));
    },
    async deleteSession(sessionId) {
      await writeTx(store, (tx) => tx.delete(sessions).where(eq(sessions.id, sessionId)));
    },
    async deleteUserSessions(userId) {
      await writeTx(store, (tx) => tx.delete(sessions).where(eq(sessions.userId, userId)));
    },
    async deleteExpiredSessions() {
      await writeTx(store, (tx) => tx.delete(sessions).where(and(lte(sessions.expiresAt, Math.floor(store.clock.now() / 1000)))));
    },
  };
}
