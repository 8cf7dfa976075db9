// JSON API for OAuth apps: instance admins register and delete them; every signed-in person may
// list them (names and providers, so pages and scripts can offer Connect). Never the client secret.
import { Hono, type Context } from 'hono';
import { listOAuthApps } from '../store/oauth-apps';
import { oauthAppJson, registerOAuthApp, removeOAuthApp } from '../services/oauth-apps';
import type { AppEnv, Deps } from '../env';
import { publicOrigin } from '../config';
import { apiError, invalidInput, jsonBody } from './api-helpers';
import { NotFound } from './errors';

/** The origin callback URLs are made from: BASE_URL, else the request's own. */
export const callbackOrigin = (deps: Deps, c: Context) => publicOrigin(deps.config, c.req.url);

/** Returns the API sub-app for /oauth-apps. */
export function oauthAppApiRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const forbidden = (c: Context) => apiError(c, 403, 'forbidden', 'Only instance admins can manage OAuth apps.');

  app.get('/oauth-apps', async (c) => {
    const user = c.get('user')!;
    const apps = await listOAuthApps(deps.store);
    const origin = callbackOrigin(deps, c);
    return c.json(
      apps.map((a) => {
        const full = oauthAppJson(a, origin);
        return user.isAdmin ? full : { name: full.name, provider: full.provider, label: full.label, credential_type: full.credential_type };
      }),
    );
  });

  app.post('/oauth-apps', async (c) => {
    const body = await jsonBody(c);
    if (!body) return invalidInput(c, { _body: 'Send a JSON object.' });
    const r = await registerOAuthApp(deps, c.get('user')!, body);
    if (r.ok) return c.json(oauthAppJson(r.app, callbackOrigin(deps, c)), 201);
    if (r.reason === 'forbidden') return forbidden(c);
    if (r.reason === 'invalid_input') return invalidInput(c, r.errors);
    return apiError(c, 409, 'name_taken', `An OAuth app named ${r.name} already exists.`, { name: r.name });
  });

  app.delete('/oauth-apps/:name', async (c) => {
    const r = await removeOAuthApp(deps, c.get('user')!, c.req.param('name'));
    if (r.ok) return c.body(null, 204);
    if (r.reason === 'forbidden') return forbidden(c);
    throw new NotFound();
  });

  return app;
}
