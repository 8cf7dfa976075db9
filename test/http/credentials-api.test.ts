// The credentials JSON API (/api/v1/credential-types, /api/v1/workspaces/:ws/credentials) over
// app.request, with the connection test against a real local fake service. See CONTRACT.md §4
// (Credentials, Credential IDs, error shape) and SECURITY.md (Access, Never shown again).
import { describe, expect, it } from 'vitest';
import { loadCredentialForUse } from '../../src/store/credentials';
import { findWorkspace, getPrivateWorkspace } from '../../src/store/workspaces';
import { type TestApp } from '../helpers/app';
import { project, useScenario } from '../helpers/scenario';
import { closedPortUrl, type FakeService } from '../helpers/fake-services';

const ALLOW_LOOPBACK = { env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } };

const { fresh, fake } = useScenario();


const github = (name: string, token = 'ghp_example_token', extra: Record<string, unknown> = {}) => ({ name, type: 'github', secrets: { token }, ...extra });

/** A blob (bytea) as hex, so rows compare by content on either engine; null stays null. */
const hex = (v: unknown) => (v == null ? null : Buffer.from(v as Uint8Array).toString('hex'));

/** Credential rows of the database (all workspaces), for checking that nothing changed. */
async function credentialRows(t: TestApp) {
  const rows = await t.sql('SELECT id, workspace_id, credential_id, name, type, fields_json, secret_blob, updated_at FROM credentials ORDER BY id');
  return rows.map(({ secret_blob, ...r }) => ({ ...r, blob: hex(secret_blob) }));
}

async function audit(t: TestApp, action?: string) {
  return (
    await t.sql<{
      actor: string;
      workspace: string | null;
      action: string;
      target: string;
      outcome: string;
      details_json: string;
    }>(`SELECT actor, workspace, action, target, outcome, details_json FROM audit_events ${action ? 'WHERE action = ?' : ''} ORDER BY id`, action ? [action] : [])
  ).map((e) => ({ ...e, details: JSON.parse(e.details_json) }));
}

/** Decrypted secrets of a credential, as a toolkit would get them. */
async function secretsOf(t: TestApp, userId: string, ws: string, credentialId: string) {
  const w = ws === 'private' ? await getPrivateWorkspace(t.deps.store, userId) : (await findWorkspace(t.deps.store, userId, ws))!;
  return (await loadCredentialForUse(t.deps.store, w, credentialId))?.secrets;
}

function expectErrorShape(json: any, error: string) {
  expect(json).toMatchObject({ error, message: expect.any(String) });
  expect(json.message.length).toBeGreaterThan(0);
}

describe('GET /credential-types', () => {
  it('lists the 8 types, each with a non-secret base_url and the contract secret fields', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    const res = await t.api('GET', '/credential-types', alice.token);
    expect(res.status).toBe(200);
    const types = res.json as { type: string; label: string; fields: { name: string; label: string; secret: boolean; required: boolean }[] }[];
    expect(types.map((x) => x.type).sort()).toEqual(['confluence', 'github', 'gitlab', 'http_basic', 'http_bearer', 'http_header', 'jira', 'slack']);
    const expected: Record<string, { secret: string[]; plain: string[]; baseUrlRequired: boolean }> = {
      github: { secret: ['token'], plain: ['base_url'], baseUrlRequired: false },
      gitlab: { secret: ['token'], plain: ['base_url'], baseUrlRequired: false },
      slack: { secret: ['token'], plain: ['base_url'], baseUrlRequired: false },
      http_bearer: { secret: ['token'], plain: ['base_url'], baseUrlRequired: true },
      jira: { secret: ['api_token'], plain: ['base_url', 'email'], baseUrlRequired: true },
      confluence: { secret: ['api_token'], plain: ['base_url', 'email'], baseUrlRequired: true },
      http_basic: { secret: ['password'], plain: ['base_url', 'username'], baseUrlRequired: true },
      http_header: { secret: ['value'], plain: ['base_url', 'header_name'], baseUrlRequired: true },
    };
    for (const ty of types) {
      expect(ty.label, ty.type).toEqual(expect.any(String));
      for (const f of ty.fields) expect(f, `${ty.type}.${f.name}`).toMatchObject({ name: expect.any(String), label: expect.any(String), secret: expect.any(Boolean), required: expect.any(Boolean) });
      const e = expected[ty.type];
      expect(ty.fields.filter((f) => f.secret).map((f) => f.name), ty.type).toEqual(e.secret);
      expect(ty.fields.filter((f) => !f.secret).map((f) => f.name).sort(), ty.type).toEqual(e.plain);
      const baseUrl = ty.fields.find((f) => f.name === 'base_url')!;
      expect(baseUrl, ty.type).toMatchObject({ secret: false, required: e.baseUrlRequired });
    }
    const defaults = Object.fromEntries(types.map((x) => [x.type, (x.fields.find((f) => f.name === 'base_url') as any).default]));
    expect(defaults).toMatchObject({ github: 'https://api.github.com', gitlab: 'https://gitlab.com', slack: 'https://slack.com' });
  });

  it('needs a token', async () => {
    const t = await fresh();
    const res = await t.api('GET', '/credential-types', null);
    expect(res.status).toBe(401);
    expectErrorShape(res.json, 'unauthorized');
  });
});

