// Toolkit execution through the JSON API, as a table of scenarios. Each scenario gets a fresh
// world (its own database and its own fake services), so no scenario depends on another or on
// the order they run in. Every scenario says what the caller gets, what reached the service, and
// the toolkit.execute audit event it leaves (or that it leaves none) — never with a secret in it.
//
// The world (project "platform", admin alice):
//
// | user  | in platform | private github_token          | notes                               |
// |-------|-------------|-------------------------------|-------------------------------------|
// | alice | admin       | github, token CANARY_ALICE    | also a private http_bearer "echo"   |
// | bob   | viewer      | github, token CANARY_BOB      |                                     |
// | carol | viewer      | none                          |                                     |
// | erin  | viewer      | gitlab (wrong type)           |                                     |
// | dave  | not member  | none                          |                                     |
//
// Toolkits: platform/github (private github_token), platform/team (project credential
// team_github, token CANARY_TEAM), private/echo (alice's http toolkit on her "echo" credential).
import { describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app';
import { closedPortUrl, type FakeService } from '../helpers/fake-services';
import { project, useScenario, type User } from '../helpers/scenario';

const CANARY = { alice: 'ghp_CANARY_ALICE_7f3a', bob: 'ghp_CANARY_BOB_91c2', team: 'ghp_CANARY_TEAM_55d0', erin: 'glpat_CANARY_ERIN_0b1e', echo: 'CANARY_ECHO_c4e8' };

const s = useScenario();

type World = {
  t: TestApp;
  svc: FakeService;
  users: Record<'alice' | 'bob' | 'carol' | 'dave' | 'erin', User>;
  toolkits: { github: number; team: number; echo: number };
};

async function world(opts: { allowLoopback?: boolean; echoBaseUrl?: string } = {}): Promise<World> {
  const t = await s.fresh(opts.allowLoopback === false ? {} : { env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
  const svc = await s.fake({ [CANARY.alice]: 'alice-gh', [CANARY.bob]: 'bob-gh', [CANARY.team]: 'team-bot' });
  const users = { alice: await t.user('alice'), bob: await t.user('bob'), carol: await t.user('carol'), dave: await t.user('dave'), erin: await t.user('erin') };
  const slug = await project(t, users.alice, 'Platform', [
    [users.bob, 'viewer'],
    [users.carol, 'viewer'],
    [users.erin, 'viewer'],
  ]);
  expect(slug).toBe('platform');
  const created = async (res: Promise<{ status: number; json: any }>) => {
    const r = await res;
    expect(r.status).toBe(201);
    return r.json;
  };
  for (const u of ['alice', 'bob'] as const) {
    await created(t.api('POST', '/workspaces/private/credentials', users[u].token, { name: 'GitHub Token', type: 'github', fields: { base_url: svc.url }, secrets: { token: CANARY[u] } }));
  }
  await created(t.api('POST', '/workspaces/private/credentials', users.erin.token, { name: 'GitHub Token', credential_id: 'github_token', type: 'gitlab', fields: { base_url: svc.url }, secrets: { token: CANARY.erin } }));
  await created(t.api('POST', '/workspaces/platform/credentials', users.alice.token, { name: 'Team GitHub', type: 'github', fields: { base_url: svc.url }, secrets: { token: CANARY.team } }));
  await created(t.api('POST', '/workspaces/private/credentials', users.alice.token, { name: 'Echo', type: 'http_bearer', fields: { base_url: opts.echoBaseUrl ?? svc.url }, secrets: { token: CANARY.echo } }));
  const github = await created(t.api('POST', '/workspaces/platform/toolkits', users.alice.token, { name: 'GitHub', type: 'github', settings: {}, credential: { scope: 'private', credential_id: 'github_token' } }));
  const team = await created(t.api('POST', '/workspaces/platform/toolkits', users.alice.token, { name: 'Team', type: 'github', settings: {}, credential: { scope: 'project', credential_id: 'team_github' } }));
  const echo = await created(t.api('POST', '/workspaces/private/toolkits', users.alice.token, { name: 'Echo', type: 'http', settings: {}, credential: { scope: 'private', credential_id: 'echo' } }));
  svc.requests.length = 0;
  return { t, svc, users, toolkits: { github: github.id, team: team.id, echo: echo.id } };
}

/** The toolkit.execute events, oldest first, with their details parsed. */
async function executions(t: TestApp) {
  return (
    await t.sql<{
      actor: string;
      workspace: string;
      target: string;
      outcome: string;
      details_json: string;
    }>("SELECT actor, workspace, target, outcome, details_json FROM audit_events WHERE action = 'toolkit.execute' ORDER BY id")
  ).map((e) => ({ ...e, details: JSON.parse(e.details_json) as Record<string, any> }));
}

type Scenario = {
  name: string;
  world?: Parameters<typeof world>[0];
  as: keyof World['users'];
  ws: 'platform' | 'private';
  toolkit: keyof World['toolkits'];
  body: Record<string, unknown>;
  /** Done before the run (through the API, as a person would). */
  before?: (w: World) => Promise<void>;
  status: number;
  json: Record<string, unknown>;
  /** The path the service was called on, with the Authorization it got; or null when nothing was sent. */
  upstream: { path: string; auth: string } | null;
  /** The audit event the run leaves; null when the request never became a run. */
  audit: { outcome: 'success' | 'failure'; error?: string; credential: { scope: string; credential_id: string; owner?: string } } | null;
};

const run = (toolkit: string) => ({ tool: toolkit === 'echo' ? 'request' : 'get_authenticated_user', input: {} });

const SCENARIOS: Scenario[] = [
  {
    name: 'alice runs with her own private credential',
    as: 'alice',
    ws: 'platform',
    toolkit: 'github',
    body: run('github'),
    status: 200,
    json: { ok: true, tool: 'get_authenticated_user', result: { status: 200, body: { login: 'alice-gh', id: expect.any(Number) } }, credential: { scope: 'private', credential_id: 'github_token', owner: 'alice' } },
    upstream: { path: '/user', auth: `Bearer ${CANARY.alice}` },
    audit: { outcome: 'success', credential: { scope: 'private', credential_id: 'github_token', owner: 'alice' } },
  },
  {
    name: 'bob runs the same toolkit with his own credential',
    as: 'bob',
    ws: 'platform',
    toolkit: 'github',
    body: run('github'),
    status: 200,
    json: { ok: true, result: { status: 200, body: { login: 'bob-gh' } }, credential: { scope: 'private', credential_id: 'github_token', owner: 'bob' } },
    upstream: { path: '/user', auth: `Bearer ${CANARY.bob}` },
    audit: { outcome: 'success', credential: { scope: 'private', credential_id: 'github_token', owner: 'bob' } },
  },
  {
    name: 'carol has no credential: setup required, nothing sent',
    as: 'carol',
    ws: 'platform',
    toolkit: 'github',
    body: run('github'),
    status: 422,
    json: { error: 'credential_setup_required', credential_id: 'github_token', credential_type: 'github', accepted_types: ['github'], message: expect.stringContaining('github_token') },
    upstream: null,
    audit: { outcome: 'failure', error: 'setup_required', credential: { scope: 'private', credential_id: 'github_token' } },
  },
  {
    name: 'erin’s credential is of the wrong type',
    as: 'erin',
    ws: 'platform',
    toolkit: 'github',
    body: run('github'),
    status: 422,
    json: { error: 'credential_type_mismatch', credential_id: 'github_token', expected_type: 'github', actual_type: 'gitlab', accepted_types: ['github'] },
    upstream: null,
    audit: { outcome: 'failure', error: 'type_mismatch', credential: { scope: 'private', credential_id: 'github_token' } },
  },
  {
    name: 'dave is not a member: 404, nothing sent, nothing recorded',
    as: 'dave',
    ws: 'platform',
    toolkit: 'github',
    body: run('github'),
    status: 404,
    json: {},
    upstream: null,
    audit: null,
  },
  {
    name: 'dave cannot reach it through his own Private workspace either',
    as: 'dave',
    ws: 'private',
    toolkit: 'github',
    body: run('github'),
    status: 404,
    json: {},
    upstream: null,
    audit: null,
  },
  {
    name: 'a viewer runs the project credential, owned by the project',
    as: 'bob',
    ws: 'platform',
    toolkit: 'team',
    body: run('team'),
    status: 200,
    json: { ok: true, result: { status: 200, body: { login: 'team-bot' } }, credential: { scope: 'project', credential_id: 'team_github', owner: 'platform' } },
    upstream: { path: '/user', auth: `Bearer ${CANARY.team}` },
    audit: { outcome: 'success', credential: { scope: 'project', credential_id: 'team_github', owner: 'platform' } },
  },
  {
    name: 'the project credential was deleted',
    as: 'bob',
    ws: 'platform',
    toolkit: 'team',
    body: run('team'),
    before: async (w) => expect((await w.t.api('DELETE', '/workspaces/platform/credentials/team_github', w.users.alice.token)).status).toBe(204),
    status: 422,
    json: { error: 'credential_missing', credential_id: 'team_github' },
    upstream: null,
    audit: { outcome: 'failure', error: 'credential_missing', credential: { scope: 'project', credential_id: 'team_github' } },
  },
  {
    name: 'an unknown tool is bad input and no run',
    as: 'alice',
    ws: 'platform',
    toolkit: 'github',
    body: { tool: 'delete_everything', input: {} },
    status: 400,
    json: { error: 'invalid_input', fields: { tool: expect.any(String) } },
    upstream: null,
    audit: null,
  },
  {
    name: 'a missing required input names the field',
    as: 'alice',
    ws: 'platform',
    toolkit: 'github',
    body: { tool: 'create_issue', input: { repository: 'acme/web' } },
    status: 400,
    json: { error: 'invalid_input', fields: { title: expect.any(String) } },
    upstream: null,
    audit: null,
  },
  {
    name: 'a secret the service echoes back is redacted',
    as: 'alice',
    ws: 'private',
    toolkit: 'echo',
    body: { tool: 'request', input: { method: 'GET', path: '/echo' } },
    status: 200,
    json: { ok: true, result: { status: 200, body: expect.objectContaining({ authorization: '[REDACTED]' }) }, credential: { scope: 'private', credential_id: 'echo', owner: 'alice' } },
    upstream: { path: '/echo', auth: `Bearer ${CANARY.echo}` },
    audit: { outcome: 'success', credential: { scope: 'private', credential_id: 'echo', owner: 'alice' } },
  },
  {
    name: 'a 5xx of the service is a 502 upstream_error',
    as: 'alice',
    ws: 'private',
    toolkit: 'echo',
    body: { tool: 'request', input: { method: 'GET', path: '/boom' } },
    status: 502,
    json: { error: 'upstream_error', status: 500 },
    upstream: { path: '/boom', auth: `Bearer ${CANARY.echo}` },
    audit: { outcome: 'failure', error: 'upstream_error', credential: { scope: 'private', credential_id: 'echo', owner: 'alice' } },
  },
  {
    name: 'a loopback service is refused unless allowed, and nothing is sent',
    world: { allowLoopback: false },
    as: 'alice',
    ws: 'private',
    toolkit: 'echo',
    body: { tool: 'request', input: { method: 'GET', path: '/echo' } },
    status: 403,
    json: { error: 'destination_not_allowed', host: expect.stringMatching(/^127\.0\.0\.1:\d+$/) },
    upstream: null,
    audit: { outcome: 'failure', error: 'destination_not_allowed', credential: { scope: 'private', credential_id: 'echo', owner: 'alice' } },
  },
  {
    name: 'an unreachable service is a 502 upstream_unreachable',
    world: { echoBaseUrl: 'closed' },
    as: 'alice',
    ws: 'private',
    toolkit: 'echo',
    body: { tool: 'request', input: { method: 'GET', path: '/x' } },
    status: 502,
    json: { error: 'upstream_unreachable', message: expect.stringContaining('Could not reach the service') },
    upstream: null,
    audit: { outcome: 'failure', error: 'upstream_unreachable', credential: { scope: 'private', credential_id: 'echo', owner: 'alice' } },
  },
];

describe('POST /workspaces/:ws/toolkits/:id/execute', () => {
  it.each(SCENARIOS)('$name', async (sc) => {
    const opts = sc.world?.echoBaseUrl === 'closed' ? { echoBaseUrl: await closedPortUrl() } : sc.world;
    const w = await world(opts);
    await sc.before?.(w);
    const before = (await executions(w.t)).length;
    const user = w.users[sc.as];
    const res = await w.t.api('POST', `/workspaces/${sc.ws}/toolkits/${w.toolkits[sc.toolkit]}/execute`, user.token, sc.body);

    expect(res.status).toBe(sc.status);
    expect(res.json).toMatchObject(sc.json);
    if (sc.status >= 400) expect(typeof res.json.message).toBe('string');

    if (sc.upstream) {
      expect(w.svc.requests.map((r) => r.path)).toEqual([sc.upstream.path]);
      expect(w.svc.requests[0].headers.authorization).toBe(sc.upstream.auth);
    } else {
      expect(w.svc.requests).toHaveLength(0);
    }

    const events = (await executions(w.t)).slice(before);
    if (!sc.audit) {
      expect(events).toEqual([]);
    } else {
      expect(events).toHaveLength(1);
      const [e] = events;
      expect(e).toMatchObject({ actor: sc.as, workspace: sc.ws, target: `toolkit:${w.toolkits[sc.toolkit]}`, outcome: sc.audit.outcome });
      expect(e.details).toMatchObject({ tool: sc.body.tool, credential: sc.audit.credential });
      if (!sc.audit.credential.owner) expect(e.details.credential).not.toHaveProperty('owner');
      if (sc.audit.error) expect(e.details.error).toBe(sc.audit.error);
      else expect(e.details).not.toHaveProperty('error');
    }

    // No secret after it was saved: not in the answer, not in the audit log, not in a log line.
    const everything = [res.text, ...(await executions(w.t)).map((e) => e.details_json), ...w.t.logs].join('\n');
    for (const secret of Object.values(CANARY)) expect(everything).not.toContain(secret);
  });
});

describe('changing toolkits through the API', () => {
  it('lets a viewer execute but not create, edit or delete', async () => {
    const w = await world();
    const bob = w.users.bob.token;
    expect((await w.t.api('POST', '/workspaces/platform/toolkits', bob, { name: 'x', type: 'github', settings: {}, credential: { scope: 'private', credential_id: 'github_token' } })).status).toBe(403);
    expect((await w.t.api('PATCH', `/workspaces/platform/toolkits/${w.toolkits.github}`, bob, { name: 'renamed' })).status).toBe(403);
    expect((await w.t.api('DELETE', `/workspaces/platform/toolkits/${w.toolkits.github}`, bob)).status).toBe(403);
    expect((await w.t.api('POST', `/workspaces/platform/toolkits/${w.toolkits.github}/execute`, bob, run('github'))).status).toBe(200);
  });

  it('names every member who would not be ready when the credential changes', async () => {
    const w = await world();
    const r = await w.t.api('PATCH', `/workspaces/platform/toolkits/${w.toolkits.github}`, w.users.alice.token, { credential: { scope: 'private', credential_id: 'gh_personal' } });
    expect(r.status).toBe(200);
    expect(r.json.members_without_credential).toEqual(['alice', 'bob', 'carol', 'erin']);
    const back = await w.t.api('PATCH', `/workspaces/platform/toolkits/${w.toolkits.github}`, w.users.alice.token, { credential: { scope: 'private', credential_id: 'github_token' } });
    // carol has none, erin's is a GitLab credential.
    expect(back.json.members_without_credential).toEqual(['carol', 'erin']);
    const rename = await w.t.api('PATCH', `/workspaces/platform/toolkits/${w.toolkits.github}`, w.users.alice.token, { name: 'GitHub (mine)' });
    expect(rename.json).not.toHaveProperty('members_without_credential');
  });

  it('lists each toolkit with the caller’s own status', async () => {
    const w = await world();
    const status = async (u: keyof World['users']) => Object.fromEntries((await w.t.api('GET', '/workspaces/platform/toolkits', w.users[u].token)).json.map((t: any) => [t.name, t.status]));
    expect(await status('alice')).toEqual({ GitHub: 'ready', Team: 'ready' });
    expect(await status('carol')).toEqual({ GitHub: 'setup_required', Team: 'ready' });
    expect(await status('erin')).toEqual({ GitHub: 'type_mismatch', Team: 'ready' });
    expect((await w.t.api('DELETE', '/workspaces/platform/credentials/team_github', w.users.alice.token)).status).toBe(204);
    expect(await status('bob')).toEqual({ GitHub: 'ready', Team: 'credential_missing' });
  });
});
