// Request bodies are capped before any other work (host check aside): CSRF, session lookup and
// parsing all come after, so an anonymous client cannot make the server hold a large body. A
// body with Content-Length above the cap is refused unread; a chunked one is read only up to it.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ErrorPage } from '../../views/layout';
import type { AppEnv } from '../env';

/** Sign-in and sign-up take a username and a password: a few KiB is plenty. */
export const AUTH_BODY_LIMIT = 64 * 1024;
/** Every other page form and API body. */
export const BODY_LIMIT = 1024 * 1024;

const AUTH_PATHS = new Set(['/login', '/signup']);

function tooLarge(c: Context<AppEnv>, limit: number) {
  const size = limit >= 1024 * 1024 ? `${limit / (1024 * 1024)} MiB` : `${limit / 1024} KiB`;
  const message = `The request body is larger than ${size}, the most this address accepts.`;
  // The client may still be sending: close the connection rather than read the rest.
  c.header('Connection', 'close');
  if (c.req.path.startsWith('/api/') || c.req.path === '/mcp') return c.json({ error: 'payload_too_large', message }, 413);
  return c.html(<ErrorPage status={413} title="Request too large" message={message} />, 413);
}

const limiters = new Map(
  [AUTH_BODY_LIMIT, BODY_LIMIT].map((limit) => [limit, bodyLimit({ maxSize: limit, onError: (c) => tooLarge(c as Context<AppEnv>, limit) })]),
);

/**
 * Returns the middleware that answers 413 to a body over its path's limit. GET and HEAD carry no
 * body, and a body with Content-Length (Node's parser never delivers more than it says) is judged
 * by the header alone: neither touches the request's body stream, so @hono/node-server keeps its
 * lightweight request and reads the body straight from the socket when a handler asks for it
 * (measured in bench/analysis.md). Only a chunked body goes through hono's streaming limiter.
 */
export function limitBodies(): MiddlewareHandler<AppEnv> {
  return (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const limit = AUTH_PATHS.has(c.req.path) ? AUTH_BODY_LIMIT : BODY_LIMIT;
    const length = c.req.header('Content-Length');
    if (length !== undefined && /^\d+$/.test(length) && c.req.header('Transfer-Encoding') === undefined) {
      return Number(length) > limit ? Promise.resolve(tooLarge(c, limit)) : next();
    }
    return limiters.get(limit)!(c, next);
  };
}
