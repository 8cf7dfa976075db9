import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';

describe('smoke', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  it('serves healthz and redirects visitors to /login', async () => {
    expect(await (await t.app.request('/healthz')).json()).toEqual({ ok: true });
    const res = await t.browser('GET', '/');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
  });

  it('signs up the first user as admin with a Private workspace', async () => {
    const alice = await t.user('alice');
    const res = await t.browser('GET', '/w/private/toolkits', { cookie: alice.cookie });
    expect(res.status).toBe(200);
    const me = await t.api('GET', '/me', alice.token);
    expect(me.json).toEqual({ username: 'alice', is_admin: true });
  });
});
