// A password change on the Settings page offers to revoke the person's API tokens too (ticked by
// default): a changed password often means the old one leaked, and tokens made with it must go.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, type TestApp } from '../helpers/app';

const NEW_PASSWORD = 'a brand new long password';

describe('password change and API tokens', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  it('offers "Also revoke my API tokens", ticked by default', async () => {
    const alice = await t.user('alice');
    const html = await (await t.browser('GET', '/settings', { cookie: alice.cookie })).text();
    expect(html).toMatch(/<input[^>]*name="revoke_tokens"[^>]*checked/);
    expect(html).toContain('Also revoke my API tokens');
  });

  it('revokes every token of the person when ticked, and says so', async () => {
    const alice = await t.user('alice');
    const bob = await t.user('bob');
    const res = await t.browser('POST', '/settings/password', { cookie: alice.cookie, form: { current: PASSWORD, password: NEW_PASSWORD, revoke_tokens: '1' } });
    expect(res.status).toBe(303);
    expect((await t.api('GET', '/me', alice.token)).status).toBe(401);
    expect((await t.api('GET', '/me', bob.token)).status).toBe(200); // only her own
    const cookie = res.headers.getSetCookie()[0].split(';')[0];
    const page = await (await t.browser('GET', res.headers.get('location')!, { cookie })).text();
    expect(page).toContain('your personal access tokens revoked');
    const event = (await t.sqlOne<{ details_json: string }>(`SELECT details_json FROM audit_events WHERE action = 'user.password_change'`))!;
    expect(JSON.parse(event.details_json)).toMatchObject({ tokens_revoked: 1 });
  });

  it('keeps the tokens when unticked (an unticked checkbox is simply not sent)', async () => {
    const alice = await t.user('alice');
    const res = await t.browser('POST', '/settings/password', { cookie: alice.cookie, form: { current: PASSWORD, password: NEW_PASSWORD } });
    expect(res.status).toBe(303);
    expect((await t.api('GET', '/me', alice.token)).status).toBe(200);
  });
});
