// An OAuth access token that Latchkey issued for /mcp is a way in to the MCP endpoint, as the
// person who consented: their own credential runs, the run is audited under them with the OAuth
// client's name, and a revoked grant is refused with 401 invalid_token at the very next request.
// The client is driven over HTTP (registration, consent, PKCE, token) as in oauth.test.ts.
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, ORIGIN, type TestApp } from '../helpers/app';
import { startFakeService, type FakeService } from '../helpers/fake-services';

const REDIRECT = 'http://127.0.0.1:8765/callback';
const SECRET = 'ghp_CANARY_oauth_mcp_0123456789';

let cleanup: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of cleanup) await c.close();
  cleanup = [];
});

async function form(t: TestApp, path: string, body: Record<string, string>) {
  const res = await t.app.request(`${ORIGIN}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
  return res.json() as Promise<any>;
}

/** Registers a client named `name`, has the person allow it, and returns its access token. */
async function oauthToken(t: TestApp, cookie: string, name: string) {
  const reg = await t.app.request(`${ORIGIN}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ client_name: name, redirect_uris: [REDIRECT] }) });
  const clientId = ((await reg.json()) as any).client_id as string;
  const verifier = randomBytes(32).toString('base64url');
  const params = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    state: 's',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    resource: `${ORIGIN}/mcp`,
  };
  expect((await t.browser('GET', `/oauth/authorize?${new URLSearchParams(params)}`, { cookie })).status).toBe(200);
  const allowed = await t.browser('POST', '/oauth/authorize', { cookie, form: { ...params, decision: 'allow' } });
  const code = new URL(allowed.headers.get('Location')!).searchParams.get('code')!;
  const tok = await form(t, '/oauth/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId });
  return tok.access_token as string;
}

async function mcp(t: TestApp, token: string, body: unknown) {
  const res = await t.app.request(`${ORIGIN}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const data = res.headers.get('content-type')?.startsWith('text/event-stream') ? text.split('\n').find((l) => l.startsWith('data: '))?.slice(6) : text;
  return { status: res.status, headers: res.headers, text, message: data ? JSON.parse(data) : null };
}

describe('OAuth access tokens at /mcp', () => {
  it('run the person’s own tools with their credential, audited with the client’s name; revoked → 401 invalid_token', async () => {
    const t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
    const svc: FakeService = await startFakeService({ tokens: { [SECRET]: 'alice-gh' } });
    cleanup.push(t, svc);
    const alice = await t.user('alice');
    expect((await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'My GitHub', type: 'github', credential_id: 'github_token', fields: { base_url: svc.url }, secrets: { token: SECRET } })).status).toBe(201);
    const kit = await t.api('POST', '/workspaces/private/toolkits', alice.token, { name: 'GitHub', type: 'github', settings: {}, credential: { scope: 'private', credential_id: 'github_token' } });
    expect(kit.status).toBe(201);

    const access = await oauthToken(t, alice.cookie, 'Cursor Agent');
    const list = await mcp(t, access, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
    expect(list.status).toBe(200);
    const name = `private__${kit.json.id}__get_authenticated_user`;
    expect(list.message.result.tools.map((x: { name: string }) => x.name)).toContain(name);

    const call = await mcp(t, access, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } });
    expect(call.message.result.isError ?? false).toBe(false);
    expect(call.message.result.structuredContent).toMatchObject({ ok: true, credential: { scope: 'private', credential_id: 'github_token', owner: 'alice' } });
    expect(svc.requests.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET}`);
    const event = (await t.sqlOne<{ actor: string; details_json: string }>("SELECT actor, details_json FROM audit_events WHERE action = 'toolkit.execute' ORDER BY id DESC"))!;
    expect(event.actor).toBe('alice');
    expect(JSON.parse(event.details_json)).toMatchObject({ via: 'mcp', client: 'Cursor Agent' });
    expect(call.text + event.details_json + t.logs.join('\n')).not.toContain(SECRET);

    // Revoked on Settings: the very next request is refused.
    const settings = await (await t.browser('GET', '/settings', { cookie: alice.cookie })).text();
    const id = /\/settings\/oauth\/(\d+)\/revoke/.exec(settings)![1];
    expect((await t.browser('POST', `/settings/oauth/${id}/revoke`, { cookie: alice.cookie, form: {} })).status).toBe(303);
    const after = await mcp(t, access, { jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} });
    expect(after.status).toBe(401);
    expect(after.headers.get('WWW-Authenticate')).toMatch(/error="invalid_token"/);
    expect(after.headers.get('WWW-Authenticate')).toContain(`resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp"`);
  });
});
