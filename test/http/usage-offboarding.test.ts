// Credential usage (GET …/credentials/:id/usage, the "Used by" section, the delete confirmation)
// and offboarding (what depends on a person, deactivation by API and CLI, removal from a project).
//
// The world:
//
// | user  | platform | other | private github_token                  |
// |-------|----------|-------|---------------------------------------|
// | alice | admin    | —     | none (instance admin, first user)     |
// | bob   | editor   | —     | github, token CANARY.bob              |
// | carol | viewer   | —     | gitlab (wrong type for GitHub)        |
// | dave  | —        | admin | github, token CANARY.dave             |
//
// Toolkits: platform/GitHub (private github_token, by alice), platform/Lab (gitlab type, private
// github_token, by bob), platform/Team (project credential team_github that bob created, by
// alice), private/Mine (bob's own, github_token), other/Theirs (dave's, private github_token).
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKey, parseKeyRing } from '../../src/crypto/keyring';
import { ORIGIN, type TestApp } from '../helpers/app';
import { cli } from '../helpers/cli';
import type { FakeService } from '../helpers/fake-services';
import { project, useScenario, type User } from '../helpers/scenario';

const CANARY = { bob: 'ghp_CANARY_BOB_usage_3e1f', dave: 'ghp_CANARY_DAVE_usage_a0c4', team: 'ghp_CANARY_TEAM_usage_77b2', carol: 'glpat_CANARY_CAROL_usage_5d9e' };

const s = useScenario();

type World = { t: TestApp; svc: FakeService; u: Record<'alice' | 'bob' | 'carol' | 'dave', User>; tk: Record<'github' | 'lab' | 'team' | 'mine' | 'theirs', number>; seen: string[] };