describe('Credential IDs through POST /workspaces/private/credentials', () => {
  type IdCase = { name: string; body: Record<string, unknown>; status: number; id?: string; field?: string };
  const long = 'Extremely Long Credential Name '.repeat(4); // 124 characters
  const cases: IdCase[] = [
    { name: 'made from a plain name', body: github('GitHub Integration Token'), status: 201, id: 'github_integration_token' },
    { name: 'accents folded, punctuation and spaces trimmed', body: github('  Café — Token!! '), status: 201, id: 'cafe_token' },
    { name: 'underscores in the name collapse', body: github('__Deploy__Key__'), status: 201, id: 'deploy_key' },
    { name: 'full-width letters fold to ASCII', body: github('ＧｉｔＨｕｂ 2'), status: 201, id: 'github_2' },
    { name: 'cut to 64 characters', body: github(long.slice(0, 110)), status: 201, id: 'extremely_long_credential_name_extremely_long_credential_name_ex' },
    { name: 'a name with nothing usable', body: github('!!! — ???'), status: 400, field: 'credential_id' },
    { name: 'a name of letters with no ASCII form', body: github('ß ẞ 東京'), status: 400, field: 'credential_id' },
    { name: 'explicit valid ID', body: github('Anything', 'ghp_x', { credential_id: 'my_token_1' }), status: 201, id: 'my_token_1' },
    { name: 'explicit ID starting with a digit', body: github('Anything', 'ghp_x', { credential_id: '9lives' }), status: 201, id: '9lives' },
    { name: 'explicit ID of 64 characters', body: github('Anything', 'ghp_x', { credential_id: 'a'.repeat(64) }), status: 201, id: 'a'.repeat(64) },
    { name: 'explicit ID with uppercase', body: github('Anything', 'ghp_x', { credential_id: 'GitHub' }), status: 400, field: 'credential_id' },
    { name: 'explicit ID starting with _', body: github('Anything', 'ghp_x', { credential_id: '_token' }), status: 400, field: 'credential_id' },
    { name: 'explicit ID with a hyphen', body: github('Anything', 'ghp_x', { credential_id: 'my-token' }), status: 400, field: 'credential_id' },
    { name: 'explicit ID with a space', body: github('Anything', 'ghp_x', { credential_id: 'my token' }), status: 400, field: 'credential_id' },
    { name: 'explicit ID with an accent', body: github('Anything', 'ghp_x', { credential_id: 'café' }), status: 400, field: 'credential_id' },
    { name: 'explicit empty ID', body: github('Anything', 'ghp_x', { credential_id: '' }), status: 400, field: 'credential_id' },
    { name: 'explicit ID of 65 characters', body: github('Anything', 'ghp_x', { credential_id: 'a'.repeat(65) }), status: 400, field: 'credential_id' },
    { name: 'explicit ID that is not a string', body: github('Anything', 'ghp_x', { credential_id: 42 }), status: 400, field: 'credential_id' },
  ];

  it.each(cases)('$name → $status $id', async (s) => {
    const t = await fresh();
    const alice = await t.user('alice');
    const res = await t.api('POST', '/workspaces/private/credentials', alice.token, s.body);
    expect(res.status, res.text).toBe(s.status);
    if (s.status === 201) {
      expect(res.json).toMatchObject({ credential_id: s.id, name: (s.body.name as string).trim(), type: 'github', scope: 'private', created_by: 'alice' });
      const list = await t.api('GET', '/workspaces/private/credentials', alice.token);
      expect(list.json.map((c: any) => c.credential_id)).toEqual([s.id]);
    } else {
      expectErrorShape(res.json, 'invalid_input');
      expect(res.json.fields[s.field!]).toEqual(expect.any(String));
      expect(await credentialRows(t)).toEqual([]);
    }
  });
});

