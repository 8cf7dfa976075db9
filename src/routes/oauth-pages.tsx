// The pages of the authorization server: the consent page (GET /oauth/authorize, answered by a
// CSRF-protected POST) and revoking a grant from Settings. Mounted inside the pages app.
import { Hono, type Context } from 'hono';
import { ErrorPage } from '../../views/layout';
import { ConsentPage, OAuthGrantsSection } from '../../views/oauth';
import { parseId } from '../domain/ids';
import { checkRedirectUri, errorBody } from '../domain/oauth';
import type { AppEnv, Deps } from '../env';
import { approveAuthorization, checkAuthorization, denialRedirect, readAuthorizationRequest, type AuthorizationRequest } from '../oauth/grants';
import { publicOrigin } from '../oauth/origin';
import { listGrants, revokeOwnGrant } from '../store/oauth';
import { NotFound } from './errors';
import { formString, isHtmx } from './helpers';

/**
 * Returns the sub-app for /oauth/authorize. It sits before the pages' requireUser, because a
 * visitor must come back to the whole request (query included) after signing in.
 */
export function oauthAuthorizeRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  // Runs the checks; a failure goes back to the client when its redirect URI is trusted, else
  // it is a page for the person (RFC 6749 4.1.2.1: never redirect to an unverified URI).
  const check = async (c: Context<AppEnv>, req: AuthorizationRequest) => {
    const checked = await checkAuthorization(deps, req, publicOrigin(deps.config, c.req.url));
    if (checked.ok) return { checked };
    if (checked.redirect) return { answer: c.redirect(checked.redirect, 303) };
    const { error_description } = errorBody(checked.reason);
    return { answer: c.html(<ErrorPage status={400} title="This sign-in request cannot be used" message={error_description} />, 400) };
  };

  app.get('/oauth/authorize', async (c) => {
    const user = c.get('user');
    if (!user) return c.redirect(`/login?next=${encodeURIComponent(`/oauth/authorize?${plainQuery(c.req.url)}`)}`, 303);
    const { checked, answer } = await check(c, readAuthorizationRequest((k) => c.req.query(k)));
    if (!checked) return answer;
    c.header('Cache-Control', 'no-store');
    return c.html(<ConsentPage username={user.username} client={checked.client} request={checked.request} />);
  });

  app.post('/oauth/authorize', async (c) => {
    const user = c.get('user');
    if (!user) return c.redirect('/login', 303);
    const body = await c.req.parseBody();
    const { checked, answer } = await check(c, readAuthorizationRequest((k) => formString(body, k)));
    if (!checked) return answer;
    const origin = publicOrigin(deps.config, c.req.url);
    if (formString(body, 'decision') !== 'allow') return c.redirect(denialRedirect(checked.request, origin), 303);
    return c.redirect(await approveAuthorization(deps, user, checked, origin), 303);
  });

  return app;
}

/** Returns the sub-app for revoking grants from Settings (behind requireUser). */
export function oauthSettingsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.post('/settings/oauth/:id/revoke', async (c) => {
    const user = c.get('user')!;
    const id = parseId(c.req.param('id'));
    if (!id) throw new NotFound();
    await revokeOwnGrant(deps.store, user, id);
    if (isHtmx(c)) return c.html(<OAuthGrantsSection grants={await listGrants(deps.store, user.id)} />);
    return c.redirect('/settings', 303);
  });
  return app;
}

/**
 * Returns the consent page's extra CSP form-action source: the origin of the request's
 * redirect_uri. Browsers apply form-action to the redirect that follows the Allow/Deny POST, so
 * without it the answer could not reach the client. Only a well-formed redirect URI counts, and
 * the consent form is rendered only when it is registered for the client.
 */
export function consentFormAction(c: Context): string {
  if (c.req.method !== 'GET' || c.req.path !== '/oauth/authorize') return '';
  const uri = c.req.query('redirect_uri') ?? '';
  return checkRedirectUri(uri) ? '' : new URL(uri).origin;
}

// The query re-encoded with nothing but letters, digits, `-._` and %-escapes, so that it passes
// the sign-in page's check of its `next` path unchanged in meaning.
function plainQuery(url: string): string {
  return new URLSearchParams(new URL(url).searchParams).toString().replace(/\+/g, '%20').replace(/\*/g, '%2A');
}
