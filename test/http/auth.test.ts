// Accounts and sessions over HTTP (app.request): sign-up, sign-in, sign-out, throttling, the
// session cookie, hashed-only token storage and password change. See SECURITY.md, "Accounts and
// sessions", and CONTRACT.md §1 (SIGNUP, BASE_URL) and §3 (words on the sign-in screens).
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { cookieFrom, createTestApp, PASSWORD, type TestApp } from '../helpers/app';
import { dumpDatabase, rowsText } from '../helpers/db-dump';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const WRONG = 'not the right password at all';
const CALM_FAILURE = 'That username and password do not match an account.';

let apps: TestApp[] = [];
async function fresh(opts: Parameters<typeof createTestApp>[0] = {}) {
  const t = await createTestApp(opts);
  apps.push(t);
  return t;
}
afterEach(async () => {
  for (const t of apps) await t.close();
  apps = [];
});

/** Audit rows of one action, oldest first. */
function audit(t: TestApp, action: string) {
  return t.sql<{ actor: string | null; workspace: string | null; action: string; target: string | null; outcome: string; details: string }>(
    'SELECT actor, workspace, action, target, outcome, details_json AS details FROM audit_events WHERE action = ? ORDER BY id',
    [action],
  );
}

/** The Set-Cookie line that sets (not clears) the session cookie, split into name, value and attributes. */
function sessionCookieLine(res: Response) {
  const line = res.headers.getSetCookie().find((l) => /session=[^;]+/.test(l.split(';')[0]));
  if (!line) return null;
  const [pair, ...rest] = line.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const attrs = new Map<string, string>();
  for (const a of rest) {
    const i = a.indexOf('=');
    attrs.set((i < 0 ? a : a.slice(0, i)).toLowerCase(), i < 0 ? '' : a.slice(i + 1));
  }
  return { line, name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs };
}

async function userCount(t: TestApp): Promise<number> {
  return (await t.sqlOne<{ n: number }>('SELECT count(*) AS n FROM users'))!.n;
}

/** A signed-in page that needs a session: 200 with a live cookie, else a redirect to /login. */
async function sessionWorks(t: TestApp, cookie: string): Promise<boolean> {
  const res = await t.browser('GET', '/w/private/toolkits', { cookie });
  if (res.status === 200) return true;
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toMatch(/^\/login/);
  return false;
}

type Scenario = {
  name: string;
  method: 'GET' | 'POST';
  url: string;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** Act as this signed-in user. */
  as?: string;
  status: number;
  location?: string;
  contains?: string[];
  notContains?: string[];
  /** Whether the answer starts a session. */
  startsSession?: boolean;
};

async function run(t: TestApp, s: Scenario, cookies: Record<string, string> = {}) {
  const res = await t.browser(s.method, s.url, { form: s.form, headers: s.headers, cookie: s.as ? cookies[s.as] : undefined });
  const body = await res.text();
  expect(res.status, `${s.name}: status (body: ${body.slice(0, 300)})`).toBe(s.status);
  if (s.location !== undefined) expect(res.headers.get('location'), `${s.name}: location`).toBe(s.location);
  for (const text of s.contains ?? []) expect(body, `${s.name}: should contain ${text}`).toContain(text);
  for (const text of s.notContains ?? []) expect(body, `${s.name}: should not contain ${text}`).not.toContain(text);
  if (s.startsSession !== undefined) expect(!!cookieFrom(res), `${s.name}: starts a session`).toBe(s.startsSession);
  return { res, body };
}

