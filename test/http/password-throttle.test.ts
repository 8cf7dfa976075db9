// Guesses at the current password on the Settings page are throttled like sign-ins.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, type TestApp } from '../helpers/app';

describe('password change throttling', () => {
  let t: TestApp;
  afterEach(() => t.close());

  it('answers 429 with Retry-After after five wrong current passwords, even for the right one', async () => {
    let now = Date.now();
    t = await createTestApp({ now: () => now });
    const alice = await t.user('alice');
    const change = (current: string) => t.browser('POST', '/settings/password', { cookie: alice.cookie, form: { current, password: 'a brand new long password' } });
    for (let i = 0; i < 5; i++) expect((await change('not my password')).status).toBe(400);
    const blocked = await change(PASSWORD);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await blocked.text()).toContain('Too many wrong attempts');
    now += 16 * 60_000;
    expect((await change(PASSWORD)).status).toBe(303);
  });
});

describe('sign-in throttling behind a proxy', () => {
  let t: TestApp;
  afterEach(() => t.close());

  const failFrom = (app: TestApp, forwardedFor: string, username: string) =>
    app.browser('POST', '/login', { form: { username, password: 'wrong wrong wrong' }, headers: { 'X-Forwarded-For': `203.0.113.9, ${forwardedFor}` } });

  it('with TRUST_PROXY=1 counts failures per forwarded client, not per proxy', async () => {
    t = await createTestApp({ env: { TRUST_PROXY: '1' } });
    await t.user('alice');
    for (let i = 0; i < 30; i++) expect((await failFrom(t, '198.51.100.1', `nobody${i}`)).status).toBe(401);
    expect((await failFrom(t, '198.51.100.1', 'nobody-more')).status).toBe(429);
    // Another client behind the same proxy is not locked out.
    expect((await failFrom(t, '198.51.100.2', 'nobody-else')).status).toBe(401);
  });

  it('without it ignores X-Forwarded-For, which a client could forge', async () => {
    t = await createTestApp();
    await t.user('alice');
    for (let i = 0; i < 30; i++) await failFrom(t, `198.51.100.${i}`, `nobody${i}`);
    expect((await failFrom(t, '198.51.100.99', 'nobody-more')).status).toBe(429);
  });
});

describe('throttle rows', () => {
  let t: TestApp;
  afterEach(() => t.close());

  it('are swept once older than any window, even for keys that never fail again', async () => {
    let now = Date.now();
    t = await createTestApp({ now: () => now });
    const count = async () => (await t.sqlOne<{ n: number }>('SELECT count(*) AS n FROM auth_throttle'))!.n;
    // A client sprays usernames: each failure leaves rows under keys nobody will try again.
    for (const u of ['spray-1', 'spray-2', 'spray-3']) await t.browser('POST', '/login', { form: { username: u, password: 'wrong wrong wrong' } });
    const sprayed = await count();
    expect(sprayed).toBeGreaterThanOrEqual(3);
    now += 25 * 60 * 60_000;
    await t.browser('POST', '/login', { form: { username: 'someone-else', password: 'wrong wrong wrong' } });
    // Only the last failure's rows are left (one per limiter it counts against).
    expect(await count()).toBe(sprayed / 3);
    expect(await t.sql<{ at: number }>('SELECT at FROM auth_throttle WHERE at < ?', [now])).toEqual([]);
  });
});
