// The OAuth 2.1 authorization server for MCP clients, over HTTP (app.request) as a real client
// would drive it: discovery, registration, consent as a signed-in person, PKCE, tokens, refresh
// rotation and reuse detection, revocation from Settings and by the client, and the refusals.
// Client ID Metadata Documents come from a real HTTP server on 127.0.0.1. See CONTRACT.md §6
// (OAuth) and SECURITY.md ("OAuth, both directions").
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyMcpAccessToken } from '../../src/oauth/access-tokens';
import { createTestApp, ORIGIN, type TestApp } from '../helpers/app';
import { dumpDatabase } from '../helpers/db-dump';
import { useScenario } from '../helpers/scenario';

const RESOURCE = `${ORIGIN}/mcp`;
const REDIRECT = 'http://127.0.0.1:8765/callback';

const { fresh } = useScenario();

const sha256url = (s: string) => createHash('sha256').update(s).digest('base64url');

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: sha256url(verifier) };
}

async function readJson(res: Response): Promise<any> {
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

async function register(t: TestApp, body: unknown, contentType = 'application/json') {
  const res = await t.app.request(`${ORIGIN}/oauth/register`, { method: 'POST', headers: { 'Content-Type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await readJson(res) };
}

async function tokenCall(t: TestApp, form: Record<string, string>) {
  const res = await t.app.request(`${ORIGIN}/oauth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: res.status, json: await readJson(res), headers: res.headers };
}

type AuthorizeParams = Record<string, string>;

function authorizeParams(clientId: string, challenge: string, extra: AuthorizeParams = {}): AuthorizeParams {
  return { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, state: 'st-42', code_challenge: challenge, code_challenge_method: 'S256', resource: RESOURCE, ...extra };
}

const authorizeUrl = (params: AuthorizeParams) => `/oauth/authorize?${new URLSearchParams(params)}`;

/** Opens the consent page, answers it, and returns where the browser was sent (the client's redirect). */
async function consent(t: TestApp, cookie: string, params: AuthorizeParams, decision: 'allow' | 'deny' = 'allow') {
  const page = await t.browser('GET', authorizeUrl(params), { cookie });
  expect(page.status).toBe(200);
  const html = await page.text();
  const res = await t.browser('POST', '/oauth/authorize', { cookie, form: { ...params, decision } });
  expect(res.status).toBe(303);
  return { html, location: new URL(res.headers.get('Location')!) };
}

/** Registers a client, has the person allow it, and exchanges the code: a ready test client. */
async function connect(t: TestApp, cookie: string, name = 'Test Agent') {
  const reg = await register(t, { client_name: name, redirect_uris: [REDIRECT] });
  const clientId: string = reg.json.client_id;
  const { verifier, challenge } = pkce();
  const { location } = await consent(t, cookie, authorizeParams(clientId, challenge));
  const code = location.searchParams.get('code')!;
  const tok = await tokenCall(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId });
  expect(tok.status).toBe(200);
  return { clientId, code, verifier, access: tok.json.access_token as string, refresh: tok.json.refresh_token as string };
}

function auditRows(t: TestApp, action: string) {
  return t.sql<{ actor: string; target: string; details: string }>('SELECT actor, target, details_json AS details FROM audit_events WHERE action = ? ORDER BY id', [action]);
}

describe('discovery documents', () => {
  it('serve the protected resource and authorization server metadata from the request origin', async () => {
    const t = await fresh();
    const prm = await t.app.request(`${ORIGIN}/.well-known/oauth-protected-resource/mcp`);
    expect(prm.status).toBe(200);
    expect(prm.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(await prm.json()).toMatchObject({ resource: RESOURCE, authorization_servers: [ORIGIN], bearer_methods_supported: ['header'] });

    // Browser-based clients may call the machine endpoints (no cookies are involved).
    const preflight = await t.app.request(`${ORIGIN}/oauth/token`, { method: 'OPTIONS', headers: { Origin: 'https://inspector.example', 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(preflight.headers.get('Access-Control-Allow-Credentials')).toBeNull();

    const as = await readJson(await t.app.request(`${ORIGIN}/.well-known/oauth-authorization-server`));
    expect(as).toMatchObject({
      issuer: ORIGIN,
      authorization_endpoint: `${ORIGIN}/oauth/authorize`,
      token_endpoint: `${ORIGIN}/oauth/token`,
      registration_endpoint: `${ORIGIN}/oauth/register`,
      revocation_endpoint: `${ORIGIN}/oauth/revoke`,
      code_challenge_methods_supported: ['S256'],
      client_id_metadata_document_supported: true,
      grant_types_supported: ['authorization_code', 'refresh_token'],
      response_types_supported: ['code'],
      token_endpoint_auth_methods_supported: ['none'],
    });
  });

  it('use BASE_URL as the origin when it is set', async () => {
    const t = await fresh({ env: { BASE_URL: 'https://latchkey.example.com/' } });
    // Behind the proxy the request arrives over plain http; the public origin is BASE_URL's.
    const prm = await readJson(await t.app.request('http://latchkey.example.com/.well-known/oauth-protected-resource/mcp'));
    expect(prm.resource).toBe('https://latchkey.example.com/mcp');
    const as = await readJson(await t.app.request('http://latchkey.example.com/.well-known/oauth-authorization-server'));
    expect(as.issuer).toBe('https://latchkey.example.com');
    expect(as.token_endpoint).toBe('https://latchkey.example.com/oauth/token');
  });
});

describe('dynamic client registration', () => {
  const good: [string, string[]][] = [
    ['https', ['https://agent.example.com/oauth/callback']],
    ['http on localhost', ['http://localhost:33418/cb']],
    ['http on 127.0.0.1', ['http://127.0.0.1:5000/']],
    ['http on [::1]', ['http://[::1]:5000/cb']],
    ['several', ['https://a.example/cb', 'http://127.0.0.1/cb']],
  ];
  it.each(good)('accepts redirect URIs: %s', async (_name, uris) => {
    const t = await fresh();
    const res = await register(t, { client_name: 'Agent', redirect_uris: uris });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ client_name: 'Agent', redirect_uris: uris, token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] });
    expect(res.json.client_id).toMatch(/^lkcl_[\w-]{20,}$/);
  });

  it('defaults the name to the first redirect URI’s host', async () => {
    const t = await fresh();
    const res = await register(t, { redirect_uris: ['https://agent.example.com/cb'] });
    expect(res.status).toBe(201);
    expect(res.json.client_name).toBe('agent.example.com');
  });

  const bad: [string, unknown, string][] = [
    ['http on a public host', { redirect_uris: ['http://agent.example.com/cb'] }, 'invalid_redirect_uri'],
    ['http on a private address', { redirect_uris: ['http://10.0.0.5/cb'] }, 'invalid_redirect_uri'],
    ['a custom scheme', { redirect_uris: ['myapp://callback'] }, 'invalid_redirect_uri'],
    ['javascript:', { redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri'],
    ['a fragment', { redirect_uris: ['https://a.example/cb#x'] }, 'invalid_redirect_uri'],
    ['user info', { redirect_uris: ['https://user:pw@a.example/cb'] }, 'invalid_redirect_uri'],
    ['a relative URI', { redirect_uris: ['/cb'] }, 'invalid_redirect_uri'],
    ['no redirect URIs', { client_name: 'x' }, 'invalid_redirect_uri'],
    ['an empty list', { redirect_uris: [] }, 'invalid_redirect_uri'],
    ['a confidential client', { redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'client_secret_basic' }, 'invalid_client_metadata'],
    ['another grant type', { redirect_uris: ['https://a.example/cb'], grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
    ['a long name', { redirect_uris: ['https://a.example/cb'], client_name: 'x'.repeat(101) }, 'invalid_client_metadata'],
    ['not an object', [1, 2], 'invalid_client_metadata'],
    ['not JSON', 'redirect_uris=https://a.example/cb', 'invalid_client_metadata'],
  ];
  it.each(bad)('refuses %s', async (_name, body, error) => {
    const t = await fresh();
    const res = await register(t, body);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe(error);
    expect(res.json.error_description).toEqual(expect.any(String));
    expect(await t.sqlOne('SELECT count(*) AS n FROM oauth_clients')).toEqual({ n: 0 });
  });

  it('limits registrations per address (30 an hour)', async () => {
    const t = await fresh();
    for (let i = 0; i < 30; i++) expect((await register(t, { redirect_uris: ['https://a.example/cb'] })).status).toBe(201);
    const res = await t.app.request(`${ORIGIN}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://a.example/cb'] }) });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
  });

  it('is not behind the pages’ CSRF guard, and refuses bodies that are not JSON', async () => {
    const t = await fresh();
    const res = await t.app.request(`${ORIGIN}/oauth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'https://inspector.example' },
      body: JSON.stringify({ redirect_uris: ['https://a.example/cb'] }),
    });
    expect(res.status).toBe(201);
    expect((await register(t, 'x', 'text/plain')).status).toBe(400);
  });
});

describe('the authorization code flow', () => {
  it('runs end to end: sign-in detour, consent, PKCE, tokens, verification, rotation, reuse revokes the grant', async () => {
    let now = Date.now();
    const t = await fresh({ now: () => now });
    await t.session('alice');
    const reg = await register(t, { client_name: 'Claude Desktop', redirect_uris: [REDIRECT] });
    const clientId = reg.json.client_id;
    const { verifier, challenge } = pkce();
    const params = authorizeParams(clientId, challenge, { state: 'xyz ~*+/=' });

    // Not signed in: to the sign-in page, which sends the person back to the same request.
    const anon = await t.browser('GET', authorizeUrl(params));
    expect(anon.status).toBe(303);
    const login = new URL(anon.headers.get('Location')!, ORIGIN);
    expect(login.pathname).toBe('/login');
    const next = login.searchParams.get('next')!;
    const loginPage = await (await t.browser('GET', `${login.pathname}${login.search}`)).text();
    expect(loginPage).toContain('name="next"');
    const signedIn = await t.browser('POST', '/login', { form: { username: 'alice', password: 'correct horse battery staple', next } });
    expect(signedIn.status).toBe(303);
    const back = new URL(signedIn.headers.get('Location')!, ORIGIN);
    expect(back.pathname).toBe('/oauth/authorize');
    expect(Object.fromEntries(back.searchParams)).toEqual(params);
    const cookie = signedIn.headers.getSetCookie().map((l) => l.split(';')[0]).find((p) => /session=./.test(p))!;

    // The consent page names the client, where it returns, and what it may do.
    const page = await t.browser('GET', `${back.pathname}${back.search}`, { cookie });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Claude Desktop');
    expect(html).toContain('127.0.0.1:8765');
    expect(html).toContain('an application on this computer');
    expect(html).toContain('Run your toolkits as you through the MCP endpoint');
    expect(html).toMatch(/<form[^>]*method="post"[^>]*action="\/oauth\/authorize"/);
    // The answer's redirect to the client is allowed by the page's CSP, and only that origin.
    expect(page.headers.get('Content-Security-Policy')).toMatch(/form-action 'self' http:\/\/127\.0\.0\.1:8765(;|$)/);

    const res = await t.browser('POST', '/oauth/authorize', { cookie, form: { ...params, decision: 'allow' } });
    expect(res.status).toBe(303);
    const cb = new URL(res.headers.get('Location')!);
    expect(`${cb.origin}${cb.pathname}`).toBe(REDIRECT);
    expect(cb.searchParams.get('state')).toBe('xyz ~*+/=');
    expect(cb.searchParams.get('iss')).toBe(ORIGIN);
    const code = cb.searchParams.get('code')!;
    expect(code.length).toBeGreaterThanOrEqual(43);
    expect(await auditRows(t, 'oauth.grant')).toEqual([expect.objectContaining({ actor: 'alice' })]);
    expect(JSON.parse((await auditRows(t, 'oauth.grant'))[0].details)).toMatchObject({ client: 'Claude Desktop', redirect_host: '127.0.0.1:8765' });

    // Token exchange: opaque tokens, one hour, no caching.
    const tok = await tokenCall(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId, resource: RESOURCE });
    expect(tok.status).toBe(200);
    expect(tok.headers.get('Cache-Control')).toBe('no-store');
    expect(tok.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const access1: string = tok.json.access_token;
    const refresh1: string = tok.json.refresh_token;
    expect(Buffer.from(access1.replace(/^lka_/, ''), 'base64url').length).toBeGreaterThanOrEqual(32);
    const alice = (await t.sqlOne<{ id: string }>(`SELECT id FROM users WHERE username = 'alice'`))!;
    expect(await verifyMcpAccessToken(t.deps, access1, ORIGIN)).toMatchObject({ userId: alice.id, clientName: 'Claude Desktop', user: { username: 'alice' } });
    expect(await verifyMcpAccessToken(t.deps, access1)).toMatchObject({ userId: alice.id, clientName: 'Claude Desktop' });
    // Bound to this server's /mcp: not valid for another origin's resource.
    expect(await verifyMcpAccessToken(t.deps, access1, 'https://other.example')).toBeNull();
    expect(await verifyMcpAccessToken(t.deps, refresh1, ORIGIN)).toBeNull();
    expect(await verifyMcpAccessToken(t.deps, 'lka_unknown', ORIGIN)).toBeNull();

    // Refresh rotates: a new pair each time.
    now += 10 * 60_000;
    const r2 = await tokenCall(t, { grant_type: 'refresh_token', refresh_token: refresh1, client_id: clientId });
    expect(r2.status).toBe(200);
    expect(r2.json.refresh_token).not.toBe(refresh1);
    expect(r2.json.access_token).not.toBe(access1);
    const access2: string = r2.json.access_token;
    const refresh2: string = r2.json.refresh_token;
    expect(await verifyMcpAccessToken(t.deps, access2, ORIGIN)).not.toBeNull();

    // Access tokens end after one hour.
    now += 61 * 60_000;
    expect(await verifyMcpAccessToken(t.deps, access2, ORIGIN)).toBeNull();
    const r3 = await tokenCall(t, { grant_type: 'refresh_token', refresh_token: refresh2, client_id: clientId });
    expect(r3.status).toBe(200);
    const access3: string = r3.json.access_token;
    const refresh3: string = r3.json.refresh_token;
    expect(await verifyMcpAccessToken(t.deps, access3, ORIGIN)).not.toBeNull();

    // A rotated refresh token presented again: refused, and the whole grant is revoked.
    const reuse = await tokenCall(t, { grant_type: 'refresh_token', refresh_token: refresh1, client_id: clientId });
    expect(reuse.status).toBe(400);
    expect(reuse.json).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('already used') });
    expect(await verifyMcpAccessToken(t.deps, access3, ORIGIN)).toBeNull();
    const after = await tokenCall(t, { grant_type: 'refresh_token', refresh_token: refresh3, client_id: clientId });
    expect(after.json.error).toBe('invalid_grant');
    expect((await auditRows(t, 'oauth.revoke')).map((r) => ({ actor: r.actor, reason: JSON.parse(r.details).reason }))).toEqual([{ actor: 'alice', reason: 'refresh_reuse' }]);
    const settings = await (await t.browser('GET', '/settings', { cookie })).text();
    expect(settings).toContain('No connected applications');

    // Canaries: no token or code in the logs, the audit log, a page, or the database.
    const secrets = [code, verifier, access1, refresh1, access2, refresh2, access3, refresh3];
    const everything = [t.logs.join('\n'), JSON.stringify(await t.sql('SELECT * FROM audit_events')), settings, html, await dumpDatabase(t)].join('\n');
    for (const s of secrets) expect(everything).not.toContain(s);
  });

  it('Deny sends access_denied back with the state, and grants nothing', async () => {
    const t = await fresh();
    const cookie = await t.session('alice');
    const reg = await register(t, { client_name: 'Agent', redirect_uris: [REDIRECT] });
    const { location } = await consent(t, cookie, authorizeParams(reg.json.client_id, pkce().challenge), 'deny');
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('st-42');
    expect(location.searchParams.get('code')).toBeNull();
    expect(await auditRows(t, 'oauth.grant')).toEqual([]);
    expect(await t.sqlOne('SELECT count(*) AS n FROM oauth_grants')).toEqual({ n: 0 });
  });

  it('the consent answer is CSRF-protected: a post from another site grants nothing', async () => {
    const t = await fresh();
    const cookie = await t.session('alice');
    const reg = await register(t, { client_name: 'Agent', redirect_uris: [REDIRECT] });
    const form = { ...authorizeParams(reg.json.client_id, pkce().challenge), decision: 'allow' };
    const foreign = await t.browser('POST', '/oauth/authorize', { cookie, form, headers: { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' } });
    expect(foreign.status).toBe(403);
    const noType = await t.app.request(`${ORIGIN}/oauth/authorize`, { method: 'POST', headers: { Cookie: cookie, Origin: ORIGIN, 'Content-Type': 'text/plain' }, body: new URLSearchParams(form).toString() });
    expect(noType.status).toBe(403);
    expect(await t.sqlOne('SELECT count(*) AS n FROM oauth_grants')).toEqual({ n: 0 });
  });
});

describe('refusals', () => {
  let t: TestApp;
  let cookie: string;
  let clientId: string;
  let now: number;
  beforeAll(async () => {
    now = Date.now();
    t = await createTestApp({ now: () => now });
    cookie = await t.session('alice');
    clientId = (await register(t, { client_name: 'Agent', redirect_uris: [REDIRECT, 'https://agent.example/cb'] })).json.client_id;
  });
  afterAll(() => t.close());

  /** A fresh code for this client (PKCE pair returned). */
  async function freshCode(extra: AuthorizeParams = {}) {
    const { verifier, challenge } = pkce();
    const { location } = await consent(t, cookie, authorizeParams(clientId, challenge, extra));
    return { verifier, code: location.searchParams.get('code')! };
  }

  const redirectErrors: [string, AuthorizeParams, string][] = [
    ['plain PKCE', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['no code_challenge_method', { code_challenge_method: '' }, 'invalid_request'],
    ['no code_challenge', { code_challenge: '' }, 'invalid_request'],
    ['a malformed code_challenge', { code_challenge: 'short' }, 'invalid_request'],
    ['another response type', { response_type: 'token' }, 'unsupported_response_type'],
    ['a token for another resource', { resource: 'https://other.example/mcp' }, 'invalid_target'],
    ['another path on this server', { resource: `${ORIGIN}/api/v1` }, 'invalid_target'],
  ];
  it.each(redirectErrors)('authorize with %s: the error goes back to the client with the state', async (_name, extra, error) => {
    const res = await t.browser('GET', authorizeUrl(authorizeParams(clientId, pkce().challenge, extra)), { cookie });
    expect(res.status).toBe(303);
    const loc = new URL(res.headers.get('Location')!);
    expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT);
    expect(loc.searchParams.get('error')).toBe(error);
    expect(loc.searchParams.get('error_description')).toEqual(expect.any(String));
    expect(loc.searchParams.get('state')).toBe('st-42');
  });

  const pageErrors: [string, AuthorizeParams, string][] = [
    ['a foreign redirect_uri', { redirect_uri: 'https://evil.example/cb' }, 'does not exactly match'],
    ['a redirect_uri differing by a trailing slash', { redirect_uri: `${REDIRECT}/` }, 'does not exactly match'],
    ['no redirect_uri', { redirect_uri: '' }, 'redirect_uri is required'],
    ['an unknown client', { client_id: 'lkcl_nobody' }, 'not registered'],
    ['no client', { client_id: '' }, 'client_id is required'],
  ];
  it.each(pageErrors)('authorize with %s: a page for the person, never a redirect', async (_name, extra, words) => {
    const params = { ...authorizeParams(clientId, pkce().challenge), ...extra };
    const res = await t.browser('GET', authorizeUrl(params), { cookie });
    expect(res.status).toBe(400);
    expect(res.headers.get('Location')).toBeNull();
    expect(await res.text()).toContain(words);
    // The answer cannot be smuggled past the page either.
    const post = await t.browser('POST', '/oauth/authorize', { cookie, form: { ...params, decision: 'allow' } });
    expect(post.status).toBe(400);
    expect(post.headers.get('Location')).toBeNull();
  });

  it('a wrong code_verifier is refused, and spends the code', async () => {
    const { code, verifier } = await freshCode();
    const wrong = await tokenCall(t, { grant_type: 'authorization_code', code, code_verifier: pkce().verifier, redirect_uri: REDIRECT, client_id: clientId });
    expect(wrong.status).toBe(400);
    expect(wrong.json).toMatchObject({ error: 'invalid_grant', error_description: 'code_verifier does not match the code_challenge.' });
    const retry = await tokenCall(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId });
    expect(retry.json.error).toBe('invalid_grant');
  });

  it('the code’s redirect_uri and client_id must match the authorization request', async () => {
    const { code, verifier } = await freshCode();
    const otherUri = await tokenCall(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'https://agent.example/cb', client_id: clientId });
    expect(otherUri.json).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('redirect_uri') });
    const second = await freshCode();
    const other = (await register(t, { client_name: 'Other', redirect_uris: [REDIRECT] })).json.client_id;
    const otherClient = await tokenCall(t, { grant_type: 'authorization_code', code: second.code, code_verifier: second.verifier, redirect_uri: REDIRECT, client_id: other });
    expect(otherClient.json).toMatchObject({ error: 'invalid_grant', error_description: 'The grant was issued to another client.' });
  });

  it('an expired code is refused', async () => {
    const { code, verifier } = await freshCode();
    now += 2 * 60_000 + 1;
    const res = await tokenCall(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId });
    expect(res.json).toMatchObject({ error: 'invalid_grant', error_description: 'The authorization code has expired.' });
  });

  it('a reused code is refused and revokes the tokens it produced', async () => {
    const { code, verifier } = await freshCode();
    const form = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId };
    const first = await tokenCall(t, form);
    expect(first.status).toBe(200);
    expect(await verifyMcpAccessToken(t.deps, first.json.access_token, ORIGIN)).not.toBeNull();
    const again = await tokenCall(t, form);
    expect(again.json).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('already used') });
    expect(await verifyMcpAccessToken(t.deps, first.json.access_token, ORIGIN)).toBeNull();
    expect((await tokenCall(t, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token, client_id: clientId })).json.error).toBe('invalid_grant');
    expect((await auditRows(t, 'oauth.revoke')).some((r) => JSON.parse(r.details).reason === 'code_reuse')).toBe(true);
  });

  it('a token request naming another resource is refused', async () => {
    const { code, verifier } = await freshCode();
    const res = await tokenCall(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId, resource: 'https://other.example/mcp' });
    expect(res.json.error).toBe('invalid_target');
  });

  const tokenErrors: [string, Record<string, string>, string][] = [
    ['an unsupported grant type', { grant_type: 'client_credentials', client_id: 'x' }, 'unsupported_grant_type'],
    ['no grant type', { client_id: 'x' }, 'invalid_request'],
    ['no client_id', { grant_type: 'refresh_token', refresh_token: 'x', client_id: '' }, 'invalid_request'],
    ['an unknown client', { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'lkcl_nobody' }, 'invalid_client'],
    ['an unknown code', { grant_type: 'authorization_code', code: 'lkc_nope', code_verifier: 'v'.repeat(43), redirect_uri: REDIRECT }, 'invalid_grant'],
    ['an unknown refresh token', { grant_type: 'refresh_token', refresh_token: 'lkr_nope' }, 'invalid_grant'],
    ['a code without verifier', { grant_type: 'authorization_code', code: 'lkc_nope', redirect_uri: REDIRECT }, 'invalid_request'],
  ];
  it.each(tokenErrors)('the token endpoint refuses %s', async (_name, form, error) => {
    const res = await tokenCall(t, { client_id: clientId, ...form });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error, error_description: expect.any(String) });
  });

  it('the token endpoint takes only form bodies, each parameter once', async () => {
    const json = await t.app.request(`${ORIGIN}/oauth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ grant_type: 'refresh_token' }) });
    expect(json.status).toBe(400);
    expect((await json.json()).error).toBe('invalid_request');
    const twice = await t.app.request(`${ORIGIN}/oauth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `grant_type=refresh_token&grant_type=authorization_code&client_id=${clientId}` });
    expect((await twice.json()).error).toBe('invalid_request');
  });

  it('an access token presented as a refresh token is refused', async () => {
    const c = await connect(t, cookie);
    const res = await tokenCall(t, { grant_type: 'refresh_token', refresh_token: c.access, client_id: c.clientId });
    expect(res.json.error).toBe('invalid_grant');
  });
});

describe('revocation', () => {
  it('from Settings: listed with its client, revoked by a POST form, ends access at the next request', async () => {
    const t = await fresh();
    const cookie = await t.session('alice');
    const bobCookie = await t.session('bob');
    const c = await connect(t, cookie, 'Cursor Agent');
    const settings = await (await t.browser('GET', '/settings', { cookie })).text();
    expect(settings).toContain('Cursor Agent');
    expect(settings).toContain('127.0.0.1:8765');
    const id = /\/settings\/oauth\/(\d+)\/revoke/.exec(settings)![1];

    // Another person cannot revoke it (nor see it).
    expect(await (await t.browser('GET', '/settings', { cookie: bobCookie })).text()).not.toContain('Cursor Agent');
    await t.browser('POST', `/settings/oauth/${id}/revoke`, { cookie: bobCookie, form: {} });
    expect(await verifyMcpAccessToken(t.deps, c.access, ORIGIN)).not.toBeNull();

    // A revoke from another site is refused.
    const foreign = await t.browser('POST', `/settings/oauth/${id}/revoke`, { cookie, form: {}, headers: { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' } });
    expect(foreign.status).toBe(403);
    expect(await verifyMcpAccessToken(t.deps, c.access, ORIGIN)).not.toBeNull();

    const res = await t.browser('POST', `/settings/oauth/${id}/revoke`, { cookie, form: {} });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/settings');
    expect(await verifyMcpAccessToken(t.deps, c.access, ORIGIN)).toBeNull();
    expect((await tokenCall(t, { grant_type: 'refresh_token', refresh_token: c.refresh, client_id: c.clientId })).json.error).toBe('invalid_grant');
    expect(await (await t.browser('GET', '/settings', { cookie })).text()).not.toContain('Cursor Agent');
    const revokes = await auditRows(t, 'oauth.revoke');
    expect(revokes).toHaveLength(1);
    expect(revokes[0]).toMatchObject({ actor: 'alice', target: `oauth_grant:${id}` });
    expect(JSON.parse(revokes[0].details)).toEqual({ client: 'Cursor Agent', reason: 'settings' });
    for (const s of [c.access, c.refresh, c.code]) expect(t.logs.join('\n') + JSON.stringify(revokes)).not.toContain(s);
  });

  it('htmx gets the updated list as a fragment', async () => {
    const t = await fresh();
    const cookie = await t.session('alice');
    await connect(t, cookie, 'Agent One');
    const settings = await (await t.browser('GET', '/settings', { cookie })).text();
    const id = /\/settings\/oauth\/(\d+)\/revoke/.exec(settings)![1];
    const res = await t.browser('POST', `/settings/oauth/${id}/revoke`, { cookie, form: {}, headers: { 'HX-Request': 'true' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/^<section id="oauth-grants"/);
    expect(html).toContain('No connected applications');
  });

  it('by the client (RFC 7009): its own token revokes the grant; another client’s attempt does nothing', async () => {
    const t = await fresh();
    const cookie = await t.session('alice');
    const c = await connect(t, cookie);
    const revoke = (form: Record<string, string>) =>
      t.app.request(`${ORIGIN}/oauth/revoke`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    const other = (await register(t, { redirect_uris: [REDIRECT] })).json.client_id;
    expect((await revoke({ token: c.refresh, client_id: other })).status).toBe(200);
    expect(await verifyMcpAccessToken(t.deps, c.access, ORIGIN)).not.toBeNull();
    expect((await revoke({ token: 'lkr_unknown', client_id: c.clientId })).status).toBe(200);
    expect((await revoke({ token: c.refresh, client_id: c.clientId })).status).toBe(200);
    expect(await verifyMcpAccessToken(t.deps, c.access, ORIGIN)).toBeNull();
    expect(JSON.parse((await auditRows(t, 'oauth.revoke'))[0].details)).toMatchObject({ reason: 'client' });
  });

  it('a disabled person’s tokens stop working', async () => {
    const t = await fresh();
    await t.session('admin');
    const cookie = await t.session('alice');
    const c = await connect(t, cookie);
    await t.exec(`UPDATE users SET disabled = TRUE WHERE username = 'alice'`);
    expect(await verifyMcpAccessToken(t.deps, c.access, ORIGIN)).toBeNull();
  });
});

describe('Client ID Metadata Documents', () => {
  let server: http.Server;
  let base: string;
  const docs = new Map<string, { status?: number; body: string; type?: string }>();
  const hits: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits.push(req.url!);
      const doc = docs.get(req.url!);
      if (!doc) return void res.writeHead(404).end();
      res.writeHead(doc.status ?? 200, { 'Content-Type': doc.type ?? 'application/json' }).end(doc.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const put = (path: string, doc: Record<string, unknown> | string, opts: { status?: number; type?: string } = {}) => {
    docs.set(path, { body: typeof doc === 'string' ? doc : JSON.stringify(doc), ...opts });
    return `${base}${path}`;
  };

  it('a client identified by its document URL goes through the whole flow', async () => {
    const t = await fresh({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
    const cookie = await t.session('alice');
    const clientId = `${base}/vscode.json`;
    put('/vscode.json', { client_id: clientId, client_name: 'VS Code', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
    const { verifier, challenge } = pkce();
    const { html, location } = await consent(t, cookie, authorizeParams(clientId, challenge));
    expect(html).toContain('VS Code');
    expect(html).toContain(clientId);
    const tok = await tokenCall(t, { grant_type: 'authorization_code', code: location.searchParams.get('code')!, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId });
    expect(tok.status).toBe(200);
    expect(await verifyMcpAccessToken(t.deps, tok.json.access_token, ORIGIN)).toMatchObject({ clientName: 'VS Code' });
    expect(hits).toContain('/vscode.json');
  });

  const refused: [string, () => string, string][] = [
    ['a document whose client_id differs from its URL', () => put('/liar.json', { client_id: 'https://claude.ai/client.json', client_name: 'Claude', redirect_uris: [REDIRECT] }), 'must equal the URL'],
    ['a document larger than 5 KiB', () => put('/big.json', { client_id: `${base}/big.json`, client_name: 'x'.repeat(6000), redirect_uris: [REDIRECT] }), 'larger than 5 KiB'],
    ['a document that is not JSON', () => put('/html.json', '<html></html>', { type: 'text/html' }), 'JSON object'],
    ['a document that is missing', () => `${base}/missing.json`, 'JSON object'],
    ['a document with a foreign redirect URI only', () => put('/other.json', { client_id: `${base}/other.json`, redirect_uris: ['https://elsewhere.example/cb'] }), 'does not exactly match'],
    ['a document with a bad redirect URI', () => put('/badredir.json', { client_id: `${base}/badredir.json`, redirect_uris: ['http://evil.example/cb'] }), 'redirect URI must be'],
  ];
  it.each(refused)('refuses %s', async (_name, make, words) => {
    const t = await fresh({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
    const cookie = await t.session('alice');
    const res = await t.browser('GET', authorizeUrl(authorizeParams(make(), pkce().challenge)), { cookie });
    expect(res.status).toBe(400);
    expect(res.headers.get('Location')).toBeNull();
    expect(await res.text()).toContain(words);
  });

  it('is fetched through the outbound rules: a loopback host not allowed is never contacted', async () => {
    const t = await fresh();
    const cookie = await t.session('alice');
    const clientId = put('/blocked.json', { client_id: `${base}/blocked.json`, redirect_uris: [REDIRECT] });
    const before = hits.length;
    const res = await t.browser('GET', authorizeUrl(authorizeParams(clientId, pkce().challenge)), { cookie });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('may not call');
    expect(hits.length).toBe(before);
  });

  const badUrls = ['http://agent.example/client.json', 'https://agent.example/', 'https://agent.example/a/../client.json', 'https://user:pw@agent.example/c.json', 'https://agent.example/c.json#x'];
  it.each(badUrls)('refuses the client_id URL %s without fetching it', async (clientId) => {
    const t = await fresh();
    const cookie = await t.session('alice');
    const res = await t.browser('GET', authorizeUrl(authorizeParams(clientId, pkce().challenge)), { cookie });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('client_id URL must be https');
  });
});
