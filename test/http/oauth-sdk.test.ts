// Interoperability: the official MCP TypeScript SDK's OAuth client (`auth()` from
// @modelcontextprotocol/sdk, what many MCP clients run) against Latchkey served on 127.0.0.1.
// It discovers the resource and authorization server metadata, registers, sends the person to
// the consent page, exchanges the code with PKCE and the resource indicator, and refreshes.
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyMcpAccessToken } from '../../src/oauth/access-tokens';
import { createTestApp, type TestApp } from '../helpers/app';

const REDIRECT = 'http://127.0.0.1:7777/callback';

let t: TestApp;
let server: ServerType;
let base: string;

beforeAll(async () => {
  t = await createTestApp();
  server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((r) => server.once('listening', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await t.close();
});

/** An in-memory OAuthClientProvider, as a desktop MCP client keeps one. */
function memoryProvider() {
  const saved: { client?: OAuthClientInformationMixed; tokens?: OAuthTokens; verifier?: string; redirectedTo?: URL } = {};
  const provider: OAuthClientProvider = {
    redirectUrl: REDIRECT,
    clientMetadata: { client_name: 'SDK Test Client', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' },
    state: () => 'sdk-state',
    clientInformation: () => saved.client,
    saveClientInformation: (c) => void (saved.client = c),
    tokens: () => saved.tokens,
    saveTokens: (tokens) => void (saved.tokens = tokens),
    redirectToAuthorization: (url) => void (saved.redirectedTo = url),
    saveCodeVerifier: (v) => void (saved.verifier = v),
    codeVerifier: () => saved.verifier!,
  };
  return { provider, saved };
}

describe('the MCP SDK’s OAuth client', () => {
  it('completes discovery, registration, consent, code exchange and refresh', async () => {
    const cookie = await t.session('alice');
    const { provider, saved } = memoryProvider();
    const serverUrl = `${base}/mcp`;

    expect(await auth(provider, { serverUrl })).toBe('REDIRECT');
    const url = saved.redirectedTo!;
    expect(url.origin + url.pathname).toBe(`${base}/oauth/authorize`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('resource')).toBe(serverUrl);

    // The person consents in their browser (same origin as the server).
    const page = await fetch(url, { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('SDK Test Client');
    const answer = await fetch(`${base}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { Cookie: cookie, Origin: base, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...Object.fromEntries(url.searchParams), decision: 'allow' }),
    });
    expect(answer.status).toBe(303);
    const callback = new URL(answer.headers.get('Location')!);
    expect(callback.searchParams.get('state')).toBe('sdk-state');

    expect(await auth(provider, { serverUrl, authorizationCode: callback.searchParams.get('code')! })).toBe('AUTHORIZED');
    const first = saved.tokens!;
    expect(first.token_type).toBe('Bearer');
    expect(first.expires_in).toBe(3600);
    expect(await verifyMcpAccessToken(t.deps, first.access_token, base)).toMatchObject({ clientName: 'SDK Test Client' });

    // With a refresh token stored, auth() refreshes (rotation: a new refresh token comes back).
    expect(await auth(provider, { serverUrl })).toBe('AUTHORIZED');
    expect(saved.tokens!.refresh_token).toBeTruthy();
    expect(saved.tokens!.refresh_token).not.toBe(first.refresh_token);
    expect(await verifyMcpAccessToken(t.deps, saved.tokens!.access_token, base)).not.toBeNull();
  });
});
