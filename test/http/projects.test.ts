// Projects and members over HTTP (pages and /api/v1), and CSRF refusals on cookie-authenticated
// posts. CONTRACT.md §4 (roles, slugs, error shapes, 404-not-403) and SECURITY.md (Access, CSRF).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, ORIGIN, type TestApp } from '../helpers/app';

type U = Awaited<ReturnType<TestApp['user']>>;

let t: TestApp;
let alice: U; // admin of "Team" (slug team)
let bob: U; // viewer of team
let erin: U; // editor of team
let carol: U; // not a member of team

beforeEach(async () => {
  t = await createTestApp();
  alice = await t.user('alice');
  bob = await t.user('bob');
  erin = await t.user('erin');
  carol = await t.user('carol');
  const made = await t.api('POST', '/projects', alice.token, { name: 'Team' });
  expect(made.status).toBe(201);
  expect(made.json).toEqual({ slug: 'team', name: 'Team', role: 'admin' });
  expect((await t.api('POST', '/projects/team/members', alice.token, { username: 'bob', role: 'viewer' })).status).toBe(201);
  expect((await t.api('POST', '/projects/team/members', alice.token, { username: 'erin', role: 'editor' })).status).toBe(201);
});
afterEach(() => t.close());

/** The members of a project, as [username, role] sorted by username. */
async function members(slug: string): Promise<[string, string][]> {
  return (
    await t.sql<{ username: string; role: string }>(
      `SELECT u.username, m.role FROM memberships m JOIN users u ON u.id = m.user_id JOIN workspaces w ON w.id = m.workspace_id WHERE w.slug = ? ORDER BY u.username`,
      [slug],
    )
  ).map((r) => [r.username, r.role]);
}

const TEAM_BEFORE: [string, string][] = [
  ['alice', 'admin'],
  ['bob', 'viewer'],
  ['erin', 'editor'],
];

async function audit(action?: string) {
  const sql = `SELECT actor, workspace, action, target, outcome, details_json AS details FROM audit_events ${action ? 'WHERE action = ?' : ''} ORDER BY id`;
  type Row = { actor: string | null; workspace: string | null; action: string; target: string | null; outcome: string; details: string };
  return (await t.sql<Row>(sql, action ? [action] : [])).map((e) => ({ ...e, details: JSON.parse(e.details) as Record<string, unknown> }));
}

async function projectCount(): Promise<number> {
  return (await t.sqlOne<{ n: number }>(`SELECT count(*) AS n FROM workspaces WHERE kind = 'project'`))!.n;
}

/** A request either as a browser page (cookie, same-origin form post) or through the API (token). */
type Scenario = {
  name: string;
  kind: 'page' | 'api';
  method: string;
  url: string;
  /** Form fields (pages) or JSON body (API). */
  body?: Record<string, string>;
  as: () => U;
  status: number;
  contains?: string[];
  notContains?: string[];
  /** For the API: the expected `error` code. */
  error?: string;
};

async function run(s: Scenario) {
  let status: number;
  let text: string;
  let json: any = null;
  if (s.kind === 'page') {
    const res = await t.browser(s.method, s.url, { cookie: s.as().cookie, form: s.body });
    status = res.status;
    text = await res.text();
  } else {
    const res = await t.api(s.method, s.url, s.as().token, s.body);
    ({ status, text, json } = res);
  }
  expect(status, `${s.name}: status (body: ${text.slice(0, 300)})`).toBe(s.status);
  for (const c of s.contains ?? []) expect(text, `${s.name}: contains ${c}`).toContain(c);
  for (const c of s.notContains ?? []) expect(text, `${s.name}: does not contain ${c}`).not.toContain(c);
  if (s.kind === 'api' && s.status >= 400) {
    expect(json, `${s.name}: JSON error body`).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    if (s.error) expect(json.error, `${s.name}: error code`).toBe(s.error);
  }
  return { status, text, json };
}

