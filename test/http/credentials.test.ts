// The Credentials pages (/w/:ws/credentials…) over app.request as a same-origin browser: the
// create form and its Credential ID conflict flow, editing with blank secrets, deleting by typing
// the ID, Test connection against a real local fake service, and who may reach what.
// See CONTRACT.md §3-4 and SECURITY.md (Never shown again, Access).
import { describe, expect, it } from 'vitest';
import { loadCredentialForUse } from '../../src/store/credentials';
import { findWorkspace, getPrivateWorkspace } from '../../src/store/workspaces';
import { type TestApp } from '../helpers/app';
import { project, useScenario } from '../helpers/scenario';
import { closedPortUrl, type FakeService } from '../helpers/fake-services';

const ALLOW_LOOPBACK = { env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } };
const CONFLICT = 'Credential ID github_integration_token is already in use in this workspace';

const { fresh, fake } = useScenario();


/** The create form as a browser posts it, for a GitHub credential. */
function githubForm(name: string, token: string, baseUrl = '', extra: Record<string, string> = {}) {
  return { name, type: 'github', id_mode: 'auto', credential_id: '', field_base_url: baseUrl, secret_token: token, return: '', required_by: '', ...extra };
}
function jiraForm(name: string, baseUrl: string, email: string, apiToken: string, extra: Record<string, string> = {}) {
  return { name, type: 'jira', id_mode: 'auto', credential_id: '', field_base_url: baseUrl, field_email: email, secret_api_token: apiToken, return: '', required_by: '', ...extra };
}

/** The first tag `<tag …>` whose attributes include name="…" (or id="…"). */
function tagNamed(html: string, attr: 'name' | 'id', value: string, tag = 'input'): string | undefined {
  return html.match(new RegExp(`<${tag}\\b[^>]*\\b${attr}="${value}"[^>]*>`))?.[0];
}
function attrOf(tagText: string | undefined, attr: string): string | null {
  const m = tagText?.match(new RegExp(`\\s${attr}(?:="([^"]*)")?(?=[\\s/>])`));
  return m ? (m[1] ?? '') : null;
}

async function secretsOf(t: TestApp, userId: string, ws: string, credentialId: string) {
  const w = ws === 'private' ? await getPrivateWorkspace(t.deps.store, userId) : (await findWorkspace(t.deps.store, userId, ws))!;
  return (await loadCredentialForUse(t.deps.store, w, credentialId))?.secrets;
}

/** A blob (bytea) as hex, so rows compare by content on either engine; null stays null. */
const hex = (v: unknown) => (v == null ? null : Buffer.from(v as Uint8Array).toString('hex'));

async function credentialRows(t: TestApp) {
  const rows = await t.sql('SELECT id, workspace_id, credential_id, name, type, fields_json, secret_blob, wrapped_key, updated_at FROM credentials ORDER BY id');
  return rows.map(({ secret_blob, wrapped_key, ...r }) => ({ ...r, blob: hex(secret_blob), wk: hex(wrapped_key) }));
}

async function audit(t: TestApp, action: string) {
  return (await t.sql<{ actor: string; workspace: string; target: string; details_json: string }>('SELECT actor, workspace, target, details_json FROM audit_events WHERE action = ? ORDER BY id', [action])).map(
    (e) => ({ ...e, details: JSON.parse(e.details_json) }),
  );
}

async function page(t: TestApp, method: string, url: string, o: Parameters<TestApp['browser']>[2] = {}) {
  const res = await t.browser(method, url, o);
  return { status: res.status, location: res.headers.get('location'), body: await res.text(), headers: res.headers };
}

