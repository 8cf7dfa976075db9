// The one error handler: expected "not found" is a value thrown by guards; anything else is
// logged (with the request id, never the request body) and shown as a calm page or JSON error.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ErrorPage } from '../../views/layout';
import type { AppEnv, Deps } from '../env';

/** Thrown when something does not exist or the caller may not know it does: always a 404. */
export class NotFound extends Error {
  constructor() {
    super('not found');
  }
}

const NOT_FOUND = { title: 'Not found', message: 'This page does not exist, or you do not have access to it.' };

/** Renders the 404 answer for pages and the API. */
export function notFound(c: Context<AppEnv>) {
  if (c.req.path.startsWith('/api/')) return c.json({ error: 'not_found', message: 'Not found.' }, 404);
  return c.html(<ErrorPage status={404} {...NOT_FOUND} />, 404);
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
    deps.log.error('unhandled error', { requestId: c.get('requestId'), path: c.req.path, error: err.name, message: err.message, stack: err.stack?.split('\n').slice(0, 6).join(' | ') });
    if (c.req.path.startsWith('/api/')) return c.json({ error: 'internal_error', message: 'Something went wrong on the server. It has been logged.' }, 500);
    return c.html(<ErrorPage status={500} title="Something went wrong" message={`The error has been logged (request ${c.get('requestId')}). Please try again.`} />, 500);
  };
}