describe('POST /workspaces/:ws/credentials', () => {
  it('answers 201 with the listing shape, non-secret fields only, and the type default base_url', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    const res = await t.api('POST', '/workspaces/private/credentials', alice.token, github('GitHub Integration Token', 'ghp_created_secret'));
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      credential_id: 'github_integration_token',
      name: 'GitHub Integration Token',
      type: 'github',
      scope: 'private',
      fields: { base_url: 'https://api.github.com' },
      created_by: 'alice',
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(res.text).not.toContain('ghp_created_secret');
    expect(await secretsOf(t, alice.id, 'private', 'github_integration_token')).toEqual({ token: 'ghp_created_secret' });
  });

  it.each([
    { name: 'no secrets object', body: { name: 'X', type: 'github' }, field: 'secrets' },
    { name: 'missing required secret', body: { name: 'X', type: 'github', secrets: {} }, field: 'secrets.token' },
    { name: 'unknown type', body: { name: 'X', type: 'ftp', secrets: { token: 'a' } }, field: 'type' },
    { name: 'missing name', body: { type: 'github', secrets: { token: 'a' } }, field: 'name' },
    { name: 'jira without base_url and email', body: { name: 'J', type: 'jira', secrets: { api_token: 'a' } }, field: 'fields.base_url' },
    { name: 'a secret sent as a plain field', body: { name: 'X', type: 'github', fields: { token: 'a' }, secrets: { token: 'a' } }, field: /token$/ },
    { name: 'a base_url with credentials in it', body: { name: 'X', type: 'github', fields: { base_url: 'https://u:p@example.com' }, secrets: { token: 'a' } }, field: 'fields.base_url' },
  ] as { name: string; body: Record<string, unknown>; field: string | RegExp }[])('refuses $name with 400 invalid_input', async (s) => {
    const t = await fresh();
    const alice = await t.user('alice');
    const res = await t.api('POST', '/workspaces/private/credentials', alice.token, s.body);
    expect(res.status).toBe(400);
    expectErrorShape(res.json, 'invalid_input');
    if (typeof s.field === 'string') expect(Object.keys(res.json.fields)).toContain(s.field);
    else expect(Object.keys(res.json.fields).some((k) => (s.field as RegExp).test(k)), JSON.stringify(res.json.fields)).toBe(true);
    expect(await credentialRows(t)).toEqual([]);
  });

  it('answers 409 credential_id_taken for a taken ID, and allows the same ID in another workspace', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    const bob = await t.user('bob');
    const team = await project(t, alice, 'Team', [[bob, 'editor']]);
    expect((await t.api('POST', '/workspaces/private/credentials', alice.token, github('GitHub Integration Token', 'ghp_first'))).status).toBe(201);

    for (const body of [github('GitHub Integration Token', 'ghp_second'), github('Another name', 'ghp_second', { credential_id: 'github_integration_token' })]) {
      const again = await t.api('POST', '/workspaces/private/credentials', alice.token, body);
      expect(again.status).toBe(409);
      expect(again.json).toEqual({ error: 'credential_id_taken', credential_id: 'github_integration_token', message: expect.any(String) });
    }
    expect(await secretsOf(t, alice.id, 'private', 'github_integration_token')).toEqual({ token: 'ghp_first' });

    // The same ID in bob's Private workspace and in a project.
    expect((await t.api('POST', '/workspaces/private/credentials', bob.token, github('GitHub Integration Token', 'ghp_bob'))).status).toBe(201);
    expect((await t.api('POST', `/workspaces/${team}/credentials`, bob.token, github('GitHub Integration Token', 'ghp_team'))).status).toBe(201);
    expect(await secretsOf(t, alice.id, 'private', 'github_integration_token')).toEqual({ token: 'ghp_first' });
    expect(await secretsOf(t, bob.id, 'private', 'github_integration_token')).toEqual({ token: 'ghp_bob' });
    expect(await secretsOf(t, bob.id, team, 'github_integration_token')).toEqual({ token: 'ghp_team' });

    // A rename onto a taken ID is a conflict too.
    await t.api('POST', '/workspaces/private/credentials', alice.token, github('Other', 'ghp_other', { credential_id: 'other' }));
    const rename = await t.api('PATCH', '/workspaces/private/credentials/other', alice.token, { credential_id: 'github_integration_token' });
    expect(rename.status).toBe(409);
    expect(rename.json).toMatchObject({ error: 'credential_id_taken', credential_id: 'github_integration_token' });
  });
});