describe('sign-up', () => {
  it('sends the first visitor to sign-up and makes the first account instance admin with a Private workspace', async () => {
    const t = await fresh();
    await run(t, { name: 'login before any user', method: 'GET', url: '/login', status: 303, location: '/signup' });
    await run(t, {
      name: 'signup page for the first person',
      method: 'GET',
      url: '/signup',
      status: 200,
      contains: ['Username', 'Password', 'Sign up', 'You are the first person here'],
    });
    const first = await run(t, { name: 'first sign-up', method: 'POST', url: '/signup', form: { username: 'Alice', password: PASSWORD }, status: 303, location: '/', startsSession: true });
    const aliceCookie = cookieFrom(first.res);
    const second = await run(t, { name: 'second sign-up', method: 'POST', url: '/signup', form: { username: 'bob', password: PASSWORD }, status: 303, location: '/', startsSession: true });
    const bobCookie = cookieFrom(second.res);

    const users = await t.sql<{ id: string; username: string; is_admin: number }>('SELECT id, username, CASE WHEN is_admin THEN 1 ELSE 0 END AS is_admin FROM users ORDER BY created_at, username');
    expect(users.map((u) => [u.username, u.is_admin])).toEqual([
      ['alice', 1], // usernames are stored lowercased
      ['bob', 0],
    ]);
    for (const u of users) {
      const ws = await t.sql(`SELECT kind, name, slug FROM workspaces WHERE owner_user_id = ?`, [u.id]);
      expect(ws).toEqual([{ kind: 'private', name: 'Private', slug: null }]);
    }
    expect((await audit(t, 'user.signup')).map((e) => [e.actor, e.target, JSON.parse(e.details)])).toEqual([
      ['alice', 'user:alice', { is_admin: true }],
      ['bob', 'user:bob', { is_admin: false }],
    ]);

    // "/" leads a signed-in user to their Private workspace, which shows it by name.
    const home = await t.browser('GET', '/', { cookie: aliceCookie });
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/w/private/toolkits');
    for (const cookie of [aliceCookie, bobCookie]) {
      const page = await t.browser('GET', '/w/private/toolkits', { cookie });
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('Private');
      expect(html).toContain('Credentials');
      expect(html).toContain('Toolkits');
    }
    // Instance-admin markers show only for the first account.
    expect(await (await t.browser('GET', '/w/private/toolkits', { cookie: aliceCookie })).text()).toContain('/admin/users');
    expect(await (await t.browser('GET', '/w/private/toolkits', { cookie: bobCookie })).text()).not.toContain('/admin/users');
  });

  it('refuses bad input and taken usernames without creating anything', async () => {
    const t = await fresh();
    await t.session('alice');
    const scenarios: Scenario[] = [
      { name: 'password too short', method: 'POST', url: '/signup', form: { username: 'bob', password: 'short' }, status: 400, contains: ['at least 12 characters'], startsSession: false },
      { name: 'password too long', method: 'POST', url: '/signup', form: { username: 'bob', password: 'x'.repeat(257) }, status: 400, contains: ['at most 256 characters'], startsSession: false },
      { name: 'username with spaces', method: 'POST', url: '/signup', form: { username: 'bob smith', password: PASSWORD }, status: 400, contains: ['Use 2 to 32 characters'], startsSession: false },
      { name: 'username empty', method: 'POST', url: '/signup', form: { username: '', password: PASSWORD }, status: 400, startsSession: false },
      { name: 'username taken (any case)', method: 'POST', url: '/signup', form: { username: 'ALICE', password: PASSWORD }, status: 400, contains: ['That username is taken'], startsSession: false },
    ];
    for (const s of scenarios) await run(t, s);
    expect(await userCount(t)).toBe(1);
    expect(await audit(t, 'user.signup')).toHaveLength(1);
  });

  it('SIGNUP=closed: allows only the first account, then hides and refuses sign-up for everyone', async () => {
    const t = await fresh({ env: { SIGNUP: 'closed' } });
    // Before any account exists, the first person may still sign up (and becomes admin).
    await run(t, { name: 'login redirects to signup', method: 'GET', url: '/login', status: 303, location: '/signup' });
    await run(t, { name: 'signup page offered to the first', method: 'GET', url: '/signup', status: 200, contains: ['Sign up', 'You are the first person here'] });
    const first = await run(t, { name: 'first sign-up', method: 'POST', url: '/signup', form: { username: 'root', password: PASSWORD }, status: 303, startsSession: true });
    const rootCookie = cookieFrom(first.res);
    expect((await t.sqlOne<{ is_admin: number }>('SELECT CASE WHEN is_admin THEN 1 ELSE 0 END AS is_admin FROM users'))!.is_admin).toBe(1);

    const closed = 'Sign-up is closed on this instance';
    const scenarios: Scenario[] = [
      { name: 'signup page hidden', method: 'GET', url: '/signup', status: 303, location: '/login' },
      { name: 'login page has no sign-up link', method: 'GET', url: '/login', status: 200, contains: ['Sign in', 'Accounts are created by your Latchkey administrator.'], notContains: ['href="/signup"', 'Create an account'] },
      // The refusal does not offer the sign-up form again.
      { name: 'sign-up post refused', method: 'POST', url: '/signup', form: { username: 'mallory', password: PASSWORD }, status: 403, contains: [closed, 'Sign in'], notContains: ['action="/signup"', 'href="/signup"'], startsSession: false },
      { name: 'sign-up post refused with other case', method: 'POST', url: '/signup', form: { username: 'Eve', password: PASSWORD }, status: 403, contains: [closed], notContains: ['action="/signup"'], startsSession: false },
      // Refused before the input is looked at: no validation hints, no "username taken" oracle.
      { name: 'sign-up with bad input refused', method: 'POST', url: '/signup', form: { username: 'x', password: 'short' }, status: 403, contains: [closed], notContains: ['at least 12 characters', 'action="/signup"'], startsSession: false },
      { name: 'sign-up as an existing name refused', method: 'POST', url: '/signup', form: { username: 'root', password: PASSWORD }, status: 403, contains: [closed], notContains: ['taken'], startsSession: false },
      { name: 'failed sign-in page has no sign-up link', method: 'POST', url: '/login', form: { username: 'nobody', password: WRONG }, status: 401, notContains: ['href="/signup"'] },
      // Being signed in (even as the instance admin) does not reopen the public sign-up form.
      { name: 'admin posting the sign-up form', method: 'POST', url: '/signup', as: 'root', form: { username: 'carol', password: PASSWORD }, status: 403, contains: [closed] },
    ];
    for (const s of scenarios) await run(t, s, { root: rootCookie });
    expect(await userCount(t)).toBe(1);
    expect(await audit(t, 'user.signup')).toHaveLength(1);
  });
});