describe('create form and the Credential ID', () => {
  it('shows the live Credential ID following the name, with an Edit ID button (a plain field without JavaScript)', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    const form = await page(t, 'GET', '/w/private/credentials/new', { cookie: alice.cookie });
    expect(form.status).toBe(200);
    for (const words of ['Credential Name', 'Credential ID', 'Edit ID']) expect(form.body).toContain(words);
    // app.js makes the marked field read-only and sets id_mode to auto; without it the field is plain.
    const idInput = tagNamed(form.body, 'name', 'credential_id');
    expect(attrOf(idInput, 'readonly')).toBeNull();
    expect(attrOf(idInput, 'data-auto-id')).toBe('true');
    expect(attrOf(tagNamed(form.body, 'name', 'id_mode'), 'value')).toBe('manual');

    for (const [name, id] of [
      ['GitHub Integration Token', 'github_integration_token'],
      ['  Café — Token!! ', 'cafe_token'],
    ]) {
      const preview = await page(t, 'POST', '/w/private/credentials/id-preview', { cookie: alice.cookie, form: { name, id_mode: 'auto' }, headers: { 'HX-Request': 'true' } });
      expect(preview.status).toBe(200);
      const input = tagNamed(preview.body, 'name', 'credential_id');
      expect(attrOf(input, 'value')).toBe(id);
      expect(attrOf(input, 'data-auto-id')).toBe('true');
    }
  });

  it('walks the conflict flow: 409 with the message, an editable suggested ID, the name kept; then saves', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    const first = await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form: githubForm('GitHub Integration Token', 'ghp_first_value') });
    expect(first.status, first.body).toBe(303);
    expect(first.location).toBe('/w/private/credentials?saved=github_integration_token');

    const second = await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form: githubForm('GitHub Integration Token', 'ghp_second_value') });
    expect(second.status).toBe(409);
    expect(second.body).toContain(CONFLICT);
    const idInput = tagNamed(second.body, 'name', 'credential_id');
    expect(idInput).toBeDefined();
    expect(attrOf(idInput, 'readonly'), idInput).toBeNull();
    expect(attrOf(idInput, 'value')).toBe('github_integration_token_2');
    expect(attrOf(tagNamed(second.body, 'name', 'id_mode'), 'value')).toBe('manual');
    expect(attrOf(tagNamed(second.body, 'name', 'name'), 'value')).toBe('GitHub Integration Token');
    expect(second.body).toContain('github_integration_token_2');
    expect(second.body).not.toContain('ghp_second_value'); // a typed secret is never sent back
    expect(await secretsOf(t, alice.id, 'private', 'github_integration_token')).toEqual({ token: 'ghp_first_value' });

    // The htmx form swap answers the same form as a fragment.
    const hx = await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form: githubForm('GitHub Integration Token', 'ghp_second_value'), headers: { 'HX-Request': 'true' } });
    expect(hx.status).toBe(409);
    expect(hx.body).toContain(CONFLICT);
    expect(hx.body).not.toContain('<html');

    const third = await page(t, 'POST', '/w/private/credentials', {
      cookie: alice.cookie,
      form: githubForm('GitHub Integration Token', 'ghp_second_value', '', { id_mode: 'manual', credential_id: 'github_integration_token_2' }),
    });
    expect(third.status, third.body).toBe(303);
    expect(third.location).toBe('/w/private/credentials?saved=github_integration_token_2');
    const list = await t.api('GET', '/workspaces/private/credentials', alice.token);
    expect(list.json.map((c: any) => [c.credential_id, c.name])).toEqual([
      ['github_integration_token', 'GitHub Integration Token'],
      ['github_integration_token_2', 'GitHub Integration Token'],
    ]);
    expect(await secretsOf(t, alice.id, 'private', 'github_integration_token_2')).toEqual({ token: 'ghp_second_value' });

    const listed = await page(t, 'GET', '/w/private/credentials?saved=github_integration_token_2', { cookie: alice.cookie });
    expect(listed.body).toContain('Credential github_integration_token_2 saved');
  });

  it.each([
    { name: 'a name with nothing usable', form: githubForm('!!! ???', 'ghp_x'), error: 'credential_id' },
    { name: 'an invalid manual ID', form: githubForm('Fine', 'ghp_x', '', { id_mode: 'manual', credential_id: 'Not-Valid' }), error: 'credential_id' },
    { name: 'a missing secret', form: githubForm('Fine', ''), error: 'secret_token' },
    { name: 'a Jira credential without base URL', form: jiraForm('Jira', '', 'a@example.com', 'jira-x'), error: 'field_base_url' },
  ])('re-renders the form with 400 for $name and saves nothing', async (s) => {
    const t = await fresh();
    const alice = await t.user('alice');
    const res = await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form: s.form });
    expect(res.status).toBe(400);
    expect(res.body).toContain('id="credential-form"');
    expect(res.body).toContain(`id="f-${s.error}-error"`);
    expect(await credentialRows(t)).toEqual([]);
    if (s.error === 'credential_id') expect(attrOf(tagNamed(res.body, 'name', 'credential_id'), 'readonly')).toBeNull();
  });
});