describe('access to a project', () => {
  it('answers 404 (never 403) to a non-member on every project page and member API, the same as for a project that does not exist', async () => {
    const scenarios = (slug: string): Scenario[] => [
      { name: `GET /w/${slug}`, kind: 'page', method: 'GET', url: `/w/${slug}`, as: () => carol, status: 404 },
      { name: `GET /w/${slug}/members`, kind: 'page', method: 'GET', url: `/w/${slug}/members`, as: () => carol, status: 404, notContains: ['Team', 'alice'] },
      { name: `GET /w/${slug}/toolkits`, kind: 'page', method: 'GET', url: `/w/${slug}/toolkits`, as: () => carol, status: 404, notContains: ['Team'] },
      { name: `GET /w/${slug}/credentials`, kind: 'page', method: 'GET', url: `/w/${slug}/credentials`, as: () => carol, status: 404, notContains: ['Team'] },
      { name: `POST /w/${slug}/members`, kind: 'page', method: 'POST', url: `/w/${slug}/members`, body: { username: 'carol', role: 'admin' }, as: () => carol, status: 404 },
      { name: `POST /w/${slug}/members/alice/role`, kind: 'page', method: 'POST', url: `/w/${slug}/members/alice/role`, body: { role: 'viewer' }, as: () => carol, status: 404 },
      { name: `POST /w/${slug}/members/alice/remove`, kind: 'page', method: 'POST', url: `/w/${slug}/members/alice/remove`, as: () => carol, status: 404 },
      { name: `API GET members of ${slug}`, kind: 'api', method: 'GET', url: `/projects/${slug}/members`, as: () => carol, status: 404, error: 'not_found', notContains: ['alice'] },
      { name: `API POST member to ${slug}`, kind: 'api', method: 'POST', url: `/projects/${slug}/members`, body: { username: 'carol', role: 'admin' }, as: () => carol, status: 404, error: 'not_found' },
      { name: `API PATCH member of ${slug}`, kind: 'api', method: 'PATCH', url: `/projects/${slug}/members/alice`, body: { role: 'viewer' }, as: () => carol, status: 404, error: 'not_found' },
      { name: `API DELETE member of ${slug}`, kind: 'api', method: 'DELETE', url: `/projects/${slug}/members/alice`, as: () => carol, status: 404, error: 'not_found' },
      // Bad input from a non-member is still 404: existence is checked before anything else.
      { name: `API POST bad member body to ${slug}`, kind: 'api', method: 'POST', url: `/projects/${slug}/members`, body: { role: 'owner' }, as: () => carol, status: 404, error: 'not_found' },
    ];
    const answers: Record<string, string[]> = {};
    for (const slug of ['team', 'no-such-project']) {
      answers[slug] = [];
      for (const s of scenarios(slug)) {
        const { text } = await run(s);
        answers[slug].push(text.replaceAll(slug, 'SLUG'));
      }
    }
    // Page and API answers do not tell "exists but not yours" from "does not exist".
    expect(answers.team).toEqual(answers['no-such-project']);
    expect(await members('team')).toEqual(TEAM_BEFORE);
    expect(await audit('member.add')).toHaveLength(2);
    // The project does not show up for carol anywhere.
    expect((await t.api('GET', '/projects', carol.token)).json).toEqual([]);
    expect(await (await t.browser('GET', '/w/private/toolkits', { cookie: carol.cookie })).text()).not.toContain('Team');
  });

  it('answers 404 for the member pages and API of a Private workspace', async () => {
    for (const s of [
      { name: 'members page of Private', kind: 'page', method: 'GET', url: '/w/private/members', as: () => alice, status: 404 },
      { name: 'API members of private', kind: 'api', method: 'GET', url: '/projects/private/members', as: () => alice, status: 404, error: 'not_found' },
      { name: 'API add member to private', kind: 'api', method: 'POST', url: '/projects/private/members', body: { username: 'bob', role: 'viewer' }, as: () => alice, status: 404, error: 'not_found' },
    ] satisfies Scenario[])
      await run(s);
  });

  it('lets every member see the project, but refuses member management to viewers and editors with 403 (page and API)', async () => {
    const scenarios: Scenario[] = [];
    for (const [who, get] of [
      ['viewer', () => bob],
      ['editor', () => erin],
    ] as const) {
      scenarios.push(
        { name: `${who} sees members page without controls`, kind: 'page', method: 'GET', url: '/w/team/members', as: get, status: 200, contains: ['alice', 'bob', 'erin'], notContains: ['action="/w/team/members"', '/remove"', '/role"'] },
        { name: `${who} sees toolkits page`, kind: 'page', method: 'GET', url: '/w/team/toolkits', as: get, status: 200, contains: ['Team'] },
        { name: `${who} sees credentials page`, kind: 'page', method: 'GET', url: '/w/team/credentials', as: get, status: 200, contains: ['Team'] },
        { name: `${who} adds a member (page)`, kind: 'page', method: 'POST', url: '/w/team/members', body: { username: 'carol', role: 'viewer' }, as: get, status: 403, contains: ['Only project admins can manage members.'] },
        { name: `${who} changes a role (page)`, kind: 'page', method: 'POST', url: '/w/team/members/alice/role', body: { role: 'viewer' }, as: get, status: 403 },
        { name: `${who} removes a member (page)`, kind: 'page', method: 'POST', url: '/w/team/members/alice/remove', as: get, status: 403 },
        { name: `${who} lists members (API)`, kind: 'api', method: 'GET', url: '/projects/team/members', as: get, status: 200 },
        { name: `${who} adds a member (API)`, kind: 'api', method: 'POST', url: '/projects/team/members', body: { username: 'carol', role: 'viewer' }, as: get, status: 403, error: 'forbidden' },
        { name: `${who} promotes self (API)`, kind: 'api', method: 'PATCH', url: `/projects/team/members/${get().username}`, body: { role: 'admin' }, as: get, status: 403, error: 'forbidden' },
        { name: `${who} removes the admin (API)`, kind: 'api', method: 'DELETE', url: '/projects/team/members/alice', as: get, status: 403, error: 'forbidden' },
      );
    }
    for (const s of scenarios) await run(s);
    expect(await members('team')).toEqual(TEAM_BEFORE);
    expect((await t.api('GET', '/projects', bob.token)).json).toEqual([{ slug: 'team', name: 'Team', role: 'viewer' }]);
    expect((await t.api('GET', '/projects/team/members', bob.token)).json).toEqual([
      { username: 'alice', role: 'admin' },
      { username: 'bob', role: 'viewer' },
      { username: 'erin', role: 'editor' },
    ]);
  });

  it('protects the last admin: demoting or removing them is refused (409 on the API), until there is another admin', async () => {
    const scenarios: Scenario[] = [
      { name: 'API demote last admin', kind: 'api', method: 'PATCH', url: '/projects/team/members/alice', body: { role: 'editor' }, as: () => alice, status: 409, error: 'last_admin' },
      { name: 'API remove last admin', kind: 'api', method: 'DELETE', url: '/projects/team/members/alice', as: () => alice, status: 409, error: 'last_admin' },
      { name: 'page demote last admin', kind: 'page', method: 'POST', url: '/w/team/members/alice/role', body: { role: 'viewer' }, as: () => alice, status: 409, contains: ['A project needs at least one admin.'] },
      { name: 'page remove last admin', kind: 'page', method: 'POST', url: '/w/team/members/alice/remove', as: () => alice, status: 409, contains: ['A project needs at least one admin.'] },
      // Re-stating the same role is not a demotion.
      { name: 'API admin stays admin', kind: 'api', method: 'PATCH', url: '/projects/team/members/alice', body: { role: 'admin' }, as: () => alice, status: 200 },
    ];
    for (const s of scenarios) await run(s);
    expect(await members('team')).toEqual(TEAM_BEFORE);
    expect(await audit('member.role_change')).toHaveLength(0);
    expect(await audit('member.remove')).toHaveLength(0);

    // With a second admin, the first may step down and then leave.
    expect((await t.api('PATCH', '/projects/team/members/erin', alice.token, { role: 'admin' })).status).toBe(200);
    expect((await t.api('PATCH', '/projects/team/members/alice', alice.token, { role: 'viewer' })).status).toBe(200);
    // erin is now the only admin and cannot leave either.
    expect((await t.api('DELETE', '/projects/team/members/erin', erin.token)).status).toBe(409);
    const leave = await t.browser('POST', '/w/team/members/alice/remove', { cookie: erin.cookie });
    expect(leave.status).toBe(303);
    expect(await members('team')).toEqual([
      ['bob', 'viewer'],
      ['erin', 'admin'],
    ]);
    // alice no longer sees the project at all.
    // Removed by another admin: her sessions ended; signed in again, the project is gone for her.
    expect((await t.browser('GET', '/w/team/members', { cookie: alice.cookie })).status).toBe(303);
    expect((await t.browser('GET', '/w/team/members', { cookie: await t.session('alice') })).status).toBe(404);
  });
});

