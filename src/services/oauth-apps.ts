// Registering and removing OAuth apps (instance admins): checks the name, the provider and its
// endpoints (a provider's defaults fill what is left out; oauth2 needs both URLs), stores the app
// with its client secret sealed, and audits it. Results never hold the client secret.
import { z } from 'zod';
import { createOAuthApp, deleteOAuthApp, type OAuthApp } from '../store/oauth-apps';
import { PROVIDERS, providerDef } from '../connect/providers';
import type { Deps } from '../env';

export const OAUTH_APP_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** The API's body to register an OAuth app. */
export const OAuthAppBody = z.object({
  name: z.string().max(32).describe('^[a-z0-9][a-z0-9_-]{0,31}$, unique'),
  provider: z.enum(PROVIDERS),
  client_id: z.string().min(1).max(500),
  client_secret: z.string().min(1).max(2000).describe('Sealed; never shown again.'),
  authorize_url: z.string().max(2000).optional().describe('Required for oauth2; overrides the provider’s.'),
  token_url: z.string().max(2000).optional().describe('Required for oauth2; overrides the provider’s.'),
  scopes: z.string().max(2000).optional(),
  base_url: z.string().max(2000).optional().describe('The API base URL of the credentials it makes.'),
});

export type OAuthAppSave =
  | { ok: true; app: OAuthApp }
  | { ok: false; reason: 'forbidden' }
  | { ok: false; reason: 'invalid_input'; errors: Record<string, string> }
  | { ok: false; reason: 'name_taken'; name: string };

type Actor = { id: string; username: string; isAdmin: boolean };

const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

function httpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** Registers an app from a body (API JSON or the page's form, same field names). */
export async function registerOAuthApp(deps: Deps, actor: Actor, body: Record<string, unknown>): Promise<OAuthAppSave> {
  if (!actor.isAdmin) return { ok: false, reason: 'forbidden' };
  const errors: Record<string, string> = {};
  const name = text(body.name);
  if (!OAUTH_APP_NAME.test(name)) errors.name = 'Use 1 to 32 lowercase letters, digits, - or _, starting with a letter or digit.';
  const provider = text(body.provider);
  const def = providerDef(provider);
  if (!def) errors.provider = `Provider must be one of ${PROVIDERS.join(', ')}.`;
  const clientId = text(body.client_id);
  if (!clientId || clientId.length > 500) errors.client_id = 'Enter the client ID the service gave you.';
  const clientSecret = typeof body.client_secret === 'string' ? body.client_secret : '';
  if (!clientSecret.trim() || clientSecret.length > 2000) errors.client_secret = 'Enter the client secret the service gave you.';
  const url = (key: 'authorize_url' | 'token_url' | 'base_url', fallback: string | undefined) => {
    const v = text(body[key]) || fallback || '';
    if (v && !httpUrl(v)) errors[key] = 'Enter an http:// or https:// URL.';
    return v;
  };
  const authorizeUrl = url('authorize_url', def?.authorizeUrl);
  const tokenUrl = url('token_url', def?.tokenUrl);
  const baseUrl = url('base_url', def?.baseUrl);
  if (def && !authorizeUrl && !errors.authorize_url) errors.authorize_url = 'An oauth2 app needs its authorization URL.';
  if (def && !tokenUrl && !errors.token_url) errors.token_url = 'An oauth2 app needs its token URL.';
  const scopes = body.scopes === undefined || body.scopes === null || body.scopes === '' ? (def?.scopes ?? '') : text(body.scopes);
  if (scopes.length > 2000) errors.scopes = 'At most 2,000 characters.';
  if (Object.keys(errors).length) return { ok: false, reason: 'invalid_input', errors };
  const app = await createOAuthApp(deps.store, actor, { name, provider, clientId, clientSecret, authorizeUrl, tokenUrl, scopes, baseUrl: baseUrl || null });
  if (!app) return { ok: false, reason: 'name_taken', name };
  deps.log.info('oauth app created', { user: actor.username, app: name, provider });
  return { ok: true, app };
}

/** Removes an app (instance admins); its connected credentials stay until their next refresh. */
export async function removeOAuthApp(deps: Deps, actor: Actor, name: string): Promise<{ ok: true } | { ok: false; reason: 'forbidden' | 'not_found' }> {
  if (!actor.isAdmin) return { ok: false, reason: 'forbidden' };
  if (!(await deleteOAuthApp(deps.store, actor, name))) return { ok: false, reason: 'not_found' };
  deps.log.info('oauth app deleted', { user: actor.username, app: name });
  return { ok: true };
}

/** The API's shape of an app (never the secret). */
export function oauthAppJson(app: OAuthApp, callbackBase: string) {
  return {
    name: app.name,
    provider: app.provider,
    label: providerDef(app.provider)?.label ?? app.provider,
    credential_type: providerDef(app.provider)?.credentialType ?? 'http_bearer',
    client_id: app.clientId,
    authorize_url: app.authorizeUrl,
    token_url: app.tokenUrl,
    scopes: app.scopes,
    base_url: app.baseUrl,
    callback_url: callbackUrl(callbackBase, app.name),
  };
}

/** The callback URL an admin registers at the provider. */
export function callbackUrl(origin: string, name: string): string {
  return `${origin.replace(/\/+$/, '')}/oauth/callback/${name}`;
}