describe('edit form', () => {
  it('keeps the secret when its field is left blank and replaces it when one is typed', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    expect((await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form: jiraForm('Jira Cloud', 'https://a.atlassian.net', 'a@example.com', 'jira-original') })).status).toBe(303);

    const edit = await page(t, 'GET', '/w/private/credentials/jira_cloud/edit', { cookie: alice.cookie });
    expect(edit.status).toBe(200);
    const secretInput = tagNamed(edit.body, 'name', 'secret_api_token');
    expect(attrOf(secretInput, 'type')).toBe('password');
    expect(attrOf(secretInput, 'value')).toBeNull();
    expect(attrOf(secretInput, 'required')).toBeNull();
    expect(edit.body).toContain('Leave blank to keep the current value.');
    expect(attrOf(tagNamed(edit.body, 'name', 'field_email'), 'value')).toBe('a@example.com');
    expect(edit.body).not.toContain('jira-original');

    const blank = await page(t, 'POST', '/w/private/credentials/jira_cloud/edit', {
      cookie: alice.cookie,
      form: { name: 'Jira Cloud (work)', type: 'jira', id_mode: 'manual', credential_id: 'jira_cloud', field_base_url: 'https://a.atlassian.net', field_email: 'b@example.com', secret_api_token: '' },
    });
    expect(blank.status, blank.body).toBe(303);
    expect(await secretsOf(t, alice.id, 'private', 'jira_cloud')).toEqual({ api_token: 'jira-original' });
    const meta = await t.api('GET', '/workspaces/private/credentials/jira_cloud', alice.token);
    expect(meta.json).toMatchObject({ name: 'Jira Cloud (work)', fields: { email: 'b@example.com' } });

    const typed = await page(t, 'POST', '/w/private/credentials/jira_cloud/edit', {
      cookie: alice.cookie,
      form: { name: 'Jira Cloud (work)', type: 'jira', id_mode: 'manual', credential_id: 'jira_cloud', field_base_url: 'https://a.atlassian.net', field_email: 'b@example.com', secret_api_token: 'jira-replaced' },
    });
    expect(typed.status).toBe(303);
    expect(await secretsOf(t, alice.id, 'private', 'jira_cloud')).toEqual({ api_token: 'jira-replaced' });

    const updates = await audit(t, 'credential.update');
    expect(updates.map((e) => e.details.changed.sort())).toEqual([['fields.email', 'name'], ['secrets.api_token']]);
    expect(JSON.stringify(updates)).not.toMatch(/jira-original|jira-replaced/);
  });

  it('answers 409 with a suggestion when renamed onto a taken ID, and changes nothing', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form: githubForm('GitHub Integration Token', 'ghp_a') });
    await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form: githubForm('Other', 'ghp_b') });
    const before = await credentialRows(t);
    const res = await page(t, 'POST', '/w/private/credentials/other/edit', {
      cookie: alice.cookie,
      form: { name: 'Other', type: 'github', id_mode: 'manual', credential_id: 'github_integration_token', field_base_url: '', secret_token: 'ghp_never' },
    });
    expect(res.status).toBe(409);
    expect(res.body).toContain(CONFLICT);
    expect(res.body).toContain('github_integration_token_2');
    expect(res.body).not.toContain('ghp_never');
    expect(await credentialRows(t)).toEqual(before);
  });
});