describe('project slugs', () => {
  it('makes slugs from names, never reuses one, and never gives out "private"', async () => {
    const table: { name: string; slug: string | RegExp }[] = [
      { name: 'My Team Project', slug: 'my-team-project' },
      { name: 'My Team Project', slug: /^my-team-project-.+/ },
      { name: 'my team project!', slug: /^my-team-project-.+/ },
      { name: 'Private', slug: /^(?!private$)[a-z0-9-]+$/ },
      { name: 'PRIVATE', slug: /^(?!private$)[a-z0-9-]+$/ },
      { name: '  Café — Ünïcode  ', slug: 'cafe-unicode' },
      { name: 'New', slug: /^(?!new$)[a-z0-9-]+$/ }, // /projects/new is a page
    ];
    const seen = new Set<string>(['team']);
    for (const row of table) {
      const res = await t.api('POST', '/projects', alice.token, { name: row.name });
      expect(res.status, row.name).toBe(201);
      expect(res.json).toMatchObject({ name: row.name.trim(), role: 'admin' });
      const slug: string = res.json.slug;
      if (typeof row.slug === 'string') expect(slug, row.name).toBe(row.slug);
      else expect(slug, row.name).toMatch(row.slug);
      expect(slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(seen.has(slug), `${row.name} → ${slug} is new`).toBe(false);
      seen.add(slug);
    }
    // The page form follows the same rules.
    const res = await t.browser('POST', '/projects', { cookie: alice.cookie, form: { name: 'Private' } });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/w\/[a-z0-9-]+\/members$/);
    expect(location).not.toBe('/w/private/members');
    expect(seen.has(location.split('/')[2])).toBe(false);
    // "private" in a path is still the caller's own Private workspace.
    const priv = await t.browser('GET', '/w/private/members', { cookie: alice.cookie });
    expect(priv.status).toBe(404);
    const listed = (await t.api('GET', '/projects', alice.token)).json as { slug: string }[];
    expect(listed.map((p) => p.slug)).not.toContain('private');
    expect(listed).toHaveLength(table.length + 2);
    expect((await audit('project.create')).map((e) => e.target)).toEqual(['project:team', ...[...seen].slice(1).map((s) => `project:${s}`), `project:${location.split('/')[2]}`]);
  });

  it('refuses names that make no slug with 400 and fields', async () => {
    for (const body of [{ name: '' }, { name: '   ' }, { name: '!!! ???' }, { name: 'x'.repeat(81) }, {}, { name: 42 }] as Record<string, unknown>[]) {
      const res = await t.api('POST', '/projects', alice.token, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json).toEqual({ error: 'invalid_input', message: expect.any(String), fields: { name: expect.any(String) } });
    }
    const page = await t.browser('POST', '/projects', { cookie: alice.cookie, form: { name: '!!!' } });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('Use at least one letter or digit.');
    expect(await projectCount()).toBe(1);
  });
});

