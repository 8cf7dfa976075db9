// Small holes found by attacking Latchkey: a GET that wrote an audit event (export), ids that
// parsed loosely ("1e0", "0x1", "01" all meant 1), and a file: redirect reported with an empty host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';
import { startFakeService, type FakeService } from '../helpers/fake-services';

let t: TestApp;
let svc: FakeService;
let alice: Awaited<ReturnType<TestApp['user']>>;
let toolkitId: number;

const exportEvents = async () => (await t.sqlOne<{ n: number }>(`SELECT count(*) AS n FROM audit_events WHERE action = 'audit.export'`))!.n;

beforeAll(async () => {
  svc = await startFakeService();
  t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
  alice = await t.user('alice');
  await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'Echo', type: 'http_bearer', fields: { base_url: svc.url }, secrets: { token: 'alice-echo-token' } });
  const tk = await t.api('POST', '/workspaces/private/toolkits', alice.token, { name: 'Echo', type: 'http', settings: {}, credential: { scope: 'private', credential_id: 'echo' } });
  expect(tk.status).toBe(201);
  toolkitId = tk.json.id;
  expect(toolkitId).toBe(1);
});
afterAll(async () => {
  await t.close();
  await svc.close();
});

describe('audit export has no GET side effect', () => {
  it('answers a GET (a cross-site link) without recording anything', async () => {
    for (const format of ['csv', 'jsonl']) {
      const res = await t.browser('GET', `/admin/audit/export.${format}`, { cookie: alice.cookie, headers: { 'Sec-Fetch-Site': 'cross-site' } });
      expect(res.status).toBe(404);
    }
    expect(await exportEvents()).toBe(0);
  });

  it('refuses a cross-site POST and records a same-origin one', async () => {
    const foreign = await t.browser('POST', '/admin/audit/export.csv', { cookie: alice.cookie, headers: { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' } });
    expect(foreign.status).toBe(403);
    expect(await exportEvents()).toBe(0);
    const res = await t.browser('POST', '/admin/audit/export.csv?actor=alice', { cookie: alice.cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="latchkey-audit-.*\.csv"$/);
    expect(await res.text()).toContain('user.signup');
    expect(await exportEvents()).toBe(1);
  });
});

describe('ids are canonical positive integers', () => {
  const LOOSE = ['1e0', '0x1', '01', '001', '1.0', '+1', '%201', '1%20', '0', '-1', '99999999999999999999', '１'];

  it.each(LOOSE)('toolkit page and API answer 404 to %j', async (id) => {
    expect((await t.browser('GET', `/w/private/toolkits/${id}`, { cookie: alice.cookie })).status).toBe(404);
    expect((await t.browser('GET', `/w/private/toolkits/${id}/edit`, { cookie: alice.cookie })).status).toBe(404);
    expect((await t.api('GET', `/workspaces/private/toolkits/${id}`, alice.token)).status).toBe(404);
    const run = await t.api('POST', `/workspaces/private/toolkits/${id}/execute`, alice.token, { tool: 'request', input: { method: 'GET', path: '/echo' } });
    expect(run.status).toBe(404);
    expect((await t.browser('GET', `/admin/audit/events/${id}`, { cookie: alice.cookie })).status).toBe(404);
  });

  it('the canonical spelling still works', async () => {
    expect((await t.browser('GET', '/w/private/toolkits/1', { cookie: alice.cookie })).status).toBe(200);
    expect((await t.api('GET', '/workspaces/private/toolkits/1', alice.token)).status).toBe(200);
    expect((await t.browser('GET', '/admin/audit/events/1', { cookie: alice.cookie })).status).toBe(200);
  });

  it('a token is revoked only by its canonical id', async () => {
    const row = (await t.sqlOne<{ id: number }>('SELECT id FROM api_tokens ORDER BY id LIMIT 1'))!;
    const res = await t.browser('POST', `/settings/tokens/0${row.id}/revoke`, { cookie: alice.cookie, form: {} });
    expect(res.status).toBe(404);
    expect((await t.api('GET', '/me', alice.token)).status).toBe(200);
  });
});

describe('a redirect to a non-http scheme', () => {
  it('is refused with a message naming the scheme', async () => {
    const run = await t.api('POST', `/workspaces/private/toolkits/${toolkitId}/execute`, alice.token, {
      tool: 'request',
      input: { method: 'GET', path: '/redirect-to', query: { url: 'file:///etc/passwd' } },
    });
    expect(run.status).toBe(502);
    expect(run.json).toMatchObject({ error: 'upstream_unreachable' });
    expect(run.json.message).toContain('redirected to a file: URL');
    expect(run.json.message).not.toMatch(/may not call \./);
  });
});