describe('audit from the pages', () => {
  it('records credential.create, update and delete with names of fields, never their values', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form: githubForm('GitHub', 'ghp_audit_one') });
    await page(t, 'POST', '/w/private/credentials/github/edit', { cookie: alice.cookie, form: { name: 'GitHub', type: 'github', id_mode: 'manual', credential_id: 'github', field_base_url: '', secret_token: 'ghp_audit_two' } });
    await page(t, 'POST', '/w/private/credentials/github/delete', { cookie: alice.cookie, form: { confirm: 'github' } });
    const [create] = await audit(t, 'credential.create');
    const [update] = await audit(t, 'credential.update');
    const [del] = await audit(t, 'credential.delete');
    expect(create).toMatchObject({ actor: 'alice', workspace: 'private', target: 'credential:github', details: { type: 'github', fields: ['base_url'], secrets: ['token'] } });
    expect(update).toMatchObject({ actor: 'alice', target: 'credential:github', details: { changed: ['secrets.token'] } });
    expect(del).toMatchObject({ actor: 'alice', target: 'credential:github', details: { type: 'github' } });
    const rows = JSON.stringify(await t.sql('SELECT * FROM audit_events'));
    expect(rows).not.toMatch(/ghp_audit_(one|two)/);
  });
});

describe('delete', () => {
  it('requires typing the exact Credential ID', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form: githubForm('Deploy Key', 'ghp_delete_me') });

    const dialog = await page(t, 'GET', '/w/private/credentials/deploy_key/delete', { cookie: alice.cookie, headers: { 'HX-Request': 'true' } });
    expect(dialog.status).toBe(200);
    expect(dialog.body).toContain('<dialog');
    expect(dialog.body).toContain('deploy_key');
    const full = await page(t, 'GET', '/w/private/credentials/deploy_key/delete', { cookie: alice.cookie });
    expect(full.status).toBe(200);
    expect(full.body).toContain('<html');

    for (const confirm of ['', 'Deploy Key', 'DEPLOY_KEY', 'deploy_ke', 'deploy_key_2']) {
      const res = await page(t, 'POST', '/w/private/credentials/deploy_key/delete', { cookie: alice.cookie, form: { confirm } });
      expect(res.status, `confirm "${confirm}"`).toBe(400);
      expect(res.body).toContain('Type deploy_key exactly to confirm.');
    }
    expect(await secretsOf(t, alice.id, 'private', 'deploy_key')).toEqual({ token: 'ghp_delete_me' });
    expect(await audit(t, 'credential.delete')).toEqual([]);

    const ok = await page(t, 'POST', '/w/private/credentials/deploy_key/delete', { cookie: alice.cookie, form: { confirm: 'deploy_key' } });
    expect(ok.status).toBe(303);
    expect(ok.location).toBe('/w/private/credentials?deleted=deploy_key');
    expect(await credentialRows(t)).toEqual([]);
    expect((await page(t, 'GET', '/w/private/credentials/deploy_key', { cookie: alice.cookie })).status).toBe(404);
    expect((await page(t, 'GET', '/w/private/credentials?deleted=deploy_key', { cookie: alice.cookie })).body).toContain('Credential deploy_key deleted.');
  });
});

