// Connecting an account (the OAuth client side): GET /connect/:app is the Connect (or Reconnect)
// link — a GET that redirects to the provider, since the pages' CSP (form-action 'self') would
// block a form that leaves the site — and GET /oauth/callback/:app is where the provider sends the
// person back. A refused callback answers a 400 page saying why and stores nothing.
import { Hono } from 'hono';
import { ErrorPage } from '../../views/layout';
import { publicOrigin } from '../config';
import { CALLBACK_REFUSALS, defaultCredentialId, finishConnect, startConnect } from '../connect/flow';
import type { AppEnv, Deps } from '../env';
import { safeNext } from './helpers';

/** Returns the sub-app for /connect/:app and /oauth/callback/:app (mounted behind the session check). */
export function connectRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get('/connect/:app', async (c) => {
    const appName = c.req.param('app');
    const r = await startConnect(deps, c.get('user')!, {
      appName,
      credentialId: c.req.query('credential_id') || defaultCredentialId(appName),
      returnTo: safeNext(c.req.query('return_to') ?? '/w/private/credentials'),
      reconnect: c.req.query('reconnect') === '1',
      origin: publicOrigin(deps.config, c.req.url),
    });
    if (!r.ok) return c.html(<ErrorPage status={400} title="Cannot connect" message={r.message} />, 400);
    c.header('Cache-Control', 'no-store');
    return c.redirect(r.url, 302);
  });

  app.get('/oauth/callback/:app', async (c) => {
    const q = (k: string) => c.req.query(k) || undefined;
    const r = await finishConnect(deps, c.get('user')!, c.req.param('app'), { state: q('state'), code: q('code'), error: q('error') }, publicOrigin(deps.config, c.req.url));
    if (r.ok) return c.redirect(r.returnTo, 303);
    deps.log.warn('connect refused', { requestId: c.get('requestId'), user: c.get('user')!.username, reason: r.reason, detail: r.detail ?? null });
    const base = CALLBACK_REFUSALS[r.reason].replace(/\.$/, '');
    const message = `${base}${r.detail ? ` (${r.detail})` : ''}. Nothing was saved.`;
    return c.html(<ErrorPage status={r.status} title="Could not connect the account" message={message} />, r.status);
  });

  return app;
}
