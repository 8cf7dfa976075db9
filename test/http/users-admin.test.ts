// The Users page: instance admins only; creating accounts (the way in with SIGNUP=closed),
// disabling (sessions and tokens end at once), granting and removing instance admin, resetting a
// password; the last active instance admin is protected inside the transaction.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setUserAdmin, setUserDisabled } from '../../src/store/users';
import { cookieFrom, createTestApp, PASSWORD, type TestApp } from '../helpers/app';

type User = Awaited<ReturnType<TestApp['user']>>;

function events(t: TestApp, action: string) {
  return t.sql<{ actor: string | null; target: string; outcome: string; details_json: string }>('SELECT actor, target, outcome, details_json FROM audit_events WHERE action = ? ORDER BY id', [action]);
}

/** True when the cookie still opens a signed-in page (no redirect to /login). */
async function signedIn(t: TestApp, cookie: string) {
  const res = await t.browser('GET', '/settings', { cookie });
  return res.status === 200;
}

describe('the Users page', () => {
  let t: TestApp;
  let alice: User; // the first account: instance admin
  let bob: User;

  beforeEach(async () => {
    t = await createTestApp({ env: { SIGNUP: 'closed' } });
    alice = await t.user('alice');
    // Sign-up is closed: bob exists only because an admin creates him.
    const created = await t.browser('POST', '/admin/users', { cookie: alice.cookie, form: { username: 'Bob', password: PASSWORD } });
    expect(created.status).toBe(303);
    expect(created.headers.get('location')).toBe('/admin/users?done=created&user=bob');
    bob = await t.user('bob');
  });
  afterEach(() => t.close());

  it('is for instance admins only: 403 for everyone else, page and every action', async () => {
    const gets = ['/admin/users', '/admin/users/alice/disable', '/admin/users/alice/password', '/admin/users/alice/admin-revoke'];
    for (const url of gets) expect((await t.browser('GET', url, { cookie: bob.cookie })).status, url).toBe(403);
    const posts: [string, Record<string, string>][] = [
      ['/admin/users', { username: 'mallory', password: PASSWORD }],
      ['/admin/users/alice/disable', {}],
      ['/admin/users/alice/admin-revoke', {}],
      ['/admin/users/bob/admin-grant', {}],
      ['/admin/users/alice/password', { password: 'a brand new password' }],
    ];
    for (const [url, form] of posts) expect((await t.browser('POST', url, { cookie: bob.cookie, form })).status, url).toBe(403);
    expect(await events(t, 'user.admin_grant')).toHaveLength(0);
    expect(await t.sqlOne(`SELECT count(*) AS n FROM users WHERE username = 'mallory'`)).toEqual({ n: 0 });
    expect(await signedIn(t, alice.cookie)).toBe(true);
    // Nor does bob's sidebar offer it; alice's does.
    expect(await (await t.browser('GET', '/settings', { cookie: bob.cookie })).text()).not.toContain('/admin/users');
    const page = await (await t.browser('GET', '/admin/users?done=created&user=bob', { cookie: alice.cookie })).text();
    expect(page).toContain('bob was created.');
    expect(page).toMatch(/id="user-bob"[\s\S]*?Active/);
  });

  it('creates users with a checked username and password, audited without the password', async () => {
    const bad = await t.browser('POST', '/admin/users', { cookie: alice.cookie, form: { username: 'x', password: 'short' } });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toContain('Use 2 to 32 characters');
    expect(html).toContain('Use at least 12 characters.');
    const taken = await t.browser('POST', '/admin/users', { cookie: alice.cookie, form: { username: 'bob', password: PASSWORD } });
    expect(taken.status).toBe(400);
    expect(await taken.text()).toContain('That username is taken.');

    const admin = await t.browser('POST', '/admin/users', { cookie: alice.cookie, form: { username: 'carol', password: 'carol initial password', admin: '1' } });
    expect(admin.status).toBe(303);
    const login = await t.browser('POST', '/login', { form: { username: 'carol', password: 'carol initial password' } });
    expect(login.status).toBe(303);
    expect((await t.browser('GET', '/admin/users', { cookie: cookieFrom(login) })).status).toBe(200); // she is an instance admin

    const created = await events(t, 'user.create');
    expect(created.map((e) => [e.actor, e.target])).toEqual([
      ['alice', 'user:bob'],
      ['alice', 'user:carol'],
    ]);
    expect(JSON.stringify(await t.sql('SELECT * FROM audit_events'))).not.toContain('carol initial password');
  });

  it('disabling ends the session and the API token at once; enabling lets them sign in again', async () => {
    expect(await signedIn(t, bob.cookie)).toBe(true);
    expect((await t.api('GET', '/me', bob.token)).status).toBe(200);

    const confirm = await t.browser('GET', '/admin/users/bob/disable', { cookie: alice.cookie, headers: { 'HX-Request': 'true' } });
    expect(await confirm.text()).toContain('<dialog data-open-modal');
    const res = await t.browser('POST', '/admin/users/bob/disable', { cookie: alice.cookie, form: {} });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/users?done=disabled&user=bob');

    const next = await t.browser('GET', '/w/private/toolkits', { cookie: bob.cookie });
    expect(next.status).toBe(303);
    expect(next.headers.get('location')).toMatch(/^\/login/);
    expect((await t.api('GET', '/me', bob.token)).status).toBe(401);
    expect((await t.browser('POST', '/login', { form: { username: 'bob', password: PASSWORD } })).status).toBe(401);
    expect(await t.sqlOne(`SELECT count(*) AS n FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'bob'`)).toEqual({ n: 0 });
    expect(await t.sqlOne(`SELECT count(*) AS n FROM api_tokens a JOIN users u ON u.id = a.user_id WHERE u.username = 'bob'`)).toEqual({ n: 0 });
    expect(await events(t, 'user.disable')).toEqual([expect.objectContaining({ actor: 'alice', target: 'user:bob', outcome: 'success' })]);
    expect(await (await t.browser('GET', '/admin/users', { cookie: alice.cookie })).text()).toMatch(/id="user-bob"[\s\S]*?Disabled/);

    expect((await t.browser('POST', '/admin/users/bob/enable', { cookie: alice.cookie, form: {} })).status).toBe(303);
    const again = await t.browser('POST', '/login', { form: { username: 'bob', password: PASSWORD } });
    expect(again.status).toBe(303);
    expect(await signedIn(t, cookieFrom(again))).toBe(true);
    expect((await t.api('GET', '/me', bob.token)).status).toBe(401); // revoked tokens stay revoked
    expect(await events(t, 'user.enable')).toHaveLength(1);
  });

  it('grants and removes instance admin; removing it ends that user’s sessions', async () => {
    expect((await t.browser('POST', '/admin/users/bob/admin-grant', { cookie: alice.cookie, form: {} })).status).toBe(303);
    expect((await t.api('GET', '/me', bob.token)).json.is_admin).toBe(true);
    expect((await t.browser('GET', '/admin/users', { cookie: bob.cookie })).status).toBe(200);

    const res = await t.browser('POST', '/admin/users/bob/admin-revoke', { cookie: alice.cookie, form: {} });
    expect(res.status).toBe(303);
    expect(await signedIn(t, bob.cookie)).toBe(false);
    expect((await t.api('GET', '/me', bob.token)).json.is_admin).toBe(false);
    const fresh = cookieFrom(await t.browser('POST', '/login', { form: { username: 'bob', password: PASSWORD } }));
    expect((await t.browser('GET', '/admin/users', { cookie: fresh })).status).toBe(403);
    expect((await t.browser('GET', '/admin/audit', { cookie: fresh })).status).toBe(403);
    expect((await events(t, 'user.admin_grant')).map((e) => e.target)).toEqual(['user:bob']);
    expect((await events(t, 'user.admin_revoke')).map((e) => e.target)).toEqual(['user:bob']);
  });

  it('resets a password: the new one works, the old one and the old sessions do not', async () => {
    const dialog = await t.browser('GET', '/admin/users/bob/password', { cookie: alice.cookie, headers: { 'HX-Request': 'true' } });
    expect(await dialog.text()).toContain('New password');
    const short = await t.browser('POST', '/admin/users/bob/password', { cookie: alice.cookie, headers: { 'HX-Request': 'true' }, form: { password: 'short' } });
    expect(short.status).toBe(400);
    expect(await short.text()).toContain('Use at least 12 characters.');
    expect(await signedIn(t, bob.cookie)).toBe(true);

    const res = await t.browser('POST', '/admin/users/bob/password', { cookie: alice.cookie, headers: { 'HX-Request': 'true' }, form: { password: 'the reset password 42' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('hx-redirect')).toBe('/admin/users?done=password&user=bob');
    expect(await signedIn(t, bob.cookie)).toBe(false);
    expect((await t.browser('POST', '/login', { form: { username: 'bob', password: PASSWORD } })).status).toBe(401);
    expect((await t.browser('POST', '/login', { form: { username: 'bob', password: 'the reset password 42' } })).status).toBe(303);
    expect(await events(t, 'user.password_reset')).toEqual([expect.objectContaining({ actor: 'alice', target: 'user:bob' })]);
    expect(JSON.stringify(await t.sql('SELECT * FROM audit_events'))).not.toContain('the reset password 42');

    // An admin resetting their own password stays signed in in this browser.
    const own = await t.browser('POST', '/admin/users/alice/password', { cookie: alice.cookie, form: { password: 'alice has a new one' } });
    expect(own.status).toBe(303);
    expect(await signedIn(t, alice.cookie)).toBe(false);
    expect(await signedIn(t, cookieFrom(own))).toBe(true);
  });

  it('protects the last active instance admin', async () => {
    // alice is the only admin: she can neither disable herself nor drop her own admin.
    for (const action of ['disable', 'admin-revoke']) {
      const res = await t.browser('POST', `/admin/users/alice/${action}`, { cookie: alice.cookie, form: {} });
      expect(res.status, action).toBe(409);
      expect(await res.text()).toContain('This is the last active instance admin.');
    }
    expect(await signedIn(t, alice.cookie)).toBe(true);
    expect(await events(t, 'user.disable')).toHaveLength(0);
    expect(await events(t, 'user.admin_revoke')).toHaveLength(0);
    // The page does not offer those buttons for her.
    const page = await (await t.browser('GET', '/admin/users', { cookie: alice.cookie })).text();
    expect(page).not.toContain('/admin/users/alice/disable');
    expect(page).not.toContain('/admin/users/alice/admin-revoke');

    // With a second admin, each may act on the other but not on themselves.
    await t.browser('POST', '/admin/users/bob/admin-grant', { cookie: alice.cookie, form: {} });
    const self = await t.browser('POST', '/admin/users/alice/disable', { cookie: alice.cookie, form: {} });
    expect(self.status).toBe(409);
    expect(await self.text()).toContain('You cannot disable yourself');

    // Two admins removing each other at the same moment: the check runs inside each transaction,
    // so whichever runs second is refused and one admin always remains.
    const aliceActor = { id: alice.id, username: 'alice' };
    const bobActor = { id: bob.id, username: 'bob' };
    // Which one runs first is the engine's choice (SQLite: the order asked; PostgreSQL: whichever
    // transaction takes the write lock first): exactly one succeeds.
    const results = await Promise.all([setUserDisabled(t.deps.store, aliceActor, bob.id, true), setUserDisabled(t.deps.store, bobActor, alice.id, true)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'last_admin' }]);
    const [survivor, loser] = results[0].ok ? [alice, bobActor] : [bob, aliceActor];
    expect(await setUserAdmin(t.deps.store, loser, survivor.id, false)).toEqual({ ok: false, reason: 'last_admin' });
    const admins = await t.sql('SELECT username FROM users WHERE is_admin = TRUE AND disabled = FALSE');
    expect(admins).toEqual([{ username: survivor.username }]);
  });

  it('answers 404 for a user that does not exist', async () => {
    expect((await t.browser('POST', '/admin/users/nobody/disable', { cookie: alice.cookie, form: {} })).status).toBe(404);
    expect((await t.browser('GET', '/admin/users/nobody/password', { cookie: alice.cookie })).status).toBe(404);
    expect((await t.browser('GET', '/admin/users/bob/explode', { cookie: alice.cookie })).status).toBe(404);
  });
});