describe('access to the pages', () => {
  it("answers 404 on every page route for another user's private credential, instance admin included", async () => {
    const t = await fresh(ALLOW_LOOPBACK);
    const svc = await fake({ ghp_bob_only: 'bob' });
    const alice = await t.user('alice'); // first user: instance admin, the attacker
    const bob = await t.user('bob'); // the victim
    expect((await page(t, 'POST', '/w/private/credentials', { cookie: bob.cookie, form: githubForm('Bob Token', 'ghp_bob_only', svc.url) })).status).toBe(303);
    const before = await credentialRows(t);
    const bobWs = await getPrivateWorkspace(t.deps.store, bob.id);
    const editForm = { name: 'pwned', type: 'github', id_mode: 'manual', credential_id: 'bob_token', field_base_url: svc.url, secret_token: 'ghp_alice' };

    for (const ref of ['private', 'bob', String(bobWs.id), bob.id]) {
      const base = `/w/${ref}/credentials/bob_token`;
      const routes: [string, string, Record<string, string>?, Record<string, string>?][] = [
        ['GET', base],
        ['GET', `${base}/edit`],
        ['GET', `${base}/edit`, undefined, { 'HX-Request': 'true' }],
        ['POST', `${base}/edit`, editForm],
        ['POST', `${base}/test`],
        ['POST', `${base}/test`, { ...editForm, secret_token: '' }],
        ['POST', `${base}/test`, undefined, { 'HX-Request': 'true' }],
        ['GET', `${base}/delete`],
        ['GET', `${base}/delete`, undefined, { 'HX-Request': 'true' }],
        ['POST', `${base}/delete`, { confirm: 'bob_token' }],
      ];
      for (const [method, url, form, headers] of routes) {
        const res = await page(t, method, url, { cookie: alice.cookie, form, headers });
        expect(res.status, `${method} ${url} ${JSON.stringify(headers ?? {})}`).toBe(404);
        expect(res.body).not.toContain('Bob Token');
      }
    }
    const aliceList = await page(t, 'GET', '/w/private/credentials', { cookie: alice.cookie });
    expect(aliceList.body).not.toContain('bob_token');
    expect(await credentialRows(t)).toEqual(before);
    expect(svc.requests).toEqual([]);
  });

  it('answers 404 for the credential pages of a project the caller is not in', async () => {
    const t = await fresh(ALLOW_LOOPBACK);
    const svc = await fake({ ghp_team_only: 'team' });
    const alice = await t.user('alice');
    const bob = await t.user('bob');
    const team = await project(t, bob, 'Hidden Team');
    expect((await page(t, 'POST', `/w/${team}/credentials`, { cookie: bob.cookie, form: githubForm('Team Token', 'ghp_team_only', svc.url) })).status).toBe(303);
    const before = await credentialRows(t);
    const base = `/w/${team}/credentials`;
    const routes: [string, string, Record<string, string>?][] = [
      ['GET', base],
      ['GET', `${base}/new`],
      ['GET', `${base}/new/fields?type=jira`],
      ['POST', `${base}/id-preview`, { name: 'x' }],
      ['POST', base, githubForm('Mine', 'ghp_x')],
      ['POST', `${base}/test`, githubForm('Mine', 'ghp_x', svc.url)],
      ['GET', `${base}/team_token`],
      ['POST', `${base}/team_token`, { name: 'pwned', type: 'github', id_mode: 'manual', credential_id: 'team_token', field_base_url: '', secret_token: '' }],
      ['POST', `${base}/team_token/test`],
      ['GET', `${base}/team_token/delete`],
      ['POST', `${base}/team_token/delete`, { confirm: 'team_token' }],
    ];
    for (const [method, url, form] of routes) {
      const res = await page(t, method, url, { cookie: alice.cookie, form });
      expect(res.status, `${method} ${url}`).toBe(404);
    }
    expect(await credentialRows(t)).toEqual(before);
    expect(svc.requests).toEqual([]);
  });

  it('lets a viewer list project credentials but not open the forms or change anything', async () => {
    const t = await fresh(ALLOW_LOOPBACK);
    const svc = await fake({ ghp_team_viewer: 'team-bot' });
    const alice = await t.user('alice');
    const vera = await t.user('vera');
    const team = await project(t, alice, 'Team', [[vera, 'viewer']]);
    expect((await page(t, 'POST', `/w/${team}/credentials`, { cookie: alice.cookie, form: githubForm('Team Token', 'ghp_team_viewer', svc.url) })).status).toBe(303);
    const before = await credentialRows(t);
    const base = `/w/${team}/credentials`;

    const list = await page(t, 'GET', base, { cookie: vera.cookie });
    expect(list.status).toBe(200);
    expect(list.body).toContain('Team Token');
    expect(list.body).toContain('team_token');
    expect(list.body).not.toContain(`href="${base}/new"`);
    expect(list.body).not.toContain(`href="${base}/team_token/edit"`);
    expect(list.body).not.toContain(`${base}/team_token/delete`);
    expect(list.body).not.toContain('ghp_team_viewer');

    const routes: [string, string, Record<string, string>?][] = [
      ['GET', `${base}/new`],
      ['POST', base, githubForm('Viewer Token', 'ghp_v')],
      ['POST', `${base}/test`, githubForm('Viewer Token', 'ghp_v', svc.url)],
      ['GET', `${base}/team_token/edit`],
      ['POST', `${base}/team_token/edit`, { name: 'Renamed', type: 'github', id_mode: 'manual', credential_id: 'team_token', field_base_url: svc.url, secret_token: 'ghp_v' }],
      ['POST', `${base}/team_token/test`, { name: 'Team Token', type: 'github', field_base_url: svc.url, secret_token: 'ghp_v' }],
      ['GET', `${base}/team_token/delete`],
      ['POST', `${base}/team_token/delete`, { confirm: 'team_token' }],
    ];
    for (const [method, url, form] of routes) {
      const res = await page(t, method, url, { cookie: vera.cookie, form });
      expect(res.status, `${method} ${url}`).toBe(403);
    }
    // A missing credential is still 404 for a viewer.
    expect((await page(t, 'GET', `${base}/nope`, { cookie: vera.cookie })).status).toBe(404);
    expect(await credentialRows(t)).toEqual(before);
    expect(svc.requests).toEqual([]);
  });

  it('sends visitors without a session to sign in', async () => {
    const t = await fresh();
    await t.user('alice');
    const res = await page(t, 'GET', '/w/private/credentials');
    expect(res.status).toBe(303);
    expect(res.location).toBe('/login?next=%2Fw%2Fprivate%2Fcredentials');
  });
});

