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
  const status = async () => (await t.sqlOne<{ s: string }>("SELECT connection_status AS s FROM credentials WHERE credential_id = 'github_token'"))!.s;

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
    expect(await status()).toBe('reconnect_required');
    const audit = await t.sql("SELECT actor, workspace, outcome FROM audit_events WHERE action = 'credential.refresh_failed'");
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
    expect(await status()).toBe('active');
    expect(await t.sqlOne("SELECT count(*) AS n FROM audit_events WHERE action = 'credential.reconnect'")).toEqual({ n: 1 });
    expect((await run()).status).toBe(200);
    const everything = [page, JSON.stringify(await t.sql('SELECT * FROM audit_events')), t.logs.join('\n')].join('\n');
    for (const secret of [...op.issued, op.clientSecret]) expect(everything).not.toContain(secret);
  });

  it('a 5xx from the token endpoint answers 502 and the next run tries again', async () => {
    op.fail5xx = true;
    now += 59 * 60_000;
    const r = await run();
    expect(r.status).toBe(502);
    expect(r.json.error).toBe('upstream_unreachable');
    expect(await status()).toBe('active');
    op.fail5xx = false;
    expect((await run()).status).toBe(200);
    expect(op.refreshes).toBe(1);
  });

  it('deleting the app leaves the credential until its next refresh, then reconnect_required', async () => {
    expect((await t.api('DELETE', '/oauth-apps/github', root.token)).status).toBe(204);
    expect((await run()).status).toBe(200);
    now += 59 * 60_000;
    expect((await run()).status).toBe(422);
    expect(await status()).toBe('reconnect_required');
  });
});

