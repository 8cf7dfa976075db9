// Personal access tokens for scripts: GET /api/v1/tokens lists the caller's own (never the token),
// DELETE /api/v1/tokens/:id revokes one of them (another person's is 404), names are unique per
// person; and the Settings page's Agents section.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/services/create-api-token';
import { createTestApp, type TestApp } from '../helpers/app';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(() => t.close());

describe('GET /api/v1/tokens', () => {
  it('lists the caller’s own tokens with id, name and times, never the token or its hash', async () => {
    const alice = await t.user('alice');
    const bob = await t.user('bob');
    const second = await createApiToken(t.deps, { id: alice.id, username: 'alice' }, 'ci-bot');
    expect(second.ok).toBe(true);
    await t.api('GET', '/me', alice.token); // marks "test" as used

    const r = await t.api('GET', '/tokens', alice.token);
    expect(r.status).toBe(200);
    expect(r.json.map((x: any) => Object.keys(x).sort())).toEqual([
      ['created_at', 'id', 'last_used_at', 'name'],
      ['created_at', 'id', 'last_used_at', 'name'],
    ]);
    expect(r.json.map((x: any) => x.name).sort()).toEqual(['ci-bot', 'test']);
    const used = r.json.find((x: any) => x.name === 'test');
    expect(used.last_used_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(r.json.find((x: any) => x.name === 'ci-bot').last_used_at).toBeNull();
    for (const secret of [alice.token, second.ok ? second.token : '', bob.token]) expect(r.text).not.toContain(secret);
    expect(r.text).not.toMatch(/[0-9a-f]{64}/);
  });

  it('needs a token', async () => {
    expect((await t.api('GET', '/tokens', null)).status).toBe(401);
  });
});

describe('DELETE /api/v1/tokens/:id', () => {
  const cases = [
    { name: 'own token → 204, and it stops working at once', own: true, status: 204, stillWorks: false },
    { name: 'another person’s token → 404, and it keeps working', own: false, status: 404, stillWorks: true },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const alice = await t.user('alice');
      const bob = await t.user('bob');
      const target = c.own ? alice : bob;
      const id = (await t.api('GET', '/tokens', target.token)).json[0].id;
      const r = await t.api('DELETE', `/tokens/${id}`, alice.token);
      expect(r.status).toBe(c.status);
      if (c.status === 404) expect(r.json).toMatchObject({ error: 'not_found' });
      expect((await t.api('GET', '/me', target.token)).status).toBe(c.stillWorks ? 200 : 401);
    });
  }

  it('an id that does not exist or is not a number → 404', async () => {
    const alice = await t.user('alice');
    for (const id of ['99999', 'abc', '1e3']) expect((await t.api('DELETE', `/tokens/${id}`, alice.token)).status, id).toBe(404);
  });
});

describe('Settings page', () => {
  it('refuses a token name the person already uses with 409, while another person may use it', async () => {
    const alice = await t.user('alice');
    const bob = await t.user('bob');
    const first = await t.browser('POST', '/settings/tokens', { cookie: alice.cookie, form: { name: 'laptop' } });
    expect(first.status).toBe(201);
    const again = await t.browser('POST', '/settings/tokens', { cookie: alice.cookie, form: { name: 'laptop' } });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('You already have a token named &quot;laptop&quot;. Choose another name.');
    expect((await t.browser('POST', '/settings/tokens', { cookie: bob.cookie, form: { name: 'laptop' } })).status).toBe(201);
    expect((await t.api('GET', '/tokens', alice.token)).json.filter((x: any) => x.name === 'laptop')).toHaveLength(1);
  });

  it('has an Agents section with the /mcp URL and client configurations using a token placeholder', async () => {
    const alice = await t.user('alice');
    const html = await (await t.browser('GET', '/settings', { cookie: alice.cookie })).text();
    expect(html).toContain('<h2 id="agents-heading">Agents</h2>');
    expect(html).toContain('<code id="mcp-url">http://localhost/mcp</code>');
    for (const client of ['Cursor', 'VS Code', 'Claude Desktop']) expect(html).toContain(client);
    expect(html).toContain('&quot;url&quot;: &quot;http://localhost/mcp&quot;');
    expect(html).toContain('Bearer &lt;your personal access token&gt;');
    expect(html).not.toContain(alice.token);
  });
});