describe('Test connection from the pages', () => {
  type Case = {
    name: string;
    form: (svc: FakeService, dead: string) => Record<string, string>;
    expect: RegExp;
    ok: boolean;
  };
  const cases: Case[] = [
    { name: 'GitHub, known token', form: (s) => githubForm('GH', 'ghp_good', s.url), expect: /Verified as octo-alice/, ok: true },
    { name: 'GitHub, refused token', form: (s) => githubForm('GH', 'ghp_bad', s.url), expect: /The service answered 401: Bad credentials/, ok: false },
    { name: 'GitHub, unreachable', form: (_s, dead) => githubForm('GH', 'ghp_good', dead), expect: /Could not reach the service/, ok: false },
    { name: 'Jira, known token', form: (s) => jiraForm('Jira', s.url, 'alice@example.com', 'jira_good'), expect: /Verified as alice@example\.com/, ok: true },
    { name: 'Jira, refused token', form: (s) => jiraForm('Jira', s.url, 'alice@example.com', 'jira_bad'), expect: /The service answered 401: Client must be authenticated/, ok: false },
    { name: 'Jira, unreachable', form: (_s, dead) => jiraForm('Jira', dead, 'alice@example.com', 'jira_good'), expect: /Could not reach the service/, ok: false },
  ];

  it.each(cases)('on a saved credential: $name', async (s) => {
    const t = await fresh(ALLOW_LOOPBACK);
    const svc = await fake({ ghp_good: 'octo-alice', jira_good: 'Alice' });
    const dead = await closedPortUrl();
    const alice = await t.user('alice');
    const form = s.form(svc, dead);
    expect((await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form })).status).toBe(303);
    const cid = form.name.toLowerCase();

    const res = await page(t, 'POST', `/w/private/credentials/${cid}/test`, { cookie: alice.cookie });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/w/private/credentials');
    const list = await page(t, 'GET', '/w/private/credentials', { cookie: alice.cookie });
    expect(list.body).toMatch(s.expect);
    expect(list.body).toContain(s.ok ? 'Verified' : 'Failed');

    // The htmx button swaps just the cell.
    const hx = await page(t, 'POST', `/w/private/credentials/${cid}/test`, { cookie: alice.cookie, headers: { 'HX-Request': 'true' } });
    expect(hx.status).toBe(200);
    expect(hx.body).toMatch(new RegExp(`^<td id="test-${cid}"`));
    expect(hx.body).toMatch(s.expect);

    // And the API reports the same kept result.
    const api = await t.api('POST', `/workspaces/private/credentials/${cid}/test`, alice.token, {});
    expect(api.json.ok).toBe(s.ok);
    expect(api.json.message).toMatch(s.expect);
    const got = await t.api('GET', `/workspaces/private/credentials/${cid}`, alice.token);
    expect(got.json.last_test).toMatchObject({ ok: s.ok, message: expect.stringMatching(s.expect) });
  });

  it.each(cases)('before saving: $name', async (s) => {
    const t = await fresh(ALLOW_LOOPBACK);
    const svc = await fake({ ghp_good: 'octo-alice', jira_good: 'Alice' });
    const dead = await closedPortUrl();
    const alice = await t.user('alice');
    const form = s.form(svc, dead);

    const res = await page(t, 'POST', '/w/private/credentials/test', { cookie: alice.cookie, form });
    expect(res.status).toBe(200);
    expect(res.body).toContain('id="credential-form"');
    expect(res.body).toMatch(s.expect);
    // The typed values stay in the form, the secret does not come back.
    expect(attrOf(tagNamed(res.body, 'name', 'name'), 'value')).toBe(form.name);
    expect(res.body).not.toContain(form.secret_token ?? form.secret_api_token);

    const hx = await page(t, 'POST', '/w/private/credentials/test', { cookie: alice.cookie, form, headers: { 'HX-Request': 'true' } });
    expect(hx.status).toBe(200);
    expect(hx.body).toMatch(/^<div id="test-result" class="test-result (ok|failed)"/);
    expect(hx.body).toContain(s.ok ? 'test-result ok' : 'test-result failed');
    expect(hx.body).toMatch(s.expect);

    expect(await credentialRows(t)).toEqual([]); // nothing stored
  });

  it('tests the edit form with a blank secret using the stored one', async () => {
    const t = await fresh(ALLOW_LOOPBACK);
    const svc = await fake({ ghp_stored: 'octo-stored' });
    const alice = await t.user('alice');
    await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form: githubForm('GH', 'ghp_stored', svc.url) });
    const res = await page(t, 'POST', '/w/private/credentials/gh/test', {
      cookie: alice.cookie,
      form: { name: 'GH', type: 'github', id_mode: 'manual', credential_id: 'gh', field_base_url: svc.url, secret_token: '' },
      headers: { 'HX-Request': 'true' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toContain('Verified as octo-stored');
    expect(svc.requests.at(-1)?.headers.authorization).toBe('Bearer ghp_stored');
  });

  it('never sends a saved secret to another base URL from the edit form: it must be typed again', async () => {
    const t = await fresh(ALLOW_LOOPBACK);
    const real = await fake({ ghp_admin_only: 'deploy-bot' });
    const other = await fake();
    const alice = await t.user('alice');
    const ed = await t.user('ed');
    const team = await project(t, alice, 'Team', [[ed, 'editor']]);
    await page(t, 'POST', `/w/${team}/credentials`, { cookie: alice.cookie, form: githubForm('Deploy', 'ghp_admin_only', real.url) });
    const form = (baseUrl: string, token: string) => ({ name: 'Deploy', type: 'github', id_mode: 'manual', credential_id: 'deploy', field_base_url: baseUrl, secret_token: token });

    const moved = await page(t, 'POST', `/w/${team}/credentials/deploy/test`, { cookie: ed.cookie, form: form(other.url, ''), headers: { 'HX-Request': 'true' } });
    expect(moved.status).toBe(200);
    expect(moved.body).toContain('test-result failed');
    expect(moved.body).toContain('Enter the personal access token again');
    expect(other.requests).toEqual([]);
    expect(real.requests).toEqual([]);

    // Typed again, the typed value goes there (never the saved one).
    await page(t, 'POST', `/w/${team}/credentials/deploy/test`, { cookie: ed.cookie, form: form(other.url, 'ghp_typed_by_ed'), headers: { 'HX-Request': 'true' } });
    expect(other.requests.map((r) => r.headers.authorization)).toEqual(['Bearer ghp_typed_by_ed']);

    // Same origin (a trailing slash is the same base URL): the saved secret is used.
    const same = await page(t, 'POST', `/w/${team}/credentials/deploy/test`, { cookie: ed.cookie, form: form(`${real.url}/`, ''), headers: { 'HX-Request': 'true' } });
    expect(same.body).toContain('Verified as deploy-bot');
    expect(real.requests.map((r) => r.headers.authorization)).toEqual(['Bearer ghp_admin_only']);
  });

  it('refuses the loopback fake without OUTBOUND_ALLOW_HOSTS and sends it nothing', async () => {
    const t = await fresh();
    const svc = await fake({ ghp_good: 'octo-alice' });
    const alice = await t.user('alice');
    const form = githubForm('GH', 'ghp_good', svc.url);
    const before = await page(t, 'POST', '/w/private/credentials/test', { cookie: alice.cookie, form, headers: { 'HX-Request': 'true' } });
    expect(before.body).toContain(`Latchkey may not call 127.0.0.1:${svc.port}`);
    expect(before.body).toContain('OUTBOUND_ALLOW_HOSTS');

    await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form });
    expect((await page(t, 'POST', '/w/private/credentials/gh/test', { cookie: alice.cookie })).status).toBe(303);
    const list = await page(t, 'GET', '/w/private/credentials', { cookie: alice.cookie });
    expect(list.body).toContain(`Latchkey may not call 127.0.0.1:${svc.port}`);
    expect(svc.requests).toEqual([]);
  });
});