// `expires_at` taken from a connected account (CONTRACT §8; the rule is connectedSchedule in
// src/connect/token-client.ts): a refresh token's own expiry when the provider reports one, none
// for a refresh token that renews itself, the access token's expiry when there is no refresh token.
describe('connected account expiry (expires_at)', () => {
  let t: TestApp;
  let op: FakeOAuth;
  let alice: User;
  let toolkitId: number;
  let now = Date.now();

  async function setUp(opts: Parameters<typeof startFakeOAuth>[0]) {
    now = Date.now();
    op = await startFakeOAuth({ login: 'alice', ...opts });
    t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' }, now: () => now });
    const root = await t.user('root');
    alice = await t.user('alice');
    await t.api('POST', '/oauth-apps', root.token, { name: 'github', provider: 'github', client_id: op.clientId, client_secret: op.clientSecret, authorize_url: `${op.url}/authorize`, token_url: `${op.url}/token`, base_url: op.url });
    toolkitId = (await t.api('POST', '/workspaces/private/toolkits', alice.token, { name: 'GitHub', type: 'github', credential: { scope: 'private', credential_id: 'github_token' } })).json.id;
    const start = await t.browser('GET', `/connect/github?credential_id=github_token&return_to=%2Fw%2Fprivate%2Fcredentials`, { cookie: alice.cookie });
    const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const callback = new URL(atProvider.headers.get('location')!);
    expect((await t.browser('GET', callback.pathname + callback.search, { cookie: alice.cookie })).status).toBe(303);
  }
  afterEach(async () => {
    await t?.close();
    await op?.close();
  });

  const run = () => t.api('POST', `/workspaces/private/toolkits/${toolkitId}/execute`, alice.token, { tool: 'get_authenticated_user', input: {} });
  const listed = async () => (await t.api('GET', '/workspaces/private/credentials', alice.token)).json.find((c: { credential_id: string }) => c.credential_id === 'github_token');
  const status = async () => (await t.sqlOne<{ s: string }>("SELECT connection_status AS s FROM credentials WHERE credential_id = 'github_token'"))!.s;
  const HOUR = 60 * 60_000;
  const DAY = 24 * HOUR;

  it('a token answer without expires_in (refresh token, no expiry): no expires_at, no refresh ahead; a 401 refreshes once', async () => {
    await setUp({ expiresIn: null });
    expect(await listed()).toMatchObject({ connected: true, expires_at: null, expiry: 'none' });
    now += 400 * DAY;
    expect((await run()).status).toBe(200);
    expect(op.tokenCalls).toBe(1); // only the code exchange
    op.expireAccessToken();
    expect((await run()).status).toBe(200);
    expect(op.refreshes).toBe(1);
    expect(await listed()).toMatchObject({ expires_at: null, expiry: 'none', status: 'active' });
  });

  it('expires_in without a refresh token: expires_at is the access token’s expiry; it runs until then, then 422 credential_expired and the service gets no call', async () => {
    await setUp({ expiresIn: 8 * 3600, refreshToken: false });
    const connectedAt = now;
    const first = await listed();
    expect(first.expires_at).toBe(new Date(connectedAt + 8 * HOUR).toISOString());
    expect(first.expiry).toBe('soon'); // within seven days: the warnings show
    // Shown like a pasted credential's expiry, renewed by reconnecting (same Credential ID).
    const list = await (await t.browser('GET', '/w/private/credentials', { cookie: alice.cookie })).text();
    expect(list).toContain(`Expires ${new Date(connectedAt + 8 * HOUR).toISOString().slice(0, 10)}`);
    expect(list).toMatch(/href="\/connect\/github\?credential_id=github_token[^"]*reconnect=1"/);
    const soon = await (await t.browser('GET', `/w/private/toolkits/${toolkitId}`, { cookie: alice.cookie })).text();
    expect(soon).toContain('Credential github_token expires soon');
    expect(soon).toContain('Reconnect the account');

    now += 8 * HOUR - 60_000; // a minute before: no refresh attempted (there is nothing to refresh with)
    expect((await run()).status).toBe(200);
    expect(op.tokenCalls).toBe(1);
    expect(await status()).toBe('active');

    now += 2 * 60_000;
    const calls = op.serviceCalls;
    const tokenCalls = op.tokenCalls;
    const r = await run();
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ error: 'credential_expired', credential_id: 'github_token' });
    expect([op.serviceCalls, op.tokenCalls]).toEqual([calls, tokenCalls]);
    expect(await listed()).toMatchObject({ expiry: 'expired' });
    expect((await t.api('GET', '/workspaces/private/toolkits', alice.token)).json[0].status).toBe('expired');
    const page = await (await t.browser('GET', `/w/private/toolkits/${toolkitId}`, { cookie: alice.cookie })).text();
    expect(page).toContain('Credential expired');
    expect(page).toMatch(/id="credential-expired"[\s\S]*href="\/connect\/github\?credential_id=github_token[^"]*reconnect=1"/);
    for (const secret of op.issued) expect(page + list).not.toContain(secret);
  });

  it('a 401 with no refresh token makes the credential reconnect_required (before its expires_at)', async () => {
    await setUp({ expiresIn: 8 * 3600, refreshToken: false });
    op.expireAccessToken();
    const r = await run();
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ error: 'credential_reconnect_required', credential_id: 'github_token' });
    expect(await status()).toBe('reconnect_required');
    expect(op.refreshes).toBe(0);
  });

  it('a 401 with no refresh token and no expires_in: reconnect_required, expires_at stays null', async () => {
    await setUp({ expiresIn: null, refreshToken: false });
    expect(await listed()).toMatchObject({ expires_at: null, expiry: 'none' });
    now += 30 * DAY;
    expect((await run()).status).toBe(200);
    op.expireAccessToken();
    expect((await run()).json).toMatchObject({ error: 'credential_reconnect_required' });
    expect(await listed()).toMatchObject({ status: 'reconnect_required', expires_at: null });
  });

  it('refresh_token_expires_in (GitHub Apps) is honoured: expires_at is the refresh token’s end, and each refresh moves it on', async () => {
    await setUp({ expiresIn: 8 * 3600, refreshTokenExpiresIn: 30 * 24 * 3600 });
    const connectedAt = now;
    expect(await listed()).toMatchObject({ expires_at: new Date(connectedAt + 30 * DAY).toISOString(), expiry: 'ok' });
    now += 8 * HOUR; // the access token is due: refreshed before the call, with a new refresh token
    expect((await run()).status).toBe(200);
    expect(op.refreshes).toBe(1);
    expect(await listed()).toMatchObject({ expires_at: new Date(now + 30 * DAY).toISOString(), expiry: 'ok' });

    // Unused for longer than the refresh token lives: expired, nothing sent to the provider or the service.
    now += 31 * DAY;
    const calls = [op.tokenCalls, op.serviceCalls];
    const r = await run();
    expect(r.json).toMatchObject({ error: 'credential_expired', credential_id: 'github_token' });
    expect([op.tokenCalls, op.serviceCalls]).toEqual(calls);
  });

  it('Test connection does not replace a connected account’s expiry with the access token’s that the service reports', async () => {
    await setUp({ expiresIn: 8 * 3600, refreshTokenExpiresIn: 30 * 24 * 3600 });
    const before = (await listed()).expires_at;
    op.tokenExpirationHeader = new Date(now + 8 * HOUR).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
    const test = await t.api('POST', '/workspaces/private/credentials/github_token/test', alice.token);
    expect(test.json.ok).toBe(true);
    expect((await listed()).expires_at).toBe(before);
  });
});
