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
