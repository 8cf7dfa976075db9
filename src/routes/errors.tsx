// The one error handler: expected "not found" is a value thrown by guards; anything else is
// logged (with the request id, never the request body) and shown as a calm page or JSON error.
import type { Context } from 'hono';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { HTTPException } from 'hono/http-exception';
import { ErrorPage } from '../../views/layout';
import { Banner } from '../../views/ui';
import type { AppEnv, Deps } from '../env';
import { isHtmx } from './helpers';
import { isUnavailable } from '../store/pg-errors';

/** The answer while the database cannot be reached (PostgreSQL down or restarting): nothing was changed. */
const UNAVAILABLE = 'The database cannot be reached right now, so nothing was changed. Try again in a moment.';

/** Thrown when something does not exist or the caller may not know it does: always a 404. */
export class NotFound extends Error {
  constructor() {
    super('not found');
  }
}

/** Why a page refused a member and what they can do about it: the words of every 403 page. */
export const REFUSALS = {
  edit_credentials: 'Only project editors and admins can change project credentials. Ask a project admin to make you an editor.',
  edit_toolkits: 'Only project editors and admins can change toolkits. Ask a project admin to make you an editor.',
  manage_members: 'Only project admins can manage members. Ask a project admin to change your role.',
} as const;

/** Answers a refused request: a danger banner for htmx, the calm 403 error page for a full page. */
export function refuse(c: Context<AppEnv>, reason: keyof typeof REFUSALS) {
  if (isHtmx(c)) return c.html(<Banner tone="danger">{REFUSALS[reason]}</Banner>, 403);
  return c.html(<ErrorPage status={403} title="Not allowed" message={REFUSALS[reason]} />, 403);
}

const NOT_FOUND = { title: 'Not found', message: 'This page does not exist, or you do not have access to it.' };

/** Renders the 404 answer for pages and the API. */
export function notFound(c: Context<AppEnv>) {
  if (c.req.path.startsWith('/api/')) return c.json({ error: 'not_found', message: 'Not found.' }, 404);
  return c.html(<ErrorPage status={404} {...NOT_FOUND} />, 404);
}

/**
 * What the log may keep of an unexpected error: its class, a safe message and the stack frames.
 * A failed drizzle query's message holds the SQL and its parameters (Credential IDs, sealed
 * secrets as bytes): only its cause, SQLite's own message, is kept. Quoted text (JSON.parse puts
 * a piece of its input there) is dropped, and the stack's first line, which repeats the message,
 * never appears.
 */
export function describeError(err: unknown): { error: string; code?: string; message: string; stack: string } {
  const e = err instanceof Error ? err : new Error('a value that is not an Error was thrown');
  const failedQuery = e instanceof DrizzleQueryError || e.message.startsWith('Failed query:');
  const cause = e.cause instanceof Error ? e.cause : undefined;
  const raw = failedQuery ? (cause ? `${cause.name}: ${cause.message}` : 'a database query failed') : e.message;
  const message = raw.replace(/"(?:[^"\\\n]|\\.)*"/g, '"…"').replace(/\s+/g, ' ').trim().slice(0, 300);
  const code = (failedQuery ? cause : e) as { code?: unknown } | undefined;
  const stack = (e.stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 6)
    .map((l) => l.trim())
    .join(' | ');
  return { error: e.constructor?.name || e.name, ...(typeof code?.code === 'string' ? { code: code.code } : {}), message, stack };
}

/** Returns the app's onError handler. */
export function errorHandler(deps: Deps) {
  return (err: Error, c: Context<AppEnv>) => {
    if (err instanceof NotFound) return notFound(c);
    if (err instanceof HTTPException) {
      const status = err.status;
      if (c.req.path.startsWith('/api/')) return c.json({ error: status === 403 ? 'forbidden' : 'bad_request', message: err.message || 'Request refused.' }, status);
      return c.html(<ErrorPage status={status} title={status === 403 ? 'Not allowed' : 'Request refused'} message={err.message || 'The request was refused.'} />, status);
    }
    if (isUnavailable(err)) {
      deps.log.error('database unavailable', { requestId: c.get('requestId'), path: c.req.path, ...describeError(err) });
      c.header('Retry-After', '5');
      if (c.req.path.startsWith('/api/') || c.req.path === '/mcp') return c.json({ error: 'database_unavailable', message: UNAVAILABLE }, 503);
      if (isHtmx(c)) return c.html(<Banner tone="danger">{UNAVAILABLE}</Banner>, 503);
      return c.html(<ErrorPage status={503} title="Temporarily unavailable" message={UNAVAILABLE} />, 503);
    }
    deps.log.error('unhandled error', { requestId: c.get('requestId'), path: c.req.path, ...describeError(err) });
    if (c.req.path.startsWith('/api/')) return c.json({ error: 'internal_error', message: 'Something went wrong on the server. It has been logged.' }, 500);
    return c.html(<ErrorPage status={500} title="Something went wrong" message={`The error has been logged (request ${c.get('requestId')}). Please try again.`} />, 500);
  };
}
