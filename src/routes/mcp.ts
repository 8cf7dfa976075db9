// POST /mcp: the Model Context Protocol endpoint for agents (Streamable HTTP, stateless).
// This translator only decides who calls and from where; the SDK speaks the protocol and
// src/mcp/server.ts turns toolkits and runs into tools and results.
import { Hono, type Context } from 'hono';
import type { AppEnv, Deps } from '../env';
import { publicOrigin } from '../config';
import { authenticateMcp, mcpChallenge } from '../mcp/auth';
import { createMcpEndpoint, type McpRequestScope } from '../mcp/server';

/** The 2026-07-28 `_meta` key of the client's name (the SDK's CLIENT_INFO_META_KEY, which is loaded only at the first request). */
const CLIENT_INFO_META_KEY = 'io.modelcontextprotocol/clientInfo';

/** Returns the client's name for the audit log: clientInfo the request carries, else the User-Agent. */
export function clientNameOf(body: unknown, userAgent: string | undefined): string {
  const messages = Array.isArray(body) ? body : [body];
  for (const m of messages) {
    const params = m && typeof m === 'object' ? (m as { params?: Record<string, any> }).params : undefined;
    // 2025 revisions name the client in initialize; 2026-07-28 in every request's _meta.
    const info = params?.clientInfo ?? params?._meta?.[CLIENT_INFO_META_KEY];
    if (typeof info?.name === 'string' && info.name.trim()) return tidy(info.name);
  }
  return userAgent?.trim() ? tidy(userAgent) : 'unknown';
}

function tidy(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, 100);
}

/** Returns the sub-app for /mcp. */
export function mcpRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  let endpoint: ReturnType<typeof createMcpEndpoint> | undefined;
  const originOf = (c: Context) => publicOrigin(deps.config, c.req.url);

  // Agents send no Origin; a browser page on another site does (DNS rebinding, drive-by POSTs).
  app.use('/mcp', async (c, next) => {
    const origin = c.req.header('Origin');
    if (origin !== undefined && origin !== originOf(c)) return c.json({ error: 'forbidden', message: 'Requests from another origin are refused.' }, 403);
    await next();
  });

  // The body was already capped by the app-wide limit (src/http/body-limit.tsx).
  app.post('/mcp', async (c) => {
    const auth = await authenticateMcp(deps, c.req.header('Authorization'), originOf(c));
    if (!auth.ok) {
      c.header('WWW-Authenticate', mcpChallenge(originOf(c), auth.reason));
      return c.json({ error: 'unauthorized', message: 'Send a valid token as "Authorization: Bearer <token>".' }, 401);
    }
    c.set('user', { id: auth.caller.user.id, username: auth.caller.user.username, isAdmin: auth.caller.user.isAdmin });
    c.header('Cache-Control', 'no-store');

    const text = await c.req.text();
    let parsedBody: unknown;
    try {
      parsedBody = JSON.parse(text);
    } catch {
      parsedBody = undefined;
    }
    const scope: McpRequestScope = {
      caller: auth.caller,
      origin: originOf(c),
      client: auth.caller.oauthClientName ?? clientNameOf(parsedBody, c.req.header('User-Agent')),
    };
    // The body was read here; the SDK gets it parsed, or (when it is not JSON) a fresh copy to reject.
    const request = parsedBody === undefined ? new Request(c.req.raw.url, { method: 'POST', headers: c.req.raw.headers, body: text }) : c.req.raw;
    endpoint ??= createMcpEndpoint(deps);
    return (await endpoint).fetch(request, {
      parsedBody,
      authInfo: { token: 'redacted', clientId: scope.client, scopes: [], extra: { scope } },
    });
  });

  // Stateless: there is no session to open a stream on (GET) or to end (DELETE); only POST exists.
  app.all('/mcp', (c) => {
    c.header('Allow', 'POST');
    return c.json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this server is stateless; send every message as a POST.' }, id: null }, 405);
  });

  return app;
}