describe('sign-in', () => {
  it('signs in with the right password, records user.login, and honours only same-site next paths', async () => {
    const t = await fresh();
    await t.session('alice');
    const scenarios: Scenario[] = [
      { name: 'login page', method: 'GET', url: '/login', status: 200, contains: ['Username', 'Password', 'Sign in', 'Create an account'] },
      { name: 'right password', method: 'POST', url: '/login', form: { username: 'alice', password: PASSWORD }, status: 303, location: '/', startsSession: true },
      { name: 'username in another case', method: 'POST', url: '/login', form: { username: ' ALICE ', password: PASSWORD }, status: 303, startsSession: true },
      { name: 'next path kept', method: 'POST', url: '/login', form: { username: 'alice', password: PASSWORD, next: '/settings' }, status: 303, location: '/settings', startsSession: true },
      { name: 'protocol-relative next dropped', method: 'POST', url: '/login', form: { username: 'alice', password: PASSWORD, next: '//evil.example/x' }, status: 303, location: '/', startsSession: true },
      { name: 'absolute next dropped', method: 'POST', url: '/login', form: { username: 'alice', password: PASSWORD, next: 'https://evil.example/' }, status: 303, location: '/', startsSession: true },
      { name: 'backslash next dropped', method: 'POST', url: '/login', form: { username: 'alice', password: PASSWORD, next: '/\\evil.example' }, status: 303, location: '/', startsSession: true },
    ];
    for (const s of scenarios) await run(t, s);
    expect(await audit(t, 'user.login')).toHaveLength(6);
    expect((await audit(t, 'user.login'))[0]).toMatchObject({ actor: 'alice', workspace: null, target: 'user:alice', outcome: 'success' });

    // The new cookie works; a signed-in visitor to /login is sent home.
    const res = await t.browser('POST', '/login', { form: { username: 'alice', password: PASSWORD } });
    const cookie = cookieFrom(res);
    expect(await sessionWorks(t, cookie)).toBe(true);
    const again = await t.browser('GET', '/login', { cookie });
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/');
  });

  it('answers a wrong password with 401 and a calm message, and records user.login_failed', async () => {
    const t = await fresh();
    await t.session('alice');
    const { body } = await run(t, {
      name: 'wrong password',
      method: 'POST',
      url: '/login',
      form: { username: 'alice', password: WRONG },
      status: 401,
      contains: [CALM_FAILURE, 'Sign in', 'value="alice"'],
      notContains: [WRONG, 'wrong password', 'Unknown user', 'Error:', 'node_modules'],
      startsSession: false,
    });
    expect(body).not.toContain('does not exist');
    const failed = await audit(t, 'user.login_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ actor: 'alice', workspace: null, target: 'user:alice', outcome: 'failure' });
    expect(JSON.parse(failed[0].details)).toEqual({ reason: 'bad_credentials' });
    expect(await audit(t, 'user.login')).toHaveLength(0);
    // Neither the audit log nor the logs keep the typed password.
    expect(await dumpDatabase(t)).not.toContain(WRONG);
    expect(t.logs.join('\n')).not.toContain(WRONG);
    expect(t.logs.join('\n')).not.toContain(PASSWORD);
  });

  it('gives an unknown username exactly the same answer as a wrong password', async () => {
    const t = await fresh();
    await t.session('alice');
    const known = await t.browser('POST', '/login', { form: { username: 'alice', password: WRONG } });
    const unknown = await t.browser('POST', '/login', { form: { username: 'zed', password: WRONG } });
    expect(unknown.status).toBe(known.status);
    expect(unknown.status).toBe(401);
    expect(cookieFrom(unknown)).toBe('');
    expect(unknown.headers.get('retry-after')).toBe(known.headers.get('retry-after'));
    // Same page apart from the echoed username.
    const [a, b] = [await known.text(), await unknown.text()];
    expect(b.replaceAll('zed', 'USER')).toBe(a.replaceAll('alice', 'USER'));
    const failed = await audit(t, 'user.login_failed');
    expect(failed.map((e) => [e.actor, e.target, e.outcome])).toEqual([
      ['alice', 'user:alice', 'failure'],
      [null, null, 'failure'],
    ]);
    // A typed name that matches no account is not kept: it may be a password typed in the wrong field.
    expect(JSON.parse(failed[1].details)).toEqual({ reason: 'unknown_user' });
    expect(await dumpDatabase(t)).not.toContain('zed');
  });

  it('refuses a sign-in or sign-up posted from another site (login CSRF)', async () => {
    const t = await fresh();
    await t.session('alice');
    const foreign = { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' };
    await run(t, { name: 'cross-site login', method: 'POST', url: '/login', form: { username: 'alice', password: PASSWORD }, headers: foreign, status: 403, startsSession: false });
    await run(t, { name: 'cross-site signup', method: 'POST', url: '/signup', form: { username: 'bob', password: PASSWORD }, headers: foreign, status: 403, startsSession: false });
    expect(await userCount(t)).toBe(1);
    expect(await audit(t, 'user.login')).toHaveLength(0);
  });
});

describe('sign-out', () => {
  it('ends the session: the old cookie no longer works and its row is gone', async () => {
    const t = await fresh();
    const cookie = await t.session('alice');
    const other = await t.session('alice'); // a second browser of the same user
    expect(await sessionWorks(t, cookie)).toBe(true);
    const token = cookie.split('=')[1];
    expect(await t.sqlOne('SELECT count(*) AS n FROM sessions WHERE id = ?', [sha256(token)])).toEqual({ n: 1 });

    const res = await t.browser('POST', '/logout', { cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?signed_out=1');
    const cleared = res.headers.getSetCookie().find((l) => l.startsWith('latchkey_session='));
    expect(cleared).toMatch(/^latchkey_session=;/);
    expect(cleared).toMatch(/Max-Age=0/i);

    expect(await t.sqlOne('SELECT count(*) AS n FROM sessions WHERE id = ?', [sha256(token)])).toEqual({ n: 0 });
    expect(await sessionWorks(t, cookie)).toBe(false);
    const page = await t.browser('GET', '/settings', { cookie });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fsettings');
    // A stale cookie is cleared by the next answer.
    expect(page.headers.getSetCookie().some((l) => /^latchkey_session=;/.test(l))).toBe(true);
    // Only that browser was signed out.
    expect(await sessionWorks(t, other)).toBe(true);

    const after = await t.browser('GET', '/login?signed_out=1');
    expect(await after.text()).toContain('You are signed out.');
  });

  it('does not sign out on a cross-site post', async () => {
    const t = await fresh();
    const cookie = await t.session('alice');
    const res = await t.browser('POST', '/logout', { cookie, headers: { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' } });
    expect(res.status).toBe(403);
    expect(await sessionWorks(t, cookie)).toBe(true);
  });
});

describe('sign-in throttling', () => {
  it('blocks an account after repeated failures with 429 and Retry-After, even for the right password, until the window passes', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const t = await fresh({ now: () => clock });
    await t.session('alice');
    await t.session('bob');
    const attempt = (username: string, password: string) => t.browser('POST', '/login', { form: { username, password } });

    for (let i = 0; i < 5; i++) expect((await attempt('alice', WRONG)).status).toBe(401);

    const blocked = await attempt('alice', WRONG);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('900');
    const text = await blocked.text();
    expect(text).toContain('Too many failed attempts. Try again in 15 minutes.');
    expect(text).not.toContain(CALM_FAILURE);

    // The right password is refused too while the block lasts, and starts no session.
    clock += 60_000;
    const right = await attempt('alice', PASSWORD);
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBe(840);
    expect(cookieFrom(right)).toBe('');
    // The account name is matched case-insensitively, so changing case does not dodge it.
    expect((await attempt('ALICE', PASSWORD)).status).toBe(429);
    expect(await audit(t, 'user.login')).toHaveLength(0);
    // Blocked attempts are not counted as further failures.
    expect(await audit(t, 'user.login_failed')).toHaveLength(5);

    // Another account from the same address is not affected by alice's block.
    expect((await attempt('bob', PASSWORD)).status).toBe(303);

    // Once the window has passed, alice can sign in again.
    clock += 15 * 60_000;
    const later = await attempt('alice', PASSWORD);
    expect(later.status).toBe(303);
    expect(await sessionWorks(t, cookieFrom(later))).toBe(true);
  });

  it('a successful sign-in clears the account counter', async () => {
    const t = await fresh();
    await t.session('alice');
    const attempt = (password: string) => t.browser('POST', '/login', { form: { username: 'alice', password } });
    for (let i = 0; i < 4; i++) expect((await attempt(WRONG)).status).toBe(401);
    expect((await attempt(PASSWORD)).status).toBe(303);
    for (let i = 0; i < 4; i++) expect((await attempt(WRONG)).status).toBe(401);
    expect((await attempt(PASSWORD)).status).toBe(303);
  });

  it('blocks unknown usernames the same way (no oracle)', async () => {
    const clock = Date.parse('2026-01-01T00:00:00Z'); // a fixed clock: Retry-After is exact
    const t = await fresh({ now: () => clock });
    await t.session('alice');
    for (let i = 0; i < 5; i++) expect((await t.browser('POST', '/login', { form: { username: 'ghost', password: WRONG } })).status).toBe(401);
    const res = await t.browser('POST', '/login', { form: { username: 'ghost', password: WRONG } });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('900');
  });

  it('limits one address across many usernames', async () => {
    const t = await fresh();
    await t.session('alice');
    // Under app.request every request comes from the address 'local'. 30 failures, each on a
    // different username (so no single account reaches its own limit of 5).
    for (let i = 0; i < 30; i++) {
      const res = await t.browser('POST', '/login', { form: { username: `guess${i}`, password: WRONG } });
      expect(res.status, `attempt ${i}`).toBe(401);
    }
    for (const [username, password] of [
      ['alice', PASSWORD],
      ['someone-new', WRONG],
    ]) {
      const res = await t.browser('POST', '/login', { form: { username, password } });
      expect(res.status, username).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(900);
      expect(cookieFrom(res)).toBe('');
    }
  });
});

describe('session cookie', () => {
  it('is HttpOnly, SameSite=Lax, Path=/ and not Secure over plain http', async () => {
    const t = await fresh();
    const res = await t.browser('POST', '/signup', { form: { username: 'alice', password: PASSWORD } });
    const c = sessionCookieLine(res)!;
    expect(c, res.headers.getSetCookie().join('\n')).not.toBeNull();
    expect(c.name).toBe('latchkey_session');
    expect(c.attrs.has('httponly')).toBe(true);
    expect(c.attrs.get('samesite')?.toLowerCase()).toBe('lax');
    expect(c.attrs.get('path')).toBe('/');
    expect(c.attrs.has('secure')).toBe(false);
    expect(c.attrs.has('domain')).toBe(false);
    // At least 20 random bytes: 27 base64url characters or more.
    expect(c.value).toMatch(/^[A-Za-z0-9_-]{27,}$/);
  });

  it('with an https BASE_URL is named __Host-… and is Secure, and still works', async () => {
    const t = await fresh({ env: { BASE_URL: 'https://latchkey.example.com' } });
    const base = 'https://latchkey.example.com';
    const origin = { Origin: base };
    const res = await t.browser('POST', `${base}/signup`, { form: { username: 'alice', password: PASSWORD }, headers: origin });
    expect(res.status).toBe(303);
    const c = sessionCookieLine(res)!;
    expect(c.name).toBe('__Host-latchkey_session');
    expect(c.attrs.has('secure')).toBe(true);
    expect(c.attrs.has('httponly')).toBe(true);
    expect(c.attrs.get('samesite')?.toLowerCase()).toBe('lax');
    expect(c.attrs.get('path')).toBe('/');
    expect(c.attrs.has('domain')).toBe(false); // required for the __Host- prefix

    const cookie = `${c.name}=${c.value}`;
    expect((await t.browser('GET', `${base}/settings`, { cookie })).status).toBe(200);
    // The unprefixed name is not accepted in its place.
    expect((await t.browser('GET', `${base}/settings`, { cookie: `latchkey_session=${c.value}` })).status).toBe(303);
    // The clearing cookie on sign-out carries the same name and Secure.
    const out = await t.browser('POST', `${base}/logout`, { cookie, headers: origin });
    const cleared = out.headers.getSetCookie().find((l) => l.startsWith('__Host-latchkey_session='));
    expect(cleared).toBeDefined();
    expect(cleared).toMatch(/;\s*Secure/i);
    // The https origin is the one CSRF checks expect; the plain-http one is foreign here.
    const wrongOrigin = await t.browser('POST', `${base}/login`, { form: { username: 'alice', password: PASSWORD } });
    expect(wrongOrigin.status).toBe(403);
  });
});

describe('session lifetime', () => {
  it('ends a session at the absolute limit, however recently it was used', async () => {
    let clock = Date.now();
    const t = await fresh({ now: () => clock });
    const cookie = await t.session('alice');
    clock += 29 * 24 * 3600_000;
    expect(await sessionWorks(t, cookie)).toBe(true);
    clock += 24 * 3600_000 + 1; // 30 days and a moment after sign-in
    expect(await sessionWorks(t, cookie)).toBe(false);
    expect(await t.sqlOne('SELECT count(*) AS n FROM sessions')).toEqual({ n: 0 });
  });

  it('escapes what it echoes back on the sign-in page', async () => {
    const t = await fresh();
    await t.session('alice');
    await run(t, {
      name: 'markup in the username',
      method: 'POST',
      url: '/login',
      form: { username: '"><script>alert(1)</script>', password: WRONG },
      status: 401,
      contains: ['&lt;script&gt;'],
      notContains: ['<script>alert(1)</script>'],
    });
  });
});

describe('tokens are stored only as hashes', () => {
  it('keeps only the SHA-256 of session tokens and API tokens in the database', async () => {
    const t = await fresh();
    const cookie = await t.session('alice');
    const sessionToken = cookie.slice(cookie.indexOf('=') + 1);

    // A personal access token made on the settings page, shown once.
    const made = await t.browser('POST', '/settings/tokens', { cookie, form: { name: 'ci-bot' } });
    expect(made.status).toBe(201);
    const apiToken = /lk_[A-Za-z0-9_-]{43}/.exec(await made.text())?.[0];
    expect(apiToken).toBeDefined();
    expect((await t.api('GET', '/me', apiToken!)).json).toEqual({ username: 'alice', is_admin: true });

    const sessions = rowsText(await t.sql('SELECT * FROM sessions'));
    const tokens = rowsText(await t.sql('SELECT * FROM api_tokens'));
    expect(sessions).not.toContain(sessionToken);
    expect(sessions).toContain(sha256(sessionToken));
    expect(tokens).not.toContain(apiToken);
    expect(tokens).toContain(sha256(apiToken!));
    expect(await t.sqlOne('SELECT id FROM sessions WHERE id = ?', [sha256(sessionToken)])).toBeDefined();
    expect(await t.sqlOne('SELECT name FROM api_tokens WHERE token_hash = ?', [sha256(apiToken!)])).toEqual({ name: 'ci-bot' });

    // Nowhere else either: no table, no log line, and the settings page does not show it again.
    const everything = await dumpDatabase(t);
    expect(everything).not.toContain(sessionToken);
    expect(everything).not.toContain(apiToken);
    const logs = t.logs.join('\n');
    expect(logs).not.toContain(sessionToken);
    expect(logs).not.toContain(apiToken);
    const later = await (await t.browser('GET', '/settings', { cookie })).text();
    expect(later).toContain('ci-bot');
    expect(later).not.toContain(apiToken);
  });
});

describe('password change', () => {
  it('ends every other session; the changing browser keeps working with its new cookie', async () => {
    const t = await fresh();
    const mine = await t.session('alice');
    const other = await t.session('alice');
    const bob = await t.session('bob');

    const res = await t.browser('POST', '/settings/password', { cookie: mine, form: { current: PASSWORD, password: 'a brand new passphrase' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/settings?password=changed');
    const renewed = cookieFrom(res);
    expect(renewed).not.toBe('');
    expect(renewed).not.toBe(mine);

    expect(await sessionWorks(t, other)).toBe(false);
    expect(await sessionWorks(t, mine)).toBe(false);
    expect(await sessionWorks(t, renewed)).toBe(true);
    expect(await sessionWorks(t, bob)).toBe(true); // other users are untouched
    const page = await t.browser('GET', '/settings?password=changed', { cookie: renewed });
    expect(await page.text()).toContain('Password changed. Your other sessions were signed out.');

    // The old password no longer signs in; the new one does.
    expect((await t.browser('POST', '/login', { form: { username: 'alice', password: PASSWORD } })).status).toBe(401);
    expect((await t.browser('POST', '/login', { form: { username: 'alice', password: 'a brand new passphrase' } })).status).toBe(303);
    expect(await audit(t, 'user.password_change')).toMatchObject([{ actor: 'alice', target: 'user:alice' }]);
    expect(await dumpDatabase(t)).not.toContain('a brand new passphrase');
  });

  it('changes nothing when the current password is wrong or the new one too short', async () => {
    const t = await fresh();
    const mine = await t.session('alice');
    const other = await t.session('alice');
    const scenarios: Scenario[] = [
      { name: 'wrong current password', method: 'POST', url: '/settings/password', as: 'alice', form: { current: WRONG, password: 'a brand new passphrase' }, status: 400, contains: ['That is not your current password.'], startsSession: false },
      { name: 'new password too short', method: 'POST', url: '/settings/password', as: 'alice', form: { current: PASSWORD, password: 'short' }, status: 400, contains: ['at least 12 characters'], startsSession: false },
      { name: 'cross-site change', method: 'POST', url: '/settings/password', as: 'alice', headers: { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' }, form: { current: PASSWORD, password: 'a brand new passphrase' }, status: 403, startsSession: false },
      { name: 'signed out', method: 'POST', url: '/settings/password', form: { current: PASSWORD, password: 'a brand new passphrase' }, status: 303, location: '/login', startsSession: false },
    ];
    for (const s of scenarios) await run(t, s, { alice: mine });
    expect(await sessionWorks(t, mine)).toBe(true);
    expect(await sessionWorks(t, other)).toBe(true);
    expect(await audit(t, 'user.password_change')).toHaveLength(0);
    expect((await t.browser('POST', '/login', { form: { username: 'alice', password: PASSWORD } })).status).toBe(303);
  });
});