describe('members: happy paths', () => {
  it('adds, re-roles and removes a member through the API, with audit events', async () => {
    const add = await t.api('POST', '/projects/team/members', alice.token, { username: 'Carol', role: 'viewer' });
    expect(add.status).toBe(201);
    expect(add.json).toEqual({ username: 'carol', role: 'viewer' });
    expect((await t.api('GET', '/projects', carol.token)).json).toEqual([{ slug: 'team', name: 'Team', role: 'viewer' }]);
    expect((await t.browser('GET', '/w/team/toolkits', { cookie: carol.cookie })).status).toBe(200);

    const patch = await t.api('PATCH', '/projects/team/members/carol', alice.token, { role: 'editor' });
    expect(patch.status).toBe(200);
    expect(patch.json).toEqual({ username: 'carol', role: 'editor' });
    expect((await t.api('GET', '/projects', carol.token)).json).toEqual([{ slug: 'team', name: 'Team', role: 'editor' }]);

    const del = await t.api('DELETE', '/projects/team/members/carol', alice.token);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await t.api('GET', '/projects', carol.token)).json).toEqual([]);
    // Removing a role ends the person's browser sessions (SECURITY.md); signed in again, the
    // project is a 404 for them.
    const ended = await t.browser('GET', '/w/team/toolkits', { cookie: carol.cookie });
    expect(ended.status).toBe(303);
    expect(ended.headers.get('location')).toMatch(/^\/login/);
    const again = await t.session('carol');
    expect((await t.browser('GET', '/w/team/toolkits', { cookie: again })).status).toBe(404);

    const events = (await audit()).filter((e) => e.action === 'project.create' || e.action.startsWith('member.'));
    expect(events).toEqual([
      { actor: 'alice', workspace: 'team', action: 'project.create', target: 'project:team', outcome: 'success', details: { name: 'Team' } },
      { actor: 'alice', workspace: 'team', action: 'member.add', target: 'user:bob', outcome: 'success', details: { role: 'viewer' } },
      { actor: 'alice', workspace: 'team', action: 'member.add', target: 'user:erin', outcome: 'success', details: { role: 'editor' } },
      { actor: 'alice', workspace: 'team', action: 'member.add', target: 'user:carol', outcome: 'success', details: { role: 'viewer' } },
      { actor: 'alice', workspace: 'team', action: 'member.role_change', target: 'user:carol', outcome: 'success', details: { from: 'viewer', to: 'editor' } },
      { actor: 'alice', workspace: 'team', action: 'member.remove', target: 'user:carol', outcome: 'success', details: { role: 'editor', sessions_ended: true } },
    ]);
  });

  it('adds, re-roles and removes a member through the pages (plain form posts and htmx)', async () => {
    const add = await t.browser('POST', '/w/team/members', { cookie: alice.cookie, form: { username: 'carol', role: 'editor' } });
    expect(add.status).toBe(303);
    expect(add.headers.get('location')).toBe('/w/team/members');
    const page = await (await t.browser('GET', '/w/team/members', { cookie: alice.cookie })).text();
    expect(page).toContain('id="member-carol"');

    const role = await t.browser('POST', '/w/team/members/carol/role', { cookie: alice.cookie, form: { role: 'admin' }, headers: { 'HX-Request': 'true' } });
    expect(role.status).toBe(200);
    const fragment = await role.text();
    expect(fragment).toContain('carol is now admin.');
    expect(fragment).toContain('id="members-section"');
    expect(fragment).not.toContain('<html');

    const remove = await t.browser('POST', '/w/team/members/carol/remove', { cookie: alice.cookie });
    expect(remove.status).toBe(303);
    expect(await members('team')).toEqual(TEAM_BEFORE);
    expect((await audit('member.add')).at(-1)).toMatchObject({ actor: 'alice', workspace: 'team', target: 'user:carol', details: { role: 'editor' } });
    expect(await audit('member.role_change')).toMatchObject([{ actor: 'alice', workspace: 'team', target: 'user:carol', details: { from: 'editor', to: 'admin' } }]);
    expect(await audit('member.remove')).toMatchObject([{ actor: 'alice', workspace: 'team', target: 'user:carol', details: { role: 'admin' } }]);

    // A project made on the page records project.create and makes its creator admin.
    const made = await t.browser('POST', '/projects', { cookie: bob.cookie, form: { name: 'Bob Stuff' } });
    expect(made.status).toBe(303);
    expect(made.headers.get('location')).toBe('/w/bob-stuff/members');
    expect(await members('bob-stuff')).toEqual([['bob', 'admin']]);
    expect((await audit('project.create')).at(-1)).toMatchObject({ actor: 'bob', workspace: 'bob-stuff', target: 'project:bob-stuff', details: { name: 'Bob Stuff' } });
  });

  it('answers member mistakes with the right status and shape', async () => {
    const scenarios: Scenario[] = [
      { name: 'unknown user', kind: 'api', method: 'POST', url: '/projects/team/members', body: { username: 'nobody', role: 'viewer' }, as: () => alice, status: 404, error: 'user_not_found' },
      { name: 'already a member', kind: 'api', method: 'POST', url: '/projects/team/members', body: { username: 'bob', role: 'editor' }, as: () => alice, status: 409, error: 'already_member' },
      { name: 'bad role', kind: 'api', method: 'POST', url: '/projects/team/members', body: { username: 'carol', role: 'owner' }, as: () => alice, status: 400, error: 'invalid_input' },
      { name: 'patch a non-member', kind: 'api', method: 'PATCH', url: '/projects/team/members/carol', body: { role: 'viewer' }, as: () => alice, status: 404 },
      { name: 'patch with bad role', kind: 'api', method: 'PATCH', url: '/projects/team/members/bob', body: { role: 'superuser' }, as: () => alice, status: 400, error: 'invalid_input' },
      { name: 'delete a non-member', kind: 'api', method: 'DELETE', url: '/projects/team/members/carol', as: () => alice, status: 404 },
      { name: 'page: unknown user', kind: 'page', method: 'POST', url: '/w/team/members', body: { username: 'nobody', role: 'viewer' }, as: () => alice, status: 400, contains: ['There is no user with that username.'] },
      { name: 'page: already a member', kind: 'page', method: 'POST', url: '/w/team/members', body: { username: 'bob', role: 'viewer' }, as: () => alice, status: 409, contains: ['already a member'] },
      { name: 'page: no role', kind: 'page', method: 'POST', url: '/w/team/members', body: { username: 'carol' }, as: () => alice, status: 400, contains: ['Choose a role.'] },
    ];
    for (const s of scenarios) await run(s);
    const bad = await t.api('POST', '/projects/team/members', alice.token, { role: 'owner' });
    expect(bad.json).toEqual({ error: 'invalid_input', message: expect.any(String), fields: { username: expect.any(String), role: expect.any(String) } });
    expect(await members('team')).toEqual(TEAM_BEFORE);
  });
});

