// OAuth apps (CONTRACT §7): instance admins register and delete them through the API and the admin
// page; every signed-in person lists them; the client secret never comes back in any answer, page,
// log line or audit row, and is stored sealed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';

type User = Awaited<ReturnType<TestApp['user']>>;
const SECRET = 'canary-client-secret-7f3a9c';

describe('OAuth apps', () => {
  let t: TestApp;
  let admin: User;
  let bob: User;

  beforeEach(async () => {
    t = await createTestApp();
    admin = await t.user('alice');
    bob = await t.user('bob');
  });
  afterEach(() => t.close());

  const github = { name: 'github', provider: 'github', client_id: 'Iv1.abc', client_secret: SECRET };

  it('admins register (201, no secret), everyone lists, non-admins are refused (403), delete removes', async () => {
    const created = await t.api('POST', '/oauth-apps', admin.token, github);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'github', provider: 'github', client_id: 'Iv1.abc', token_url: 'https://github.com/login/oauth/access_token', callback_url: 'http://localhost/oauth/callback/github' });
    expect(created.text).not.toContain(SECRET);

    expect((await t.api('POST', '/oauth-apps', bob.token, { ...github, name: 'other' })).status).toBe(403);
    expect((await t.api('POST', '/oauth-apps', admin.token, github)).status).toBe(409);

    const listed = await t.api('GET', '/oauth-apps', bob.token);
    expect(listed.status).toBe(200);
    expect(listed.json).toEqual([{ name: 'github', provider: 'github', label: 'GitHub', credential_type: 'github' }]);
    const adminList = await t.api('GET', '/oauth-apps', admin.token);
    expect(adminList.json[0].client_id).toBe('Iv1.abc');
    expect(adminList.text).not.toContain(SECRET);

    expect((await t.api('DELETE', '/oauth-apps/github', bob.token)).status).toBe(403);
    expect((await t.api('DELETE', '/oauth-apps/github', admin.token)).status).toBe(204);
    expect((await t.api('DELETE', '/oauth-apps/github', admin.token)).status).toBe(404);
    expect((await t.api('GET', '/oauth-apps', bob.token)).json).toEqual([]);
  });

  it('checks names, providers and that oauth2 names both URLs', async () => {
    const bad = await t.api('POST', '/oauth-apps', admin.token, { ...github, name: 'Bad Name', provider: 'myspace' });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json.fields).sort()).toEqual(['name', 'provider']);
    const oauth2 = await t.api('POST', '/oauth-apps', admin.token, { name: 'corp', provider: 'oauth2', client_id: 'x', client_secret: SECRET });
    expect(oauth2.status).toBe(400);
    expect(Object.keys(oauth2.json.fields).sort()).toEqual(['authorize_url', 'token_url']);
    const ok = await t.api('POST', '/oauth-apps', admin.token, { name: 'corp', provider: 'oauth2', client_id: 'x', client_secret: SECRET, authorize_url: 'https://id.example.com/authorize', token_url: 'https://id.example.com/token', base_url: 'https://api.example.com' });
    expect(ok.status).toBe(201);
    expect(ok.json.credential_type).toBe('http_bearer');
    // Several apps may share a provider; self-hosted endpoints override the defaults.
    const gl = await t.api('POST', '/oauth-apps', admin.token, { name: 'gitlab-corp', provider: 'gitlab', client_id: 'g', client_secret: SECRET, authorize_url: 'https://gitlab.example.com/oauth/authorize', token_url: 'https://gitlab.example.com/oauth/token', base_url: 'https://gitlab.example.com' });
    expect(gl.json).toMatchObject({ token_url: 'https://gitlab.example.com/oauth/token', credential_type: 'gitlab' });
  });

  it('the admin page registers, shows the callback URL and deletes; others get 403; the secret is sealed and never shown', async () => {
    expect((await t.browser('GET', '/admin/oauth-apps', { cookie: bob.cookie })).status).toBe(403);
    expect((await t.browser('POST', '/admin/oauth-apps', { cookie: bob.cookie, form: { ...github } })).status).toBe(403);
    const nav = await (await t.browser('GET', '/admin/users', { cookie: admin.cookie })).text();
    expect(nav).toContain('href="/admin/oauth-apps"');

    const bad = await t.browser('POST', '/admin/oauth-apps', { cookie: admin.cookie, form: { ...github, name: '-x' } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).not.toContain(SECRET);

    const res = await t.browser('POST', '/admin/oauth-apps', { cookie: admin.cookie, form: { ...github, authorize_url: '', token_url: '', scopes: '', base_url: '' } });
    expect(res.status).toBe(303);
    const page = await (await t.browser('GET', res.headers.get('location')!, { cookie: admin.cookie })).text();
    expect(page).toContain('http://localhost/oauth/callback/github');
    expect(page).toContain('github was registered');
    expect(page).not.toContain(SECRET);

    const row = (await t.sqlOne<{ secret_blob: Buffer; wrapped_key: Buffer }>('SELECT secret_blob, wrapped_key FROM oauth_apps'))!;
    expect(row.secret_blob.toString('latin1')).not.toContain(SECRET);
    const audit = await t.sql("SELECT action, details_json FROM audit_events WHERE action LIKE 'oauth_app.%'");
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(SECRET);

    const del = await t.browser('POST', '/admin/oauth-apps/github/delete', { cookie: admin.cookie });
    expect(del.status).toBe(303);
    expect((await t.api('GET', '/oauth-apps', admin.token)).json).toEqual([]);
    expect(t.logs.join('\n')).not.toContain(SECRET);
  });
});