describe('list', () => {
  it('filters by type and by search text, as a page and as the htmx fragment', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form: githubForm('GitHub Work', 'ghp_1') });
    await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form: jiraForm('Jira Work', 'https://a.atlassian.net', 'a@example.com', 'jira-1') });
    await page(t, 'POST', '/w/private/credentials', { cookie: alice.cookie, form: githubForm('Personal 100%_GitHub', 'ghp_2') });

    const all = await page(t, 'GET', '/w/private/credentials', { cookie: alice.cookie });
    for (const id of ['github_work', 'jira_work', 'personal_100_github']) expect(all.body).toContain(`id="cred-${id}"`);

    const byType = await page(t, 'GET', '/w/private/credentials?type=jira', { cookie: alice.cookie });
    expect(byType.body).toContain('id="cred-jira_work"');
    expect(byType.body).not.toContain('id="cred-github_work"');

    const search = await page(t, 'GET', '/w/private/credentials?q=work', { cookie: alice.cookie, headers: { 'HX-Request': 'true', 'HX-Target': 'credential-list' } });
    expect(search.body).toMatch(/^<div id="credential-list">/);
    expect(search.body).toContain('id="cred-github_work"');
    expect(search.body).toContain('id="cred-jira_work"');
    expect(search.body).not.toContain('id="cred-personal_100_github"');

    const literal = await page(t, 'GET', `/w/private/credentials?q=${encodeURIComponent('100%_')}`, { cookie: alice.cookie });
    expect(literal.body).toContain('id="cred-personal_100_github"');
    expect(literal.body).not.toContain('id="cred-github_work"');

    const none = await page(t, 'GET', '/w/private/credentials?q=zzz', { cookie: alice.cookie });
    expect(none.body).toContain('No matches');
  });
});