async function world(opts: Parameters<typeof s.fresh>[0] = {}): Promise<World> {
  const t = await s.fresh({ ...opts, env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1', ...opts.env } });
  const svc = await s.fake({ [CANARY.bob]: 'bob-gh', [CANARY.team]: 'team-bot', [CANARY.dave]: 'dave-gh' });
  const u = { alice: await t.user('alice'), bob: await t.user('bob'), carol: await t.user('carol'), dave: await t.user('dave') };
  await project(t, u.alice, 'Platform', [
    [u.bob, 'editor'],
    [u.carol, 'viewer'],
  ]);
  await project(t, u.dave, 'Other');
  const seen: string[] = [];
  const ok = async (r: Promise<{ status: number; json: any; text: string }>, status = 201) => {
    const res = await r;
    seen.push(res.text);
    expect(res.status, res.text).toBe(status);
    return res.json;
  };
  const gh = (token: string) => ({ name: 'GitHub Token', type: 'github', fields: { base_url: svc.url }, secrets: { token } });
  await ok(t.api('POST', '/workspaces/private/credentials', u.bob.token, gh(CANARY.bob)));
  await ok(t.api('POST', '/workspaces/private/credentials', u.dave.token, gh(CANARY.dave)));
  await ok(t.api('POST', '/workspaces/private/credentials', u.carol.token, { name: 'GitHub Token', credential_id: 'github_token', type: 'gitlab', fields: {}, secrets: { token: CANARY.carol } }));
  await ok(t.api('POST', '/workspaces/platform/credentials', u.bob.token, { ...gh(CANARY.team), name: 'Team GitHub' }));
  const toolkit = (ws: string, who: User, name: string, type: string, credential: Record<string, string>) =>
    ok(t.api('POST', `/workspaces/${ws}/toolkits`, who.token, { name, type, settings: {}, credential })).then((j) => j.id as number);
  const priv = { scope: 'private', credential_id: 'github_token' };
  const tk = {
    github: await toolkit('platform', u.alice, 'GitHub', 'github', priv),
    lab: await toolkit('platform', u.bob, 'Lab', 'gitlab', priv),
    team: await toolkit('platform', u.alice, 'Team', 'github', { scope: 'project', credential_id: 'team_github' }),
    mine: await toolkit('private', u.bob, 'Mine', 'github', priv),
    theirs: await toolkit('other', u.dave, 'Theirs', 'github', priv),
  };
  return { t, svc, u, tk, seen };
}

/** Every answer a test read, the log lines and the audit details hold no canary secret. */
async function expectNoCanary(w: World) {
  const audit = (await w.t.sql<{ details_json: string }>('SELECT details_json FROM audit_events')).map((r) => r.details_json);
  const everything = [...w.seen, ...w.t.logs, ...audit].join('\n');
  for (const c of Object.values(CANARY)) expect(everything).not.toContain(c);
}

/** Reads a page or answer and keeps its text for the canary sweep. */
async function read(w: World, res: Response | Promise<Response>) {
  const r = await res;
  const text = await r.text();
  w.seen.push(text);
  return { status: r.status, text, location: r.headers.get('Location') };
}

const REDIRECT = 'http://127.0.0.1:8765/callback';

/** Registers an MCP client, has `cookie`'s person allow it, and returns its access and refresh tokens. */
async function connectAgent(t: TestApp, cookie: string) {
  const reg = await t.app.request(`${ORIGIN}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ client_name: 'Agent', redirect_uris: [REDIRECT] }) });
  const clientId = (await reg.json()).client_id as string;
  const verifier = randomBytes(32).toString('base64url');
  const params = { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, state: 's', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', resource: `${ORIGIN}/mcp` };
  const allowed = await t.browser('POST', '/oauth/authorize', { cookie, form: { ...params, decision: 'allow' } });
  const code = new URL(allowed.headers.get('Location')!).searchParams.get('code')!;
  const tok = await tokenCall(t, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId });
  expect(tok.status).toBe(200);
  return { clientId, access: tok.json.access_token as string, refresh: tok.json.refresh_token as string };
}

async function tokenCall(t: TestApp, form: Record<string, string>) {
  const res = await t.app.request(`${ORIGIN}/oauth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: res.status, json: await res.json() };
}

/** The status of an MCP request (tools/list) with an OAuth access token. */
async function mcpStatus(t: TestApp, access: string) {
  const res = await t.app.request(`${ORIGIN}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${access}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } } }),
  });
  await res.text();
  return res.status;
}

function auditRows(t: TestApp, action: string) {
  return t.sql<{ actor: string | null; target: string; details_json: string }>('SELECT actor, target, details_json FROM audit_events WHERE action = ? ORDER BY id', [action]);
}

describe('credential usage API', () => {
  type UsageCase = { name: string; as: keyof World['u']; ws: string; cid: string; status: 200 | 404; toolkits?: [string, keyof World['tk']][] };
  const cases: UsageCase[] = [
    // bob's own: his Private toolkit and platform's GitHub; not Lab (gitlab does not take a github
    // credential), not other/Theirs (a project bob is not in).
    { name: 'private credential: own workspace and own projects, matching types only', as: 'bob', ws: 'private', cid: 'github_token', status: 200, toolkits: [['private', 'mine'], ['platform', 'github']] },
    { name: 'private credential of someone else is never reachable', as: 'alice', ws: 'private', cid: 'github_token', status: 404 },
    { name: 'dave sees only his project', as: 'dave', ws: 'private', cid: 'github_token', status: 200, toolkits: [['other', 'theirs']] },
    { name: 'project credential: any member may ask (viewer)', as: 'carol', ws: 'platform', cid: 'team_github', status: 200, toolkits: [['platform', 'team']] },
    { name: 'project credential from a non-member is a 404', as: 'dave', ws: 'platform', cid: 'team_github', status: 404 },
    { name: 'no such credential', as: 'bob', ws: 'platform', cid: 'nope', status: 404 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const w = await world();
      const r = await w.t.api('GET', `/workspaces/${c.ws}/credentials/${c.cid}/usage`, w.u[c.as].token);
      w.seen.push(r.text);
      expect(r.status).toBe(c.status);
      if (c.status === 200) {
        expect(r.json.toolkits).toEqual(c.toolkits!.map(([workspace, k]) => ({ workspace, id: w.tk[k], name: { github: 'GitHub', lab: 'Lab', team: 'Team', mine: 'Mine', theirs: 'Theirs' }[k] })));
        expect(r.json.last_used_at).toBeNull();
      } else {
        expect(r.json.error).toBe('not_found');
      }
      await expectNoCanary(w);
    });
  }

  it('last_used_at: the caller’s own last run for a private credential, anyone’s for a project one', async () => {
    const w = await world();
    expect((await w.t.api('POST', `/workspaces/platform/toolkits/${w.tk.github}/execute`, w.u.bob.token, { tool: 'get_authenticated_user', input: {} })).status).toBe(200);
    expect((await w.t.api('POST', `/workspaces/platform/toolkits/${w.tk.team}/execute`, w.u.carol.token, { tool: 'get_authenticated_user', input: {} })).status).toBe(200);
    const own = await w.t.api('GET', '/workspaces/private/credentials/github_token/usage', w.u.bob.token);
    expect(own.json.last_used_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await w.t.api('GET', '/workspaces/private/credentials/github_token/usage', w.u.dave.token)).json.last_used_at).toBeNull();
    const team = await w.t.api('GET', '/workspaces/platform/credentials/team_github/usage', w.u.alice.token);
    expect(team.json.last_used_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    w.seen.push(own.text, team.text);
    await expectNoCanary(w);
  });
});

describe('usage and dependencies with a fallback', () => {
  it('a project credential used as fallback is listed as used, and its creator makes the toolkit ready', async () => {
    const w = await world();
    const fb = await w.t.api('POST', '/workspaces/platform/toolkits', w.u.alice.token, { name: 'Fallback GitHub', type: 'github', settings: {}, credential: { scope: 'private', credential_id: 'github_token', fallback: 'team_github' } });
    expect(fb.status, fb.text).toBe(201);
    const usage = await w.t.api('GET', '/workspaces/platform/credentials/team_github/usage', w.u.carol.token);
    expect(usage.json.toolkits.map((t: { name: string }) => t.name)).toEqual(['Fallback GitHub', 'Team']);
    const deps = await w.t.api('GET', '/users/bob/dependencies', w.u.alice.token);
    expect(deps.json.projects[0].toolkits_only_they_make_ready).toContainEqual({ id: fb.json.id, name: 'Fallback GitHub', because: 'their_fallback_credential' });
    w.seen.push(usage.text, deps.text);
    await expectNoCanary(w);
  });
});

describe('credential pages: Used by and the delete confirmation', () => {
  it('the edit page lists the toolkits that run with it, as links', async () => {
    const w = await world();
    const page = await read(w, w.t.browser('GET', '/w/private/credentials/github_token/edit', { cookie: w.u.bob.cookie }));
    expect(page.status).toBe(200);
    const usedBy = page.text.slice(page.text.indexOf('id="used-by"'));
    expect(usedBy).toContain('Used by');
    expect(usedBy).toContain(`href="/w/private/toolkits/${w.tk.mine}"`);
    expect(usedBy).toContain(`href="/w/platform/toolkits/${w.tk.github}"`);
    expect(usedBy).not.toContain('Lab');
    expect(usedBy).not.toContain('Theirs');
    const team = await read(w, w.t.browser('GET', '/w/platform/credentials/team_github/edit', { cookie: w.u.bob.cookie }));
    expect(team.text.slice(team.text.indexOf('id="used-by"'))).toContain(`href="/w/platform/toolkits/${w.tk.team}"`);
    await expectNoCanary(w);
  });

  it('deleting a credential that toolkits use names them before asking to confirm', async () => {
    const w = await world();
    for (const hx of [false, true]) {
      const r = await read(w, w.t.browser('GET', '/w/private/credentials/github_token/delete', { cookie: w.u.bob.cookie, headers: hx ? { 'HX-Request': 'true' } : {} }));
      expect(r.status).toBe(200);
      const warning = r.text.slice(r.text.indexOf('banner'), r.text.indexOf('name="confirm"'));
      expect(warning).toContain('Mine');
      expect(warning).toContain('GitHub');
      expect(warning).not.toContain('Theirs');
      expect(warning).not.toContain('Lab');
    }
    // Nothing is deleted before the confirmation.
    expect((await w.t.api('GET', '/workspaces/private/credentials/github_token', w.u.bob.token)).status).toBe(200);
    // carol's github_token is a GitLab credential: only the GitLab toolkit would run with it.
    const carols = await read(w, w.t.browser('GET', '/w/private/credentials/github_token/delete', { cookie: w.u.carol.cookie }));
    const carolsWarning = carols.text.slice(carols.text.indexOf('banner-warning'), carols.text.indexOf('name="confirm"'));
    expect(carolsWarning).toContain('Lab');
    expect(carolsWarning).not.toContain('GitHub<');
    const unused = await read(w, w.t.browser('GET', '/w/private/credentials/github_token/delete', { cookie: w.u.dave.cookie }));
    expect(unused.text).toContain('Theirs');
    await w.t.api('DELETE', `/workspaces/other/toolkits/${w.tk.theirs}`, w.u.dave.token);
    expect((await read(w, w.t.browser('GET', '/w/private/credentials/github_token/delete', { cookie: w.u.dave.cookie }))).text).toContain('No toolkit uses this credential.');
    await expectNoCanary(w);
  });
});

describe('offboarding', () => {
  const BOB_IN_PLATFORM = (w: World) => ({
    workspace: 'platform',
    name: 'Platform',
    role: 'editor',
    credentials: [{ credential_id: 'team_github', name: 'Team GitHub' }],
    toolkits_created: [{ id: w.tk.lab, name: 'Lab' }],
    toolkits_only_they_make_ready: [
      // carol's github_token is a GitLab one, alice has none: bob alone makes GitHub ready.
      { id: w.tk.github, name: 'GitHub', because: 'only_ready_member' },
      { id: w.tk.team, name: 'Team', because: 'their_project_credential' },
    ],
  });

  it('GET /users/:username/dependencies: instance admins only, unknown is a 404', async () => {
    const w = await world();
    const r = await w.t.api('GET', '/users/bob/dependencies', w.u.alice.token);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ username: 'bob', active: true, projects: [BOB_IN_PLATFORM(w)] });
    const dave = await w.t.api('GET', '/users/dave/dependencies', w.u.alice.token);
    expect(dave.json.projects).toEqual([{ workspace: 'other', name: 'Other', role: 'admin', credentials: [], toolkits_created: [{ id: w.tk.theirs, name: 'Theirs' }], toolkits_only_they_make_ready: [{ id: w.tk.theirs, name: 'Theirs', because: 'only_ready_member' }] }]);
    expect((await w.t.api('GET', '/users/bob/dependencies', w.u.bob.token)).status).toBe(403);
    expect((await w.t.api('GET', '/users/nobody/dependencies', w.u.alice.token)).status).toBe(404);
    w.seen.push(r.text, dave.text);
    await expectNoCanary(w);
  });

  it('a deactivated member does not count as another ready member: the toolkit only bob makes ready is listed again', async () => {
    const w = await world();
    // erin joins Platform with her own GitHub credential: GitHub is no longer bob's alone.
    const erin = await w.t.user('erin');
    expect((await w.t.api('POST', '/projects/platform/members', w.u.alice.token, { username: 'erin', role: 'editor' })).status).toBe(201);
    const cred = await w.t.api('POST', '/workspaces/private/credentials', erin.token, { name: 'GitHub Token', type: 'github', fields: { base_url: w.svc.url }, secrets: { token: CANARY.dave } });
    expect(cred.status, cred.text).toBe(201);
    const onlyBob = async () => (await w.t.api('GET', '/users/bob/dependencies', w.u.alice.token)).json.projects[0].toolkits_only_they_make_ready;
    expect(await onlyBob()).toEqual([{ id: w.tk.team, name: 'Team', because: 'their_project_credential' }]);
    // Deactivated, erin runs nothing: bob is again the only one who makes GitHub ready.
    expect((await w.t.api('POST', '/users/erin/deactivate', w.u.alice.token)).status).toBe(200);
    expect(await onlyBob()).toEqual(BOB_IN_PLATFORM(w).toolkits_only_they_make_ready);
    // The person asked about still counts when they are the deactivated one.
    const erinDeps = await w.t.api('GET', '/users/erin/dependencies', w.u.alice.token);
    expect(erinDeps.json.projects[0].toolkits_only_they_make_ready).toEqual([]);
    expect((await w.t.api('POST', '/users/bob/deactivate', w.u.alice.token)).status).toBe(200);
    expect((await w.t.api('GET', '/users/bob/dependencies', w.u.alice.token)).json.projects[0].toolkits_only_they_make_ready).toEqual(BOB_IN_PLATFORM(w).toolkits_only_they_make_ready);
    await expectNoCanary(w);
  });

  it('the deactivation confirmation (page and dialog) shows what depends on them', async () => {
    const w = await world();
    for (const hx of [false, true]) {
      const r = await read(w, w.t.browser('GET', '/admin/users/bob/disable', { cookie: w.u.alice.cookie, headers: hx ? { 'HX-Request': 'true' } : {} }));
      expect(r.status).toBe(200);
      const section = r.text.slice(r.text.indexOf('id="user-dependencies"'));
      expect(section).toContain('What depends on bob');
      expect(section).toContain('Platform');
      for (const name of ['Team GitHub', 'team_github', 'Lab', 'GitHub', 'Team']) expect(section).toContain(name);
      expect(section).toContain('they are the only member whose private credential makes it ready');
    }
    expect((await read(w, w.t.browser('GET', '/admin/users/bob/disable', { cookie: w.u.bob.cookie }))).status).toBe(403);
    await expectNoCanary(w);
  });

  it('the removal page shows what depends on them in that project, then removes; access ends at the next request', async () => {
    const w = await world();
    const members = await read(w, w.t.browser('GET', '/w/platform/members', { cookie: w.u.alice.cookie }));
    expect(members.text).toContain('href="/w/platform/members/bob/remove"');
    const page = await read(w, w.t.browser('GET', '/w/platform/members/bob/remove', { cookie: w.u.alice.cookie }));
    expect(page.status).toBe(200);
    const section = page.text.slice(page.text.indexOf('id="member-dependencies"'));
    expect(section).toContain(`href="/w/platform/toolkits/${w.tk.github}"`);
    expect(section).toContain(`href="/w/platform/toolkits/${w.tk.team}"`);
    expect(section).toContain('href="/w/platform/credentials/team_github/edit"');
    // Only project admins see it; a non-member is a 404.
    expect((await read(w, w.t.browser('GET', '/w/platform/members/bob/remove', { cookie: w.u.carol.cookie }))).status).toBe(403);
    expect((await read(w, w.t.browser('GET', '/w/platform/members/nobody/remove', { cookie: w.u.alice.cookie }))).status).toBe(404);

    expect((await w.t.api('GET', '/workspaces/platform/toolkits', w.u.bob.token)).status).toBe(200);
    const removed = await read(w, w.t.browser('POST', '/w/platform/members/bob/remove', { cookie: w.u.alice.cookie, form: {} }));
    expect(removed.status).toBe(303);
    expect((await w.t.api('GET', '/workspaces/platform/toolkits', w.u.bob.token)).status).toBe(404);
    expect((await w.t.api('POST', `/workspaces/platform/toolkits/${w.tk.github}/execute`, w.u.bob.token, { tool: 'get_authenticated_user', input: {} })).status).toBe(404);
    const pageAfter = await read(w, w.t.browser('GET', '/w/platform/toolkits', { cookie: w.u.bob.cookie }));
    expect(pageAfter.status).not.toBe(200);
    expect(await auditRows(w.t, 'member.remove')).toEqual([expect.objectContaining({ actor: 'alice', target: 'user:bob' })]);
    await expectNoCanary(w);
  });

  it('deactivation by API ends sessions, tokens and OAuth grants at the next request; their private credentials stay unusable by others', async () => {
    const w = await world();
    const agent = await connectAgent(w.t, w.u.bob.cookie);
    expect(await mcpStatus(w.t, agent.access)).toBe(200);
    expect((await w.t.api('GET', '/me', w.u.bob.token)).status).toBe(200);
    expect((await w.t.browser('GET', '/w/private/toolkits', { cookie: w.u.bob.cookie })).status).toBe(200);
    // Only instance admins; nobody deactivates themselves; unknown is a 404.
    expect((await w.t.api('POST', '/users/carol/deactivate', w.u.bob.token)).status).toBe(403);
    expect((await w.t.api('POST', '/users/alice/deactivate', w.u.alice.token)).status).toBe(409);
    expect((await w.t.api('POST', '/users/nobody/deactivate', w.u.alice.token)).status).toBe(404);

    const r = await w.t.api('POST', '/users/bob/deactivate', w.u.alice.token);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ username: 'bob', active: false });
    expect((await w.t.api('GET', '/me', w.u.bob.token)).status).toBe(401);
    const page = await w.t.browser('GET', '/w/private/toolkits', { cookie: w.u.bob.cookie });
    expect(page.status).toBe(303);
    expect(page.headers.get('Location')).toMatch(/^\/login/);
    expect(await mcpStatus(w.t, agent.access)).toBe(401);
    expect((await tokenCall(w.t, { grant_type: 'refresh_token', refresh_token: agent.refresh, client_id: agent.clientId })).status).toBe(400);
    expect(await auditRows(w.t, 'user.disable')).toEqual([{ actor: 'alice', target: 'user:bob', details_json: JSON.stringify({ sessions_ended: 1, tokens_revoked: 1, oauth_grants_revoked: 1 }) }]);
    expect(await w.t.sqlOne('SELECT count(*) AS n FROM oauth_grants WHERE revoked_at IS NULL')).toEqual({ n: 0 });
    expect((await w.t.api('GET', '/users/bob/dependencies', w.u.alice.token)).json.active).toBe(false);

    // bob's private credential is still his (the row is there), and nobody else runs with it.
    expect(await w.t.sqlOne("SELECT count(*) AS n FROM credentials WHERE credential_id = 'github_token'")).toEqual({ n: 3 });
    w.svc.requests.length = 0;
    for (const who of ['alice', 'carol'] as const) {
      const run = await w.t.api('POST', `/workspaces/platform/toolkits/${w.tk.github}/execute`, w.u[who].token, { tool: 'get_authenticated_user', input: {} });
      w.seen.push(run.text);
      expect(run.status).toBe(422);
      expect(run.json.error).toBe(who === 'alice' ? 'credential_setup_required' : 'credential_type_mismatch');
    }
    expect(w.svc.requests).toEqual([]);
    // The project credential he created keeps serving the team (it is the project's).
    const team = await w.t.api('POST', `/workspaces/platform/toolkits/${w.tk.team}/execute`, w.u.carol.token, { tool: 'get_authenticated_user', input: {} });
    expect(team.status).toBe(200);
    expect(JSON.stringify(w.svc.requests)).not.toContain(CANARY.bob);
    await expectNoCanary(w);
  });

  it('deactivation by the Users page uses the same service (sessions and tokens end)', async () => {
    const w = await world();
    const r = await read(w, w.t.browser('POST', '/admin/users/carol/disable', { cookie: w.u.alice.cookie, form: {} }));
    expect(r.status).toBe(303);
    expect((await w.t.api('GET', '/me', w.u.carol.token)).status).toBe(401);
    expect((await auditRows(w.t, 'user.disable')).map((e) => [e.actor, e.target])).toEqual([['alice', 'user:carol']]);
  });

  it('deactivation by the CLI (another process on the same database) ends sessions, tokens and OAuth grants at the next request', async () => {
    const key = generateKey();
    const w = await world({ ring: parseKeyRing(key) });
    const agent = await connectAgent(w.t, w.u.bob.cookie);
    expect(await mcpStatus(w.t, agent.access)).toBe(200);
    // On PostgreSQL the other process reaches the same database by its URL.
    const run = await cli(w.t.dir, ['user', 'deactivate', 'bob'], { env: { SECRET_KEY: key, ...(w.t.databaseUrl ? { DATABASE_URL: w.t.databaseUrl } : {}) } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('deactivated bob');
    expect((await w.t.api('GET', '/me', w.u.bob.token)).status).toBe(401);
    expect((await w.t.browser('GET', '/w/private/toolkits', { cookie: w.u.bob.cookie })).status).toBe(303);
    expect(await mcpStatus(w.t, agent.access)).toBe(401);
    expect(await auditRows(w.t, 'user.disable')).toEqual([expect.objectContaining({ actor: null, target: 'user:bob' })]);
    expect((await w.t.api('GET', '/me', w.u.alice.token)).status).toBe(200);
  }, 60_000);
});
