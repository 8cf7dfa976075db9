// The authorization server's machine endpoints: discovery documents, client registration, token
// and revocation. Clients call these without cookies or an Origin of ours, so they are mounted
// outside the pages' CSRF guard; nothing here reads a session. CORS is open (no credentials) so
// browser-based MCP clients can call them too.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { createThrottle } from '../auth/throttle';
import { errorBody, type FailureReason } from '../domain/oauth';
import type { AppEnv, Deps } from '../env';
import { registerClient } from '../oauth/clients';
import { revokeToken, tokenRequest } from '../oauth/grants';
import { authorizationServerMetadata, protectedResourceMetadata } from '../oauth/metadata';
import { publicOrigin } from '../oauth/origin';
import { clientAddress } from './helpers';

const MAX_BODY = 64 * 1024;
/** Registration is anonymous by design (RFC 7591); this keeps one address from filling the table. */
const REGISTRATIONS_PER_HOUR = 30;

/** Returns the sub-app for /.well-known/oauth-*, /oauth/register, /oauth/token and /oauth/revoke. */
export function oauthRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const origin = (c: Context<AppEnv>) => publicOrigin(deps.config, c.req.url);
  const open = cors({ origin: '*', allowMethods: ['GET', 'POST', 'OPTIONS'], allowHeaders: ['Content-Type', 'Authorization', 'MCP-Protocol-Version'] });
  const limited = bodyLimit({ maxSize: MAX_BODY, onError: (c) => c.json({ error: 'invalid_request', error_description: 'The request body is larger than 64 KiB.' }, 413) });
  // Token answers and errors must never be cached (RFC 6749 5.1).
  const refuse = (c: Context<AppEnv>, reason: FailureReason) => {
    c.header('Cache-Control', 'no-store');
    return c.json(errorBody(reason), 400);
  };

  const registrations = createThrottle(deps.store, 'oauth-register', { max: REGISTRATIONS_PER_HOUR, windowMs: 60 * 60_000 });

  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-authorization-server', '/oauth/register', '/oauth/token', '/oauth/revoke']) {
    app.use(path, open);
  }

  app.get('/.well-known/oauth-protected-resource/mcp', (c) => c.json(protectedResourceMetadata(origin(c))));
  app.get('/.well-known/oauth-authorization-server', (c) => c.json(authorizationServerMetadata(origin(c))));

  app.post('/oauth/register', limited, async (c) => {
    const address = clientAddress(c, deps.config.trustProxy);
    const wait = await registrations.retryAfter(address);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return c.json({ error: 'invalid_request', error_description: 'Too many registrations from this address; try again later.' }, 429);
    }
    if (!isType(c, 'application/json')) return refuse(c, 'metadata_not_object');
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return refuse(c, 'metadata_not_object');
    }
    const result = await registerClient(deps, body);
    if (!result.ok) return refuse(c, result.reason);
    await registrations.fail(address); // counts a registration against the address
    const { client } = result;
    c.header('Cache-Control', 'no-store');
    return c.json(
      {
        client_id: client.clientId,
        client_id_issued_at: Math.floor(client.createdAt / 1000),
        client_name: client.name,
        redirect_uris: client.redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      201,
    );
  });

  app.post('/oauth/token', limited, async (c) => {
    const form = await readForm(c);
    if (!form) return refuse(c, 'param_missing');
    const result = await tokenRequest(deps, form, origin(c));
    if (!result.ok) return refuse(c, result.reason);
    c.header('Cache-Control', 'no-store');
    c.header('Pragma', 'no-cache');
    return c.json(result.answer);
  });

  app.post('/oauth/revoke', limited, async (c) => {
    const form = await readForm(c);
    if (!form) return refuse(c, 'param_missing');
    const result = await revokeToken(deps, form);
    if (!result.ok) return refuse(c, result.reason);
    return c.body(null, 200);
  });

  return app;
}

function isType(c: Context<AppEnv>, type: string): boolean {
  return (c.req.header('Content-Type') ?? '').split(';')[0].trim().toLowerCase() === type;
}

// A form-encoded body as single strings; null when it is not one or repeats a parameter, which
// RFC 6749 (3.1) forbids.
async function readForm(c: Context<AppEnv>): Promise<Record<string, string> | null> {
  if (!isType(c, 'application/x-www-form-urlencoded')) return null;
  const params = new URLSearchParams(await c.req.text());
  const form: Record<string, string> = Object.create(null);
  for (const [k, v] of params) {
    if (Object.hasOwn(form, k)) return null;
    form[k] = v;
  }
  return form;
}
