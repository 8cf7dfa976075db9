// The OAuth apps admin page (/admin/oauth-apps, instance admins only): list, register, delete.
// Save flow as everywhere: parse, call the service, re-render with errors or redirect.
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { OAuthAppsPage, type OAuthAppForm } from '../../views/oauth-apps';
import { listOAuthApps } from '../store/oauth-apps';
import { registerOAuthApp, removeOAuthApp } from '../services/oauth-apps';
import type { AppEnv, Deps } from '../env';
import { callbackOrigin } from './api-oauth-apps';
import { formString, loadFrame, redirectTo } from './helpers';

const FIELDS = ['name', 'provider', 'client_id', 'client_secret', 'authorize_url', 'token_url', 'scopes', 'base_url'];

/** Returns the sub-app for /admin/oauth-apps (mounted behind the session check). */
export function oauthAppAdminRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const requireInstanceAdmin = (c: Context<AppEnv>) => {
    if (!c.get('user')!.isAdmin) throw new HTTPException(403, { message: 'Only instance admins can manage OAuth apps.' });
  };
  const render = async (c: Context<AppEnv>, opts: { form?: OAuthAppForm; notice?: { tone: 'success' | 'danger'; text: string } } = {}, status: 200 | 400 | 409 = 200) =>
    c.html(<OAuthAppsPage frame={await loadFrame(deps, c, null, 'oauth-apps')} apps={await listOAuthApps(deps.store)} origin={callbackOrigin(deps, c)} {...opts} />, status);

  app.get('/admin/oauth-apps', async (c) => {
    requireInstanceAdmin(c);
    const done = c.req.query('done');
    const name = c.req.query('name') ?? '';
    const notice = done === 'created' ? { tone: 'success' as const, text: `${name} was registered. Members can now connect their accounts with it.` } : done === 'deleted' ? { tone: 'success' as const, text: `${name} was deleted.` } : undefined;
    return render(c, { notice });
  });

  app.post('/admin/oauth-apps', async (c) => {
    requireInstanceAdmin(c);
    const body = await c.req.parseBody();
    const values = Object.fromEntries(FIELDS.map((f) => [f, formString(body, f)]));
    const r = await registerOAuthApp(deps, c.get('user')!, values);
    if (r.ok) return redirectTo(c, `/admin/oauth-apps?done=created&name=${encodeURIComponent(r.app.name)}`);
    delete values.client_secret;
    if (r.reason === 'invalid_input') return render(c, { form: { values, errors: r.errors } }, 400);
    if (r.reason === 'name_taken') return render(c, { form: { values, errors: { name: `An OAuth app named ${r.name} already exists.` } } }, 409);
    throw new HTTPException(403, { message: 'Only instance admins can manage OAuth apps.' });
  });

  app.post('/admin/oauth-apps/:name/delete', async (c) => {
    requireInstanceAdmin(c);
    const name = c.req.param('name');
    const r = await removeOAuthApp(deps, c.get('user')!, name);
    if (!r.ok && r.reason === 'not_found') return render(c, { notice: { tone: 'danger', text: `There is no OAuth app named ${name}.` } }, 409);
    return redirectTo(c, `/admin/oauth-apps?done=deleted&name=${encodeURIComponent(name)}`);
  });

  return app;
}
