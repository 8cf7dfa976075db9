// Connecting an account (CONTRACT §7): the flow through a real fake provider on 127.0.0.1 — Connect
// link → provider → callback → a private credential under the chosen ID — refused callbacks that
// store nothing, and no token or client secret in any page, answer, log line or audit row.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';
import { startFakeOAuth, type FakeOAuth } from '../helpers/fake-oauth';

type User = Awaited<ReturnType<TestApp['user']>>;

describe('connect my account', () => {
  let t: TestApp;
  let op: FakeOAuth;
  let admin: User;
  let alice: User;
  let toolkitId: number;

  beforeEach(async () => {
    op = await startFakeOAuth({ login: 'alice' });
    t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
    admin = await t.user('root');
    alice = await t.user('alice');
    const app = await t.api('POST', '/oauth-apps', admin.token, { name: 'github', provider: 'github', client_id: op.clientId, client_secret: op.clientSecret, authorize_url: `${op.url}/authorize`, token_url: `${op.url}/token`, base_url: op.url });
    expect(app.status).toBe(201);
    const tk = await t.api('POST', '/workspaces/private/toolkits', alice.token, { name: 'GitHub', type: 'github', credential: { scope: 'private', credential_id: 'github_token' } });
    expect(tk.status).toBe(201);
    toolkitId = tk.json.id;
  });
  afterEach(async () => {
    await t.close();
    await op.close();
  });

  /** Follows a Connect link: Latchkey → the provider (real HTTP) → back to the callback; returns the callback's answer. */
  async function connect(user: User, href: string, tamper?: (callback: URL) => URL) {
    const start = await t.browser('GET', href, { cookie: user.cookie });
    expect(start.status).toBe(302);
    const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    expect(atProvider.status).toBe(302);
    let callback = new URL(atProvider.headers.get('location')!);
    if (tamper) callback = tamper(callback);
    return t.browser('GET', `${callback.pathname}${callback.search}`, { cookie: user.cookie });
  }

  const credentialRows = () => t.sql('SELECT credential_id, type, connected_app, connected_account, connection_status FROM credentials ORDER BY id');

  it('from the banner: Connect → provider → back on the toolkit with a private github credential; Run works; Connected as @alice', async () => {
    const page = await (await t.browser('GET', `/w/private/toolkits/${toolkitId}`, { cookie: alice.cookie })).text();
    expect(page).toContain('Credential setup required');
    const href = /href="(\/connect\/github\?[^"]+)"/.exec(page)![1].replace(/&amp;/g, '&');
    expect(href).toContain('credential_id=github_token');

    const start = await t.browser('GET', href, { cookie: alice.cookie });
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.origin + authorize.pathname).toBe(`${op.url}/authorize`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe('http://localhost/oauth/callback/github');
    expect(Buffer.from(authorize.searchParams.get('state')!, 'base64url').length).toBeGreaterThanOrEqual(16);

    const back = await connect(alice, href);
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe(`/w/private/toolkits/${toolkitId}`);
    expect(await credentialRows()).toEqual([{ credential_id: 'github_token', type: 'github', connected_app: 'github', connected_account: 'alice', connection_status: 'active' }]);

    const run = await t.api('POST', `/workspaces/private/toolkits/${toolkitId}/execute`, alice.token, { tool: 'get_authenticated_user', input: {} });
    expect(run.status).toBe(200);
    expect(run.json.result.body.login).toBe('alice');

    const list = await t.api('GET', '/workspaces/private/credentials', alice.token);
    expect(list.json[0]).toMatchObject({ credential_id: 'github_token', connected: true, status: 'active', account: 'alice' });
    const toolkitPage = await (await t.browser('GET', `/w/private/toolkits/${toolkitId}`, { cookie: alice.cookie })).text();
    expect(toolkitPage).toContain('Connected as @alice');
    const listPage = await (await t.browser('GET', '/w/private/credentials', { cookie: alice.cookie })).text();
    expect(listPage).toContain('Connected as @alice');

    const audit = await t.sql("SELECT actor, target, details_json FROM audit_events WHERE action = 'credential.connect'");
    expect(audit).toEqual([expect.objectContaining({ actor: 'alice', target: 'credential:github_token' })]);

    // Canaries: no token or client secret anywhere people or logs can see.
    const everything = [page, toolkitPage, listPage, run.text, list.text, JSON.stringify(await t.sql('SELECT * FROM audit_events')), t.logs.join('\n')].join('\n');
    for (const secret of [...op.issued, op.clientSecret]) expect(everything).not.toContain(secret);
  });

  it('the + Create page offers Connect github with the typed or default Credential ID', async () => {
    const page = await (await t.browser('GET', '/w/private/credentials/new', { cookie: alice.cookie })).text();
    expect(page).toContain('Connect github');
    expect(page).toMatch(/href="\/connect\/github\?credential_id=github&amp;return_to=%2Fw%2Fprivate%2Fcredentials"/);
    const withId = await (await t.browser('GET', '/w/private/credentials/new?credential_id=my_gh', { cookie: alice.cookie })).text();
    expect(withId).toContain('/connect/github?credential_id=my_gh');
    const back = await connect(alice, '/connect/github?credential_id=my_gh&return_to=%2Fw%2Fprivate%2Fcredentials');
    expect(back.headers.get('location')).toBe('/w/private/credentials');
    expect(await credentialRows()).toEqual([expect.objectContaining({ credential_id: 'my_gh', type: 'github' })]);
  });

  it('refuses with a 400 page and stores nothing: reused, swapped between people, expired state, provider error, off-site return URL ignored', async () => {
    const bob = await t.user('bob');
    const href = '/connect/github?credential_id=github_token&return_to=https%3A%2F%2Fevil.example%2F';

    // Someone else's state: refused, and the flow of its owner still works afterwards.
    const start = await t.browser('GET', href, { cookie: alice.cookie });
    const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const callback = new URL(atProvider.headers.get('location')!);
    const swapped = await t.browser('GET', callback.pathname + callback.search, { cookie: bob.cookie });
    expect(swapped.status).toBe(400);
    expect(await swapped.text()).toContain('started by someone else');
    expect(await credentialRows()).toEqual([]);

    const first = await t.browser('GET', callback.pathname + callback.search, { cookie: alice.cookie });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/'); // an off-site return URL is never followed
    await t.exec('DELETE FROM credentials');

    const reused = await t.browser('GET', callback.pathname + callback.search, { cookie: alice.cookie });
    expect(reused.status).toBe(400);
    expect(await reused.text()).toContain('already used');

    const denied = await connect(alice, href, (u) => {
      u.searchParams.delete('code');
      u.searchParams.set('error', 'access_denied');
      return u;
    });
    expect(denied.status).toBe(400);
    expect(await denied.text()).toContain('access_denied');

    const unknown = await t.browser('GET', '/oauth/callback/github?state=nope&code=x', { cookie: alice.cookie });
    expect(unknown.status).toBe(400);
    expect(await credentialRows()).toEqual([]);
  });

  it('an expired state (over 10 minutes) is refused', async () => {
    let now = Date.now();
    const t2 = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' }, now: () => now });
    try {
      const root = await t2.user('root');
      const a = await t2.user('alice');
      await t2.api('POST', '/oauth-apps', root.token, { name: 'github', provider: 'github', client_id: op.clientId, client_secret: op.clientSecret, authorize_url: `${op.url}/authorize`, token_url: `${op.url}/token`, base_url: op.url });
      const start = await t2.browser('GET', '/connect/github', { cookie: a.cookie });
      const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
      const callback = new URL(atProvider.headers.get('location')!);
      now += 10 * 60_000 + 1;
      const late = await t2.browser('GET', callback.pathname + callback.search, { cookie: a.cookie });
      expect(late.status).toBe(400);
      expect(await late.text()).toContain('expired');
      expect(await t2.sqlOne('SELECT count(*) AS n FROM credentials')).toEqual({ n: 0 });
    } finally {
      await t2.close();
    }
  });
});
