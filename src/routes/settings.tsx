// The user's Settings page: personal access tokens and password change.
import { Hono } from 'hono';
import { SettingsPage, TokensSection, type TokensProps } from '../../views/settings';
import { hashPassword, verifyPassword } from '../auth/password';
import { listApiTokens, revokeApiToken } from '../store/tokens';
import { listGrants } from '../store/oauth';
import { createApiToken } from '../services/create-api-token';
import { findUserForLogin, setPassword } from '../store/users';
import { validatePassword } from '../domain/names';
import { parseId } from '../domain/ids';
import { NotFound } from './errors';
import type { AppEnv, Deps } from '../env';
import { publicOrigin } from '../config';
import { formString, isHtmx, loadFrame, redirectTo, safeNext } from './helpers';
import { dismissNotices } from '../store/notices';
import type { Context } from 'hono';

/** Returns the sub-app for /settings. */
export function settingsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  const render = async (c: Context<AppEnv>, tokens: Partial<TokensProps> = {}, status: 200 | 201 | 400 | 409 | 429 = 200, password?: Parameters<typeof SettingsPage>[0]['password']) => {
    const props = { tokens: await listApiTokens(deps.store, c.get('user')!.id), ...tokens };
    c.header('Cache-Control', 'no-store');
    if (isHtmx(c) && !password) return c.html(<TokensSection {...props} />, status);
    const grants = await listGrants(deps.store, c.get('user')!.id);
    const mcpUrl = `${publicOrigin(deps.config, c.req.url)}/mcp`;
    return c.html(<SettingsPage frame={await loadFrame(deps, c, null, 'settings')} tokens={props} password={password} mcpUrl={mcpUrl} grants={grants} />, status);
  };

  app.get('/settings', (c) => render(c, {}, 200, c.req.query('password') === 'changed' ? { done: true, tokensRevoked: c.req.query('tokens') === 'revoked' } : undefined));

  // "Dismiss" on the notices of the page frame: they stay dismissed up to the newest one shown.
  app.post('/notices/dismiss', async (c) => {
    const body = await c.req.parseBody();
    const through = Number(formString(body, 'through'));
    if (Number.isSafeInteger(through) && through > 0) await dismissNotices(deps.store, c.get('user')!.id, through);
    if (isHtmx(c)) return c.html('');
    return redirectTo(c, safeNext(formString(body, 'return')));
  });

  app.post('/settings/tokens', async (c) => {
    const name = formString(await c.req.parseBody(), 'name');
    const r = await createApiToken(deps, c.get('user')!, name);
    if (!r.ok) return render(c, { name: name.trim(), nameError: r.errors.name }, r.reason === 'name_taken' ? 409 : 400);
    return render(c, { created: { name: r.name, token: r.token } }, 201);
  });

  app.post('/settings/tokens/:id/revoke', async (c) => {
    const id = parseId(c.req.param('id'));
    if (!id) throw new NotFound();
    await revokeApiToken(deps.store, c.get('user')!, { id });
    return isHtmx(c) ? render(c) : c.redirect('/settings', 303);
  });

  app.post('/settings/password', async (c) => {
    const body = await c.req.parseBody();
    const user = c.get('user')!;
    // Guesses at the current password are throttled like sign-ins, so a borrowed session
    // cannot be turned into the password by trying.
    const throttleKey = `pw:${user.id}`;
    const wait = await deps.throttle.account.retryAfter(throttleKey);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return render(c, {}, 429, { errors: { current: `Too many wrong attempts. Try again in ${Math.ceil(wait / 60)} minute${wait > 60 ? 's' : ''}.` } });
    }
    const row = await findUserForLogin(deps.store, user.username);
    if (!(await verifyPassword(row?.passwordHash, formString(body, 'current')))) {
      await deps.throttle.account.fail(throttleKey);
      return render(c, {}, 400, { errors: { current: 'That is not your current password.' } });
    }
    await deps.throttle.account.reset(throttleKey);
    const next = formString(body, 'password');
    const error = validatePassword(next);
    if (error) return render(c, {}, 400, { errors: { password: error } });
    // A changed password often means the old one leaked; tokens made with it go too unless unticked.
    const revokeTokens = formString(body, 'revoke_tokens') === '1';
    await setPassword(deps.store, user, user.username, await hashPassword(next), 'user.password_change', revokeTokens);
    // Every session ended with the change; this browser gets a fresh one.
    c.header('Set-Cookie', await deps.auth.createSession(user.id), { append: true });
    return c.redirect(`/settings?password=changed${revokeTokens ? '&tokens=revoked' : ''}`, 303);
  });

  return app;
}
