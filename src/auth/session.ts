// Browser sessions. The only module that imports lucia. The cookie carries a random token; lucia
// sees only its SHA-256 as the session id, so a leaked database holds no usable session.
import { Lucia, TimeSpan } from 'lucia';
import type { Config } from '../config';
import { createSessionAdapter } from '../store/sessions';
import type { Store } from '../store/store';
import { generateSessionToken, hashToken } from './tokens';

/** Sessions slide forward while used, but never outlive this, counted from sign-in. */
export const SESSION_ABSOLUTE_MS = 30 * 24 * 3600 * 1000;
const SESSION_IDLE = new TimeSpan(7, 'd');

export type SessionUser = { id: string; username: string; isAdmin: boolean };
export type SessionAuth = ReturnType<typeof createSessionAuth>;

/** Returns the session functions bound to the store and the cookie settings of the config. */
export function createSessionAuth(store: Store, config: Pick<Config, 'secureCookies'>) {
  const lucia = new Lucia<{ createdAt: number }, { username: string; isAdmin: boolean }>(createSessionAdapter(store), {
    sessionExpiresIn: SESSION_IDLE,
    sessionCookie: {
      // The __Host- prefix pins the cookie to this exact origin; browsers accept it only with Secure.
      name: config.secureCookies ? '__Host-latchkey_session' : 'latchkey_session',
      expires: true,
      attributes: { secure: config.secureCookies, sameSite: 'lax', path: '/' },
    },
    getSessionAttributes: (a) => ({ createdAt: (a as { createdAt: number }).createdAt }),
    getUserAttributes: (a) => a as { username: string; isAdmin: boolean },
  });

  return {
    cookieName: lucia.sessionCookieName,

    /** Starts a session; returns the Set-Cookie header value carrying the new token. */
    async createSession(userId: string): Promise<string> {
      const token = generateSessionToken();
      await lucia.createSession(userId, { createdAt: store.clock.now() } as never, { sessionId: hashToken(token) });
      return lucia.createSessionCookie(token).serialize();
    },

    /** Returns the user of a session token, and a refreshed cookie when the expiry slid forward. */
    async validateSession(token: string): Promise<{ user: SessionUser; sessionId: string; cookie?: string } | null> {
      const sessionId = hashToken(token);
      const { session, user } = await lucia.validateSession(sessionId);
      if (!session) return null;
      if (store.clock.now() - (session as unknown as { createdAt: number }).createdAt > SESSION_ABSOLUTE_MS) {
        await lucia.invalidateSession(sessionId);
        return null;
      }
      const attrs = user as unknown as SessionUser;
      const result = { user: { id: user.id, username: attrs.username, isAdmin: attrs.isAdmin }, sessionId };
      return session.fresh ? { ...result, cookie: lucia.createSessionCookie(token).serialize() } : result;
    },

    /** Ends one session. */
    async invalidateSession(sessionId: string): Promise<void> {
      await lucia.invalidateSession(sessionId);
    },

    /** Returns the Set-Cookie value that clears the session cookie. */
    blankCookie(): string {
      return lucia.createBlankSessionCookie().serialize();
    },
  };
}