describe('PATCH /workspaces/:ws/credentials/:credential_id', () => {
  it('keeps a blank or missing secret, replaces a typed one, and merges fields', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'Jira', type: 'jira', fields: { base_url: 'https://a.atlassian.net', email: 'a@example.com' }, secrets: { api_token: 'jira-old' } });

    const rename = await t.api('PATCH', '/workspaces/private/credentials/jira', alice.token, { name: 'Jira Cloud' });
    expect(rename.status).toBe(200);
    expect(rename.json).toMatchObject({ credential_id: 'jira', name: 'Jira Cloud', fields: { base_url: 'https://a.atlassian.net', email: 'a@example.com' } });
    expect(await secretsOf(t, alice.id, 'private', 'jira')).toEqual({ api_token: 'jira-old' });

    const blank = await t.api('PATCH', '/workspaces/private/credentials/jira', alice.token, { fields: { email: 'b@example.com' }, secrets: { api_token: '' } });
    expect(blank.status).toBe(200);
    expect(blank.json.fields).toEqual({ base_url: 'https://a.atlassian.net', email: 'b@example.com' });
    expect(await secretsOf(t, alice.id, 'private', 'jira')).toEqual({ api_token: 'jira-old' });

    // The listing sent back unchanged (what a script might do) keeps the secret too.
    const got = await t.api('GET', '/workspaces/private/credentials/jira', alice.token);
    const echo = await t.api('PATCH', '/workspaces/private/credentials/jira', alice.token, { name: got.json.name, fields: got.json.fields });
    expect(echo.status).toBe(200);
    expect(await secretsOf(t, alice.id, 'private', 'jira')).toEqual({ api_token: 'jira-old' });

    const typed = await t.api('PATCH', '/workspaces/private/credentials/jira', alice.token, { secrets: { api_token: 'jira-new' } });
    expect(typed.status).toBe(200);
    expect(typed.text).not.toContain('jira-new');
    expect(await secretsOf(t, alice.id, 'private', 'jira')).toEqual({ api_token: 'jira-new' });

    const bad = await t.api('PATCH', '/workspaces/private/credentials/jira', alice.token, { fields: { email: 'not an email' }, secrets: { api_token: 'jira-never' } });
    expect(bad.status).toBe(400);
    expectErrorShape(bad.json, 'invalid_input');
    expect(bad.json.fields['fields.email']).toEqual(expect.any(String));
    expect(await secretsOf(t, alice.id, 'private', 'jira')).toEqual({ api_token: 'jira-new' });

    const unknown = await t.api('PATCH', '/workspaces/private/credentials/nope', alice.token, { name: 'x' });
    expect(unknown.status).toBe(404);
  });

  it('can rename the Credential ID', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    await t.api('POST', '/workspaces/private/credentials', alice.token, github('GitHub', 'ghp_rename'));
    const res = await t.api('PATCH', '/workspaces/private/credentials/github', alice.token, { credential_id: 'github_work' });
    expect(res.status).toBe(200);
    expect(res.json.credential_id).toBe('github_work');
    expect((await t.api('GET', '/workspaces/private/credentials/github', alice.token)).status).toBe(404);
    expect(await secretsOf(t, alice.id, 'private', 'github_work')).toEqual({ token: 'ghp_rename' });
    const bad = await t.api('PATCH', '/workspaces/private/credentials/github_work', alice.token, { credential_id: 'Bad-ID' });
    expect(bad.status).toBe(400);
    expect(bad.json.fields.credential_id).toEqual(expect.any(String));
  });
});

