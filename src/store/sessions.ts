// The lucia adapter: sessions stored by the SHA-256 of their token (see src/auth/session.ts).
import { and, eq, lte, sql } from 'drizzle-orm';
import type { Adapter, DatabaseSession, DatabaseUser } from 'lucia';
import { sessions, users } from '../../db/schema';
import { prepared } from './prepared';
import type { Store } from './store';

/** Returns a lucia Adapter over the sessions table; disabled users have no valid session. */
export function createSessionAdapter(store: Store): Adapter {
  const db = store.db;
  const toSession = (s: typeof sessions.$inferSelect): DatabaseSession => ({
    id: s.id,
    userId: s.userId,
    expiresAt: new Date(s.expiresAt * 1000),
    attributes: { createdAt: s.createdAt },
  });
  return {
    async getSessionAndUser(sessionId) {
      const row = prepared(db, 'sessionAndUser', () =>
        db.select().from(sessions).innerJoin(users, eq(users.id, sessions.userId)).where(eq(sessions.id, sql.placeholder('id'))).prepare(),
      ).get({ id: sessionId });
      if (!row || row.users.disabled) return [null, null];
      const user: DatabaseUser = { id: row.users.id, attributes: { username: row.users.username, isAdmin: row.users.isAdmin } };
      return [toSession(row.sessions), user];
    },
    async getUserSessions(userId) {
      return db.select().from(sessions).where(eq(sessions.userId, userId)).all().map(toSession);
    },
    async setSession(s) {
      const createdAt = (s.attributes as { createdAt?: number }).createdAt ?? store.clock.now();
      db.insert(sessions).values({ id: s.id, userId: s.userId, expiresAt: Math.floor(s.expiresAt.getTime() / 1000), createdAt }).run();
    },
    async updateSessionExpiration(sessionId, expiresAt) {
      db.update(sessions).set({ expiresAt: Math.floor(expiresAt.getTime() / 1000) }).where(eq(sessions.id, sessionId)).run();
    },
    async deleteSession(sessionId) {
      db.delete(sessions).where(eq(sessions.id, sessionId)).run();
    },
    async deleteUserSessions(userId) {
      db.delete(sessions).where(eq(sessions.userId, userId)).run();
    },
    async deleteExpiredSessions() {
      db.delete(sessions).where(and(lte(sessions.expiresAt, Math.floor(store.clock.now() / 1000)))).run();
    },
  };
}
