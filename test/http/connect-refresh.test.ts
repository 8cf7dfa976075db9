// Refreshing connected accounts (CONTRACT §7) against the fake provider: ahead of expiry, once on a
// 401, one refresh for concurrent runs, a refused refresh → reconnect_required (422, audit, page),
// Reconnect keeps the ID, a 5xx is not final.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';
import { startFakeOAuth, type FakeOAuth } from '../helpers/fake-oauth';

type User = Awaited<ReturnType<TestApp['user']>>;

describe('connected account refresh', () => {
  let t: TestApp;
  let op: FakeOAuth;
  let alice: User;
  let root: User;
  let toolkitId: number;
  let now = Date.now();

  beforeEach(async () => {
    now = Date.now();
    op = await startFakeOAuth({ login: 'alice', expiresIn: 3600 });
    t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' }, now: () => now });
    root = await t.user('root');
    alice = await t.user('alice');
    await t.api('POST', '/oauth-apps', root.token, { name: 'github', provider: 'github', client_id: op.clientId, client_secret: op.clientSecret, authorize_url: `${op.url}/authorize`, token_url: `${op.url}/token`, base_url: op.url });
    toolkitId = (await t.api('POST', '/workspaces/private/toolkits', alice.token, { name: 'GitHub', type: 'github', credential: { scope: 'private', credential_id: 'github_token' } })).json.id;
    await connect(`/connect/github?credential_id=github_token&return_to=%2Fw%2Fprivate%2Ftoolkits%2F${toolkitId}`);
  });
  afterEach(async () => {
    await t.close();
    await op.close();
  });

  async function connect(href: string) {
    const start = await t.browser('GET', href, { cookie: alice.cookie });
    const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const callback = new URL(atProvider.headers.get('location')!);
    const back = await t.browser('GET', callback.pathname + callback.search, { cookie: alice.cookie });
    expect(back.status).toBe(303);
  }
  const run = () => t.api('POST', `/workspaces/private/toolkits/${toolkitId}/execute`, alice.token, { tool: 'get_authenticated_user', input: {} });
  const status = () => (t.db.$client.prepare("SELECT connection_status AS s FROM credentials WHERE credential_id = 'github_token'").get() as { s: string }).s;

  it('refreshes before the call once the refresh time (expiry minus 15 minutes) has come, storing the rotated refresh token', async () => {
    now += 44 * 60_000; // 16 minutes before expiry: not yet
    expect((await run()).status).toBe(200);
    expect(op.refreshes).toBe(0);
    now += 2 * 60_000; // 14 minutes before expiry
    const calls = op.serviceCalls;
    const r = await run();
    expect(r.status).toBe(200);
    expect(op.refreshes).toBe(1);
    expect(op.serviceCalls - calls).toBe(1); // refreshed first: the service saw only the new token
    // The rotated refresh token was stored: the next refresh (another hour on) works too.
    now += 60 * 60_000;
    const third = await run();
    expect(third.status, `${third.text} refreshes=${op.refreshes} tokenCalls=${op.tokenCalls} ${t.logs.filter((l) => /refresh/.test(l)).join(" ")}`).toBe(200);
    expect(op.refreshes).toBe(2);
  });

  it('two concurrent runs refresh once and both succeed', async () => {
    now += 59 * 60_000;
    op.slowMs = 300;
    const [a, b] = await Promise.all([run(), run()]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(op.refreshes).toBe(1);
  });

  it('a 401 refreshes once and retries the call once', async () => {
    op.expireAccessToken();
    const r = await run();
    expect(r.status).toBe(200);
    expect(op.refreshes).toBe(1);
  });

  it('a refused refresh makes the credential reconnect_required: 422, audit, Reconnect required on the page; Reconnect keeps the ID', async () => {
    op.refuse = 'github'; // 200 with an error body, read like a 400
    now += 59 * 60_000;
    const r = await run();
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ error: 'credential_reconnect_required', credential_id: 'github_token' });
    expect(status()).toBe('reconnect_required');
    const audit = t.db.$client.prepare("SELECT actor, workspace, outcome FROM audit_events WHERE action = 'credential.refresh_failed'").all();
    expect(audit).toEqual([{ actor: 'alice', workspace: 'private', outcome: 'failure' }]);

    const tokenCalls = op.tokenCalls;
    const services = op.serviceCalls;
    expect((await run()).status).toBe(422);
    expect([op.tokenCalls, op.serviceCalls]).toEqual([tokenCalls, services]); // the provider is not contacted

    const page = await (await t.browser('GET', `/w/private/toolkits/${toolkitId}`, { cookie: alice.cookie })).text();
    expect(page).toContain('Reconnect required');
    const href = /href="(\/connect\/github\?[^"]*reconnect=1[^"]*)"/.exec(page)![1].replace(/&amp;/g, '&');
    const toolkits = await t.api('GET', '/workspaces/private/toolkits', alice.token);
    expect(toolkits.json[0].status).toBe('reconnect_required');

    op.refuse = null;
    await connect(href);
    expect(status()).toBe('active');
    expect(t.db.$client.prepare("SELECT count(*) AS n FROM audit_events WHERE action = 'credential.reconnect'").get()).toEqual({ n: 1 });
    expect((await run()).status).toBe(200);
    const everything = [page, JSON.stringify(t.db.$client.prepare('SELECT * FROM audit_events').all()), t.logs.join('\n')].join('\n');
    for (const secret of [...op.issued, op.clientSecret]) expect(everything).not.toContain(secret);
  });

  it('a 5xx from the token endpoint answers 502 and the next run tries again', async () => {
    op.fail5xx = true;
    now += 59 * 60_000;
    const r = await run();
    expect(r.status).toBe(502);
    expect(r.json.error).toBe('upstream_unreachable');
    expect(status()).toBe('active');
    op.fail5xx = false;
    expect((await run()).status).toBe(200);
    expect(op.refreshes).toBe(1);
  });

  it('deleting the app leaves the credential until its next refresh, then reconnect_required', async () => {
    expect((await t.api('DELETE', '/oauth-apps/github', root.token)).status).toBe(204);
    expect((await run()).status).toBe(200);
    now += 59 * 60_000;
    expect((await run()).status).toBe(422);
    expect(status()).toBe('reconnect_required');
  });
});