describe('audit of credential changes', () => {
  it('records credential.create, update and delete with field names and never values', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    const body = { name: 'Basic API', type: 'http_basic', fields: { base_url: 'https://api.example.com', username: 'svc-user' }, secrets: { password: 'pw-audit-secret-1' } };
    expect((await t.api('POST', '/workspaces/private/credentials', alice.token, body)).status).toBe(201);
    expect((await t.api('PATCH', '/workspaces/private/credentials/basic_api', alice.token, { fields: { username: 'svc-user-2' }, secrets: { password: 'pw-audit-secret-2' } })).status).toBe(200);
    expect((await t.api('DELETE', '/workspaces/private/credentials/basic_api', alice.token)).status).toBe(204);

    const events = (await audit(t)).filter((e) => e.action.startsWith('credential.'));
    expect(events.map((e) => [e.action, e.actor, e.workspace, e.target, e.outcome])).toEqual([
      ['credential.create', 'alice', 'private', 'credential:basic_api', 'success'],
      ['credential.update', 'alice', 'private', 'credential:basic_api', 'success'],
      ['credential.delete', 'alice', 'private', 'credential:basic_api', 'success'],
    ]);
    expect(events[0].details).toMatchObject({ scope: 'private', type: 'http_basic', fields: ['base_url', 'username'], secrets: ['password'] });
    expect(events[1].details.changed.sort()).toEqual(['fields.username', 'secrets.password']);
    const all = JSON.stringify(await audit(t));
    for (const value of ['pw-audit-secret-1', 'pw-audit-secret-2', 'svc-user-2', Buffer.from('svc-user:pw-audit-secret-1').toString('base64')]) expect(all).not.toContain(value);
  });

  it('writes no update event when nothing changed', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    await t.api('POST', '/workspaces/private/credentials', alice.token, github('GitHub', 'ghp_same'));
    expect((await t.api('PATCH', '/workspaces/private/credentials/github', alice.token, { name: 'GitHub' })).status).toBe(200);
    expect(await audit(t, 'credential.update')).toEqual([]);
  });
});

