// Middleware that decides who is calling and refuses what they may not do.
import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { findUserByTokenHash } from '../store/tokens';
import type { AppEnv, Deps } from '../env';
import { publicOrigin } from '../config';
import { hashToken } from './tokens';

/** Loads the browser session from its cookie into `user` (or null), refreshing the cookie when it slid. */
export function loadSession(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('user', null);
    c.set('sessionId', null);
    const token = getCookie(c, deps.auth.cookieName);
    if (token) {
      const found = await deps.auth.validateSession(token);
      if (found) {
        c.set('user', found.user);
        c.set('sessionId', found.sessionId);
        if (found.cookie) c.header('Set-Cookie', found.cookie, { append: true });
      } else {
        c.header('Set-Cookie', deps.auth.blankCookie(), { append: true });
      }
    }
    await next();
  };
}

/** Sends visitors without a session to the sign-in page (htmx requests get HX-Redirect). */
export function requireUser(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.get('user')) return next();
    const path = new URL(c.req.url).pathname;
    const target = path === '/' ? '/login' : `/login?next=${encodeURIComponent(path)}`;
    if (c.req.header('HX-Request')) {
      c.header('HX-Redirect', target);
      return c.body(null, 401);
    }
    return c.redirect(c.req.method === 'GET' ? target : '/login', 303);
  };
}

/** Authenticates API calls by personal access token (`Authorization: Bearer …`); 401 otherwise. */
export function requireApiToken(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('sessionId', null);
    const header = c.req.header('Authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const user = match ? await findUserByTokenHash(deps.store, hashToken(match[1])) : null;
    if (!user) {
      c.header('WWW-Authenticate', 'Bearer');
      return c.json({ error: 'unauthorized', message: 'Send a valid personal access token as "Authorization: Bearer <token>".' }, 401);
    }
    c.set('user', user);
    await next();
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data'];

/**
 * Refuses cross-site unsafe requests on cookie-authenticated routes. Hono's csrf() only looks at
 * form content types, so this also requires that the browser says the request is same-origin
 * (Sec-Fetch-Site) or sends a matching Origin, and that the body is a form.
 */
export function sameOriginOnly(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const expected = publicOrigin(deps.config, c.req.url);
    const site = c.req.header('Sec-Fetch-Site');
    const origin = c.req.header('Origin');
    const sameSite = site ? site === 'same-origin' : false;
    const sameOrigin = origin ? origin === expected : false;
    const contentType = (c.req.header('Content-Type') ?? '').split(';')[0].trim().toLowerCase();
    const okType = FORM_TYPES.includes(contentType) || contentType === '';
    const refuse = !(sameSite || sameOrigin) || (site !== undefined && !sameSite) || (origin !== undefined && !sameOrigin) || !okType;
    if (refuse) {
      deps.log.warn('csrf refused', { requestId: c.get('requestId'), method: c.req.method, path: c.req.path, site: site ?? null, origin: origin ?? null });
      return c.text('This request came from another site and was refused.', 403);
    }
    await next();
  };
}