describe('API authentication and error shape', () => {
  const routes: [string, string, unknown?][] = [
    ['GET', '/me'],
    ['GET', '/projects'],
    ['POST', '/projects', { name: 'Sneaky' }],
    ['GET', '/projects/team/members'],
    ['POST', '/projects/team/members', { username: 'carol', role: 'admin' }],
    ['PATCH', '/projects/team/members/bob', { role: 'admin' }],
    ['DELETE', '/projects/team/members/bob'],
    ['GET', '/no-such-route'],
  ];

  it('answers 401 with {"error","message"} without a token, with a bad token, and with a malformed header', async () => {
    const variants: [string, Record<string, string>][] = [
      ['no token', {}],
      ['unknown token', { Authorization: 'Bearer lk_this-is-not-a-real-token-at-all' }],
      ['token of another scheme', { Authorization: `Token ${alice.token}` }],
      ['basic auth', { Authorization: `Basic ${Buffer.from(`alice:${alice.token}`).toString('base64')}` }],
      ['session cookie instead of a token', { Cookie: alice.cookie }],
      ['empty bearer', { Authorization: 'Bearer ' }],
    ];
    for (const [variant, headers] of variants) {
      for (const [method, url, body] of routes) {
        const res = await t.app.request(`${ORIGIN}/api/v1${url}`, {
          method,
          headers: { ...headers, ...(body ? { 'Content-Type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
        const label = `${variant}: ${method} ${url}`;
        expect(res.status, label).toBe(401);
        expect(res.headers.get('content-type'), label).toMatch(/^application\/json/);
        expect(res.headers.get('www-authenticate'), label).toBe('Bearer');
        expect(await res.json(), label).toEqual({ error: 'unauthorized', message: expect.any(String) });
      }
    }
    expect(await projectCount()).toBe(1);
    expect(await members('team')).toEqual(TEAM_BEFORE);
  });

  it('answers every API error as {"error","message"} JSON', async () => {
    const cases: [string, Awaited<ReturnType<TestApp['api']>>, number][] = [
      ['unknown route', await t.api('GET', '/no-such-route', alice.token), 404],
      ['400', await t.api('POST', '/projects', alice.token, { name: '' }), 400],
      ['403', await t.api('POST', '/projects/team/members', bob.token, { username: 'carol', role: 'viewer' }), 403],
      ['404', await t.api('GET', '/projects/nope/members', alice.token), 404],
      ['409', await t.api('DELETE', '/projects/team/members/alice', alice.token), 409],
    ];
    for (const [label, res, status] of cases) {
      expect(res.status, label).toBe(status);
      expect(res.headers.get('content-type'), label).toMatch(/^application\/json/);
      expect(Object.keys(res.json).sort(), label).toEqual(status === 400 ? ['error', 'fields', 'message'] : ['error', 'message']);
      expect(typeof res.json.message, label).toBe('string');
      expect(res.json.message.length, label).toBeGreaterThan(0);
    }
    // A form body instead of JSON is refused, not misread.
    const form = await t.app.request(`${ORIGIN}/api/v1/projects`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice.token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'name=Sneaky',
    });
    expect(form.status).toBe(415);
    expect(await form.json()).toEqual({ error: 'unsupported_media_type', message: expect.any(String) });
    // Malformed JSON is bad input.
    const broken = await t.app.request(`${ORIGIN}/api/v1/projects`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice.token}`, 'Content-Type': 'application/json' },
      body: '{"name": ',
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ error: 'invalid_input', fields: { name: expect.any(String) } });
    expect(await projectCount()).toBe(1);
  });

  it('GET /me answers who the token belongs to', async () => {
    expect((await t.api('GET', '/me', alice.token)).json).toEqual({ username: 'alice', is_admin: true });
    expect((await t.api('GET', '/me', bob.token)).json).toEqual({ username: 'bob', is_admin: false });
  });
});

describe('CSRF', () => {
  const FOREIGN = 'https://evil.example';
  const FORM = 'application/x-www-form-urlencoded';
  // Each row is sent raw (not through the browser() helper) so that exactly these headers go out.
  const refusals: { name: string; headers: Record<string, string>; body?: string }[] = [
    { name: 'foreign Origin', headers: { Origin: FOREIGN, 'Content-Type': FORM } },
    { name: 'foreign Origin claiming same-origin fetch', headers: { Origin: FOREIGN, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': FORM } },
    { name: 'Sec-Fetch-Site cross-site, no Origin', headers: { 'Sec-Fetch-Site': 'cross-site', 'Content-Type': FORM } },
    { name: 'Sec-Fetch-Site cross-site with our Origin', headers: { 'Sec-Fetch-Site': 'cross-site', Origin: ORIGIN, 'Content-Type': FORM } },
    { name: 'Sec-Fetch-Site same-site (a sibling host)', headers: { 'Sec-Fetch-Site': 'same-site', Origin: 'http://other.localhost', 'Content-Type': FORM } },
    { name: 'Sec-Fetch-Site none', headers: { 'Sec-Fetch-Site': 'none', 'Content-Type': FORM } },
    { name: 'no Content-Type, foreign Origin', headers: { Origin: FOREIGN } },
    { name: 'no Content-Type, cross-site', headers: { Origin: FOREIGN, 'Sec-Fetch-Site': 'cross-site' } },
    { name: 'odd-case form type, foreign Origin', headers: { Origin: FOREIGN, 'Content-Type': 'Application/X-WWW-Form-Urlencoded' } },
    { name: 'upper-case multipart, foreign Origin', headers: { Origin: FOREIGN, 'Content-Type': 'MULTIPART/FORM-DATA; boundary=x' }, body: '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nSneaky\r\n--x--\r\n' },
    { name: 'text/plain, foreign Origin', headers: { Origin: FOREIGN, 'Content-Type': 'text/plain' } },
    { name: 'JSON, foreign Origin', headers: { Origin: FOREIGN, 'Content-Type': 'application/json' }, body: '{"name":"Sneaky"}' },
    { name: 'no Origin and no Sec-Fetch-Site', headers: { 'Content-Type': FORM } },
    { name: 'Origin null (sandboxed frame)', headers: { Origin: 'null', 'Content-Type': FORM } },
    { name: 'our host on another port', headers: { Origin: 'http://localhost:8080', 'Content-Type': FORM } },
    { name: 'our host over https', headers: { Origin: 'https://localhost', 'Content-Type': FORM } },
    { name: 'look-alike host', headers: { Origin: `${ORIGIN}.evil.example`, 'Content-Type': FORM } },
  ];

  it('refuses unsafe cross-site posts with 403 and changes nothing', async () => {
    const before = (await audit()).length;
    for (const r of refusals) {
      const res = await t.app.request(`${ORIGIN}/projects`, { method: 'POST', headers: { Cookie: alice.cookie, ...r.headers }, body: r.body ?? 'name=Sneaky' });
      expect(res.status, r.name).toBe(403);
      expect(res.headers.get('location'), r.name).toBeNull();
    }
    // Other unsafe routes refuse the same way.
    for (const [url, body] of [
      ['/w/team/members', 'username=carol&role=admin'],
      ['/w/team/members/bob/role', 'role=admin'],
      ['/w/team/members/bob/remove', ''],
      ['/settings/tokens', 'name=stolen'],
      ['/logout', ''],
    ]) {
      const res = await t.app.request(`${ORIGIN}${url}`, { method: 'POST', headers: { Cookie: alice.cookie, Origin: FOREIGN, 'Content-Type': FORM }, body });
      expect(res.status, url).toBe(403);
    }
    expect(await projectCount()).toBe(1);
    expect(await members('team')).toEqual(TEAM_BEFORE);
    expect(await t.sqlOne('SELECT count(*) AS n FROM api_tokens')).toEqual({ n: 4 }); // one per test user
    expect((await audit()).length).toBe(before);
    expect(t.logs.filter((l) => l.includes('csrf refused')).length).toBeGreaterThan(0);
    // alice is still signed in (the cross-site /logout did nothing).
    expect((await t.browser('GET', '/settings', { cookie: alice.cookie })).status).toBe(200);
  });

  it('accepts a proper same-origin form post', async () => {
    const accepted: { name: string; headers: Record<string, string> }[] = [
      { name: 'Origin and Sec-Fetch-Site', headers: { Origin: ORIGIN, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': FORM } },
      { name: 'Origin only (older browser)', headers: { Origin: ORIGIN, 'Content-Type': FORM } },
      { name: 'Sec-Fetch-Site only', headers: { 'Sec-Fetch-Site': 'same-origin', 'Content-Type': FORM } },
      { name: 'form type with charset', headers: { Origin: ORIGIN, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': `${FORM}; charset=UTF-8` } },
    ];
    for (const [i, a] of accepted.entries()) {
      const res = await t.app.request(`${ORIGIN}/projects`, { method: 'POST', headers: { Cookie: alice.cookie, ...a.headers }, body: `name=Real+${i}` });
      expect(res.status, a.name).toBe(303);
      expect(res.headers.get('location'), a.name).toBe(`/w/real-${i}/members`);
    }
    expect(await projectCount()).toBe(1 + accepted.length);
    // The API is not cookie-based and so needs no Origin: a bearer token from a script works.
    expect((await t.api('POST', '/projects', alice.token, { name: 'From Script' })).status).toBe(201);
  });
});