describe('access', () => {
  it("never reaches another user's private credential, not even as instance admin", async () => {
    const t = await fresh(ALLOW_LOOPBACK);
    const svc = await fake({ ghp_bob_secret: 'bob' });
    const alice = await t.user('alice'); // first user: instance admin, the attacker
    const bob = await t.user('bob'); // the victim
    expect((await t.api('GET', '/me', alice.token)).json.is_admin).toBe(true);
    const created = await t.api('POST', '/workspaces/private/credentials', bob.token, github('Bob Token', 'ghp_bob_secret', { fields: { base_url: svc.url } }));
    expect(created.status).toBe(201);
    const before = await credentialRows(t);
    const bobWs = await getPrivateWorkspace(t.deps.store, bob.id);

    // Every way alice might try to name bob's workspace.
    const refs = ['private', 'bob', 'Private', String(bobWs.id), bob.id, 'private%2F..%2Fbob'];
    type Call = [string, string, unknown?];
    for (const ref of refs) {
      const calls: Call[] = [
        ['GET', `/workspaces/${ref}/credentials/bob_token`],
        ['PATCH', `/workspaces/${ref}/credentials/bob_token`, { name: 'pwned', secrets: { token: 'ghp_alice' } }],
        ['DELETE', `/workspaces/${ref}/credentials/bob_token`],
        ['POST', `/workspaces/${ref}/credentials/bob_token/test`, {}],
      ];
      for (const [method, url, body] of calls) {
        const res = await t.api(method, url, alice.token, body);
        expect(res.status, `${method} ${url}`).toBe(404);
        expectErrorShape(res.json, 'not_found');
        expect(res.text).not.toContain('ghp_bob_secret');
      }
      const list = await t.api('GET', `/workspaces/${ref}/credentials`, alice.token);
      if (ref === 'private') expect(list.json).toEqual([]); // her own, empty
      else expect(list.status, `list ${ref}`).toBe(404);
    }
    // Creating "private" credentials lands in alice's own workspace, never bob's.
    const mine = await t.api('POST', '/workspaces/private/credentials', alice.token, github('Bob Token', 'ghp_alice_own'));
    expect(mine.status).toBe(201);
    expect(await secretsOf(t, bob.id, 'private', 'bob_token')).toEqual({ token: 'ghp_bob_secret' });
    expect((await credentialRows(t)).slice(0, before.length)).toEqual(before);
    expect(svc.requests).toEqual([]);
  });

  it('answers 404 for every credential route of a project the caller is not in', async () => {
    const t = await fresh(ALLOW_LOOPBACK);
    const svc = await fake({ ghp_team_secret: 'team-bot' });
    const alice = await t.user('alice'); // instance admin, not a member
    const bob = await t.user('bob');
    const team = await project(t, bob, 'Secret Team');
    expect((await t.api('POST', `/workspaces/${team}/credentials`, bob.token, github('Team Token', 'ghp_team_secret', { fields: { base_url: svc.url } }))).status).toBe(201);
    const before = await credentialRows(t);
    const calls: [string, string, unknown?][] = [
      ['GET', `/workspaces/${team}/credentials`],
      ['GET', `/workspaces/${team}/credentials/team_token`],
      ['POST', `/workspaces/${team}/credentials`, github('Mine', 'ghp_x')],
      ['PATCH', `/workspaces/${team}/credentials/team_token`, { name: 'pwned' }],
      ['DELETE', `/workspaces/${team}/credentials/team_token`],
      ['POST', `/workspaces/${team}/credentials/team_token/test`, {}],
      ['GET', `/workspaces/no-such-project/credentials`],
    ];
    for (const [method, url, body] of calls) {
      const res = await t.api(method, url, alice.token, body);
      expect(res.status, `${method} ${url}`).toBe(404);
      expectErrorShape(res.json, 'not_found');
    }
    expect(await credentialRows(t)).toEqual(before);
    expect(svc.requests).toEqual([]);
  });

  it('lets a viewer list project credentials (metadata only) but not create, patch or delete them', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    const vera = await t.user('vera');
    const ed = await t.user('ed');
    const team = await project(t, alice, 'Team', [
      [vera, 'viewer'],
      [ed, 'editor'],
    ]);
    expect((await t.api('POST', `/workspaces/${team}/credentials`, alice.token, github('Team Token', 'ghp_team_viewer_secret'))).status).toBe(201);

    const list = await t.api('GET', `/workspaces/${team}/credentials`, vera.token);
    expect(list.status).toBe(200);
    expect(list.json).toEqual([expect.objectContaining({ credential_id: 'team_token', name: 'Team Token', type: 'github', scope: 'project', fields: { base_url: 'https://api.github.com' }, created_by: 'alice' })]);
    expect(list.text).not.toContain('ghp_team_viewer_secret');
    expect((await t.api('GET', `/workspaces/${team}/credentials/team_token`, vera.token)).status).toBe(200);

    const before = await credentialRows(t);
    const denied: [string, string, unknown?][] = [
      ['POST', `/workspaces/${team}/credentials`, github('Viewer Token', 'ghp_v')],
      ['PATCH', `/workspaces/${team}/credentials/team_token`, { name: 'Renamed', secrets: { token: 'ghp_v' } }],
      ['DELETE', `/workspaces/${team}/credentials/team_token`],
    ];
    for (const [method, url, body] of denied) {
      const res = await t.api(method, url, vera.token, body);
      expect(res.status, `${method} ${url}`).toBe(403);
      expectErrorShape(res.json, 'forbidden');
    }
    expect(await credentialRows(t)).toEqual(before);
    // An unknown credential is still 404 for a viewer (no hint about roles first).
    expect((await t.api('PATCH', `/workspaces/${team}/credentials/nope`, vera.token, { name: 'x' })).status).toBe(404);

    // An editor may do all three.
    expect((await t.api('POST', `/workspaces/${team}/credentials`, ed.token, github('Editor Token', 'ghp_e'))).status).toBe(201);
    expect((await t.api('PATCH', `/workspaces/${team}/credentials/editor_token`, ed.token, { name: 'Editor Token 2' })).status).toBe(200);
    expect((await t.api('DELETE', `/workspaces/${team}/credentials/editor_token`, ed.token)).status).toBe(204);
  });

  it('deletes with 204 and then answers 404', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    await t.api('POST', '/workspaces/private/credentials', alice.token, github('GitHub', 'ghp_del'));
    expect((await t.api('DELETE', '/workspaces/private/credentials/github', alice.token)).status).toBe(204);
    expect((await t.api('DELETE', '/workspaces/private/credentials/github', alice.token)).status).toBe(404);
    expect((await t.api('GET', '/workspaces/private/credentials', alice.token)).json).toEqual([]);
  });
});

