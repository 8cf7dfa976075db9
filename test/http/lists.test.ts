// Long lists come a page at a time, with the filters kept across pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';

describe('paged lists', () => {
  let t: TestApp;
  let alice: Awaited<ReturnType<TestApp['user']>>;
  beforeAll(async () => {
    t = await createTestApp();
    alice = await t.user('alice');
    await t.api('POST', '/projects', alice.token, { name: 'Big' });
    for (let i = 0; i < 60; i++) {
      const r = await t.api('POST', '/workspaces/big/credentials', alice.token, { name: `Cred ${String(i).padStart(2, '0')}`, type: i < 55 ? 'github' : 'gitlab', secrets: { token: `t${i}` } });
      expect(r.status).toBe(201);
    }
    for (let i = 0; i < 55; i++) {
      const r = await t.api('POST', '/workspaces/big/toolkits', alice.token, { name: `Kit ${String(i).padStart(2, '0')}`, type: 'github', settings: {}, credential: { scope: 'project', credential_id: `cred_${String(i).padStart(2, '0')}` } });
      expect(r.status).toBe(201);
    }
  });
  afterAll(() => t.close());

  const rows = (html: string, prefix: string) => (html.match(new RegExp(`<tr id="${prefix}-`, 'g')) ?? []).length;

  it('shows 50 credentials a page, then the rest', async () => {
    const first = await (await t.browser('GET', '/w/big/credentials', { cookie: alice.cookie })).text();
    expect(rows(first, 'cred')).toBe(50);
    expect(first).toContain('Showing 1–50 of 60');
    expect(first).toContain('href="/w/big/credentials?page=2"');
    const second = await (await t.browser('GET', '/w/big/credentials?page=2', { cookie: alice.cookie })).text();
    expect(rows(second, 'cred')).toBe(10);
    expect(second).toContain('cred_59');
  });

  it('keeps the filter across pages and counts only matches', async () => {
    const gitlab = await (await t.browser('GET', '/w/big/credentials?type=gitlab', { cookie: alice.cookie })).text();
    expect(rows(gitlab, 'cred')).toBe(5);
    expect(gitlab).not.toContain('Showing');
    const page2 = await (await t.browser('GET', '/w/big/credentials?type=github&page=2', { cookie: alice.cookie, headers: { 'HX-Request': 'true', 'HX-Target': 'credential-list' } })).text();
    expect(page2).toContain('Showing 51–55 of 55');
    expect(page2).toContain('href="/w/big/credentials?type=github"');
    expect(page2).not.toContain('<html');
  });

  it('shows 50 toolkits a page with their status', async () => {
    const first = await (await t.browser('GET', '/w/big/toolkits', { cookie: alice.cookie })).text();
    expect(rows(first, 'toolkit')).toBe(50);
    expect(first).toContain('Showing 1–50 of 55');
    const second = await (await t.browser('GET', '/w/big/toolkits?page=2', { cookie: alice.cookie })).text();
    expect(rows(second, 'toolkit')).toBe(5);
    expect(second).toContain('Ready');
  });
});