describe('POST /workspaces/:ws/credentials/:credential_id/test', () => {
  type TestCase = {
    name: string;
    body: (svc: FakeService, dead: string) => Record<string, unknown>;
    ok: boolean;
    message: RegExp;
    request?: { method: string; path: string };
  };
  const cases: TestCase[] = [
    { name: 'GitHub, known token', body: (s) => github('GH', 'ghp_good', { fields: { base_url: s.url } }), ok: true, message: /^Verified as octo-alice$/, request: { method: 'GET', path: '/user' } },
    { name: 'GitHub, refused token', body: (s) => github('GH', 'ghp_wrong', { fields: { base_url: s.url } }), ok: false, message: /401.*Bad credentials/, request: { method: 'GET', path: '/user' } },
    {
      name: 'Jira, known api token',
      body: (s) => ({ name: 'Jira', type: 'jira', fields: { base_url: s.url, email: 'alice@example.com' }, secrets: { api_token: 'jira_good' } }),
      ok: true,
      message: /^Verified as alice@example\.com$/,
      request: { method: 'GET', path: '/rest/api/3/myself' },
    },
    {
      name: 'Jira, refused api token',
      body: (s) => ({ name: 'Jira', type: 'jira', fields: { base_url: s.url, email: 'alice@example.com' }, secrets: { api_token: 'jira_wrong' } }),
      ok: false,
      message: /401.*must be authenticated/,
      request: { method: 'GET', path: '/rest/api/3/myself' },
    },
    { name: 'GitHub, unreachable', body: (_s, dead) => github('GH', 'ghp_good', { fields: { base_url: dead } }), ok: false, message: /Could not reach the service/ },
    { name: 'GitHub, server error', body: (s) => github('GH', 'ghp_good', { fields: { base_url: `${s.url}/boom` } }), ok: false, message: /answered 500/ },
    { name: 'Slack, refused', body: (s) => ({ name: 'Slack', type: 'slack', fields: { base_url: s.url }, secrets: { token: 'xoxb-wrong' } }), ok: false, message: /invalid_auth/ },
    { name: 'GitLab, known token', body: (s) => ({ name: 'GitLab', type: 'gitlab', fields: { base_url: s.url }, secrets: { token: 'glpat_good' } }), ok: true, message: /^Verified as octo-alice$/ },
  ];

  it.each(cases)('$name → ok=$ok', async (s) => {
    const t = await fresh(ALLOW_LOOPBACK);
    const svc = await fake({ ghp_good: 'octo-alice', jira_good: 'Alice A', glpat_good: 'octo-alice' });
    const dead = await closedPortUrl();
    const alice = await t.user('alice');
    const created = await t.api('POST', '/workspaces/private/credentials', alice.token, s.body(svc, dead));
    expect(created.status, created.text).toBe(201);
    const cid = created.json.credential_id;

    const res = await t.api('POST', `/workspaces/private/credentials/${cid}/test`, alice.token, {});
    expect(res.status).toBe(200);
    expect(res.json.ok).toBe(s.ok);
    expect(res.json.message).toMatch(s.message);
    if (s.request) expect(svc.requests.at(-1)).toMatchObject(s.request);

    // The outcome is kept and listed.
    const list = await t.api('GET', '/workspaces/private/credentials', alice.token);
    expect(list.json[0].last_test).toEqual({ at: expect.any(String), ok: s.ok, message: res.json.message });
    const one = await t.api('GET', `/workspaces/private/credentials/${cid}`, alice.token);
    expect(one.json.last_test.message).toBe(res.json.message);
  });

  it('refuses a loopback base_url without OUTBOUND_ALLOW_HOSTS, and the service receives nothing', async () => {
    const t = await fresh();
    const svc = await fake({ ghp_good: 'octo-alice' });
    const alice = await t.user('alice');
    await t.api('POST', '/workspaces/private/credentials', alice.token, github('GH', 'ghp_good', { fields: { base_url: svc.url } }));
    const res = await t.api('POST', '/workspaces/private/credentials/gh/test', alice.token, {});
    expect(res.status).toBe(200);
    expect(res.json.ok).toBe(false);
    expect(res.json.message).toContain(`may not call 127.0.0.1:${svc.port}`);
    expect(res.json.message).toContain('OUTBOUND_ALLOW_HOSTS');
    expect(svc.requests).toEqual([]);
  });

  it('asks for the secrets again when base_url moves to another origin, so a saved token never follows it', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    await t.api('POST', '/workspaces/private/credentials', alice.token, github('GH', 'ghp_keep_me', { fields: { base_url: 'https://github.example.com/api/v3' } }));
    const samePlace = await t.api('PATCH', '/workspaces/private/credentials/gh', alice.token, { fields: { base_url: 'https://github.example.com/api/v4' } });
    expect(samePlace.status).toBe(200);
    const moved = await t.api('PATCH', '/workspaces/private/credentials/gh', alice.token, { fields: { base_url: 'https://attacker.example.net' } });
    expect(moved.status).toBe(400);
    expect(moved.json.fields['secrets.token']).toContain('again');
    expect((await t.api('GET', '/workspaces/private/credentials/gh', alice.token)).json.fields.base_url).toBe('https://github.example.com/api/v4');
    const retyped = await t.api('PATCH', '/workspaces/private/credentials/gh', alice.token, { fields: { base_url: 'https://ghe.example.org' }, secrets: { token: 'ghp_new_place' } });
    expect(retyped.status).toBe(200);
    expect(await secretsOf(t, alice.id, 'private', 'gh')).toEqual({ token: 'ghp_new_place' });
  });
});

describe('input errors come from the one schema', () => {
  it('name every bad field at once, never echo an unknown key (it may be a pasted secret), and write nothing', async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    const before = await credentialRows(t);
    const canary = 'ghp_CANARYKEY0123456789';
    const res = await t.api('POST', '/workspaces/private/credentials', alice.token, { name: '', type: 'github', credential_id: 'Bad ID', fields: { [canary]: 5 }, secrets: { token: 't' } });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_input');
    expect(Object.keys(res.json.fields).sort()).toEqual(['_unknown_field', 'credential_id', 'name']);
    expect(res.text).not.toContain(canary);
    expect(await credentialRows(t)).toEqual(before);
  });
});
