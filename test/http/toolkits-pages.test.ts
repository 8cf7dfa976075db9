// The Toolkits pages (/w/:ws/toolkits…) over app.request as a same-origin browser: each toolkit's
// status for the current member, the "Credential setup required" banner with "Create my
// credential" and the near-miss fix, who may reach which page (viewers run, non-members see
// nothing and the service is never called), the Credential Configuration Change step before a
// changed credential is saved, team readiness, and whose credential a run used.
// See CONTRACT.md §3 (words on screen) and §4 (roles, 404 for what one may not see).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';
import { startFakeService } from '../helpers/fake-services';

type User = Awaited<ReturnType<TestApp['user']>>;

const TOKENS = {
  ghp_alice: 'alice-gh',
  ghp_bob: 'bob-gh',
  ghp_carol: 'carol-gh',
  ghp_frank: 'frank-gh',
  ghp_erin: 'erin-gh',
  ghp_team: 'team-bot',
};

/**
 * One project, "Platform", and everyone's credentials:
 *
 * | user  | role in Platform | own private credential                                  |
 * |-------|------------------|---------------------------------------------------------|
 * | alice | admin            | github_token (github)                                   |
 * | bob   | editor           | github_token, but a GitLab one ("Bob Secret GitLab")    |
 * | carol | viewer           | github_token (github)                                   |
 * | dave  | viewer           | none                                                    |
 * | frank | viewer           | github_token_2 (github, "Laptop token"): a near miss    |
 * | erin  | not a member     | github_token (github)                                   |
 *
 * Toolkits in Platform: "GitHub" (private, github_token) and "Team GitHub" (the project
 * credential team_github, token ghp_team → account team-bot).
 */
async function world() {
  const svc = await startFakeService({ tokens: TOKENS });
  const t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
  const [alice, bob, carol, dave, frank, erin] = await Promise.all(['alice', 'bob', 'carol', 'dave', 'frank', 'erin'].map((u) => t.user(u)));
  expect((await t.api('POST', '/projects', alice.token, { name: 'Platform' })).status).toBe(201);
  for (const [u, role] of [
    [bob, 'editor'],
    [carol, 'viewer'],
    [dave, 'viewer'],
    [frank, 'viewer'],
  ] as const) {
    expect((await t.api('POST', '/projects/platform/members', alice.token, { username: u.username, role })).status).toBe(201);
  }
  const own = async (u: User, body: Record<string, unknown>) => {
    const r = await t.api('POST', '/workspaces/private/credentials', u.token, { fields: { base_url: svc.url }, ...body });
    expect(r.status, r.text).toBe(201);
  };
  await own(alice, { name: 'GitHub Token', type: 'github', secrets: { token: 'ghp_alice' } });
  await own(bob, { name: 'Bob Secret GitLab', credential_id: 'github_token', type: 'gitlab', secrets: { token: 'ghp_bob' } });
  await own(carol, { name: 'GitHub Token', type: 'github', secrets: { token: 'ghp_carol' } });
  await own(frank, { name: 'Laptop token', credential_id: 'github_token_2', type: 'github', secrets: { token: 'ghp_frank' } });
  await own(erin, { name: 'GitHub Token', type: 'github', secrets: { token: 'ghp_erin' } });
  const team = await t.api('POST', '/workspaces/platform/credentials', alice.token, { name: 'Team GitHub', type: 'github', fields: { base_url: svc.url }, secrets: { token: 'ghp_team' } });
  expect(team.status, team.text).toBe(201);
  expect(team.json.credential_id).toBe('team_github');

  const toolkit = async (name: string, credential: { scope: string; credential_id: string }) => {
    const r = await t.api('POST', '/workspaces/platform/toolkits', alice.token, { name, type: 'github', settings: {}, credential });
    expect(r.status, r.text).toBe(201);
    return r.json.id as number;
  };
  const github = await toolkit('GitHub', { scope: 'private', credential_id: 'github_token' });
  const teamGithub = await toolkit('Team GitHub', { scope: 'project', credential_id: 'team_github' });
  return { t, svc, alice, bob, carol, dave, frank, erin, github, teamGithub };
}
type World = Awaited<ReturnType<typeof world>>;

function decode(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The visible text of some HTML, whitespace collapsed (what a person reads). */
function textOf(html: string): string {
  return decode(
    html
      .replace(/<script[\s\S]*?<\/script>/g, ' ')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .replace(/ ([.,;:!?)])/g, '$1'),
  ).trim();
}

/** The outer HTML of the first element with this id (same-tag nesting counted). */
function elementById(html: string, id: string): string | undefined {
  const open = new RegExp(`<([a-z0-9]+)\\b[^>]*\\bid="${id}"[^>]*>`).exec(html);
  if (!open) return undefined;
  const tag = open[1];
  const re = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'g');
  re.lastIndex = open.index + open[0].length;
  let depth = 1;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) return html.slice(open.index, m.index + m[0].length);
  }
  return undefined;
}

/** The first tag `<tag …>` whose attributes include name="…" / id="…" / a given attribute text. */
function tagWith(html: string, attrText: string, tag = 'input'): string | undefined {
  const escaped = attrText.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return html.match(new RegExp(`<${tag}\\b[^>]*${escaped}[^>]*>`))?.[0];
}
function attrOf(tagText: string | undefined, attr: string): string | null {
  const m = tagText?.match(new RegExp(`\\s${attr}(?:="([^"]*)")?(?=[\\s/>])`));
  return m ? decode(m[1] ?? '') : null;
}

async function audit(t: TestApp, action: string) {
  return (await t.sql<{ actor: string; workspace: string; target: string; details_json: string }>('SELECT actor, workspace, target, details_json FROM audit_events WHERE action = ? ORDER BY id', [action])).map(
    (e) => ({ actor: e.actor, workspace: e.workspace, target: e.target, details: JSON.parse(e.details_json) }),
  );
}

async function page(t: TestApp, method: string, url: string, o: Parameters<TestApp['browser']>[2] = {}) {
  const res = await t.browser(method, url, o);
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

/** The edit form of a github toolkit as a browser posts it. */
function editForm(toolkitId: number, o: { name?: string; choice?: string; privateId?: string; extra?: Record<string, string> } = {}) {
  return {
    toolkit_id: String(toolkitId),
    name: o.name ?? 'GitHub',
    type: 'github',
    setting_default_repository: '',
    credential_choice: o.choice ?? 'private',
    private_credential_id: o.privateId ?? 'github_token',
    ...o.extra,
  };
}

describe('Toolkits pages: status, banners, access, runs', () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });
  afterAll(async () => {
    await w.t.close();
    await w.svc.close();
  });

  it.each([
    { user: 'alice', github: 'Ready', team: 'Ready' },
    { user: 'bob', github: 'Type mismatch', team: 'Ready' },
    { user: 'carol', github: 'Ready', team: 'Ready' },
    { user: 'dave', github: 'Credential setup required', team: 'Ready' },
    { user: 'frank', github: 'Credential setup required', team: 'Ready' },
  ] as const)('the Toolkits page shows $user: GitHub $github, Team GitHub $team', async ({ user, github, team }) => {
    const u = w[user];
    const res = await page(w.t, 'GET', '/w/platform/toolkits', { cookie: u.cookie });
    expect(res.status).toBe(200);
    const statusIn = (id: number) => {
      const row = elementById(res.body, `toolkit-${id}`);
      expect(row, `row toolkit-${id}`).toBeDefined();
      const pills = [...row!.matchAll(/<span class="pill pill-\w+">([^<]*)<\/span>/g)].map((m) => decode(m[1]));
      return pills.at(-1);
    };
    expect(statusIn(w.github)).toBe(github);
    expect(statusIn(w.teamGithub)).toBe(team);
    // The row names the Credential ID with its scope (person for private, briefcase for the project's).
    expect(textOf(elementById(res.body, `toolkit-${w.github}`)!)).toContain('Private credential github_token');
    expect(textOf(elementById(res.body, `toolkit-${w.teamGithub}`)!)).toContain('Project credential team_github');
    // And the API agrees for the same member.
    const api = await w.t.api('GET', '/workspaces/platform/toolkits', u.token);
    const word = { Ready: 'ready', 'Type mismatch': 'type_mismatch', 'Credential setup required': 'setup_required' } as const;
    expect(Object.fromEntries(api.json.map((x: any) => [x.name, x.status]))).toEqual({ GitHub: word[github], 'Team GitHub': word[team] });
  });

  it('shows a member without the credential "Credential setup required" with the exact ID and a prefilled "Create my credential"', async () => {
    const res = await page(w.t, 'GET', `/w/platform/toolkits/${w.github}`, { cookie: w.dave.cookie });
    expect(res.status).toBe(200);
    const banner = elementById(res.body, 'setup-required');
    expect(banner).toBeDefined();
    const text = textOf(banner!);
    expect(text).toContain('Credential setup required');
    expect(text).toContain('Credential ID github_token of type GitHub');
    expect(text).not.toContain('Change its ID'); // dave has nothing that looks meant for it
    expect(text).toContain('Create my credential');
    const href = attrOf(tagWith(banner!, 'href="/w/private/credentials/new?', 'a'), 'href')!;
    expect(href.startsWith('/w/private/credentials/new?credential_id=github_token&type=github'), href).toBe(true);
    const params = new URL(href, 'http://x').searchParams;
    expect(params.get('required_by')).toBe('GitHub');
    expect(params.get('return')).toBe(`/w/platform/toolkits/${w.github}`);
    // Every Run button is off until the credential exists.
    expect(tagWith(res.body, 'type="submit" disabled', 'button')).toBeDefined();

    // Following the link: the form is prefilled with the ID (editable, not derived from the name) and the type.
    const form = await page(w.t, 'GET', href, { cookie: w.dave.cookie });
    expect(form.status).toBe(200);
    const idInput = tagWith(form.body, 'name="credential_id"');
    expect(attrOf(idInput, 'value')).toBe('github_token');
    expect(attrOf(idInput, 'readonly')).toBeNull();
    expect(attrOf(tagWith(form.body, 'name="id_mode"'), 'value')).toBe('manual');
    expect(tagWith(form.body, 'value="github" selected', 'option')).toBeDefined();
    expect(textOf(form.body)).toContain('The ID the toolkit GitHub expects');
  });

  it('shows a type mismatch to a member whose credential with that ID is of another type', async () => {
    const res = await page(w.t, 'GET', `/w/platform/toolkits/${w.github}`, { cookie: w.bob.cookie });
    const banner = elementById(res.body, 'type-mismatch');
    expect(banner).toBeDefined();
    expect(textOf(banner!)).toContain('Your credential github_token is a GitLab credential, but this toolkit needs GitHub');
    expect(elementById(res.body, 'setup-required')).toBeUndefined();
    // "Open my credential" leads to bob's own edit page for it.
    const href = attrOf(tagWith(banner!, 'href="/w/private/credentials/', 'a'), 'href')!;
    expect(href).toBe('/w/private/credentials/github_token/edit');
    const edit = await page(w.t, 'GET', href, { cookie: w.bob.cookie });
    expect(edit.status).toBe(200);
    expect(attrOf(tagWith(edit.body, 'name="name"'), 'value')).toBe('Bob Secret GitLab');
  });

  // PocketBase-style scenarios: who asks, what, and what the answer must (not) contain.
  type Scenario = {
    name: string;
    user: 'alice' | 'bob' | 'carol' | 'dave' | 'erin';
    method: 'GET' | 'POST';
    url: (w: World) => string;
    form?: (w: World) => Record<string, string>;
    status: number;
    contains?: string[];
    notContains?: string[];
    upstreamCalls?: number;
  };
  const scenarios: Scenario[] = [
    // Viewers: read and run, never change.
    { name: 'viewer opens the list', user: 'carol', method: 'GET', url: () => '/w/platform/toolkits', status: 200, contains: ['GitHub', 'Team GitHub'], notContains: ['/w/platform/toolkits/new'] },
    { name: 'viewer opens a toolkit', user: 'carol', method: 'GET', url: (w) => `/w/platform/toolkits/${w.github}`, status: 200, notContains: ['/edit"', 'Delete the toolkit'] },
    { name: 'viewer: create page', user: 'carol', method: 'GET', url: () => '/w/platform/toolkits/new', status: 403, notContains: ['toolkit-form'] },
    { name: 'viewer: create post', user: 'carol', method: 'POST', url: () => '/w/platform/toolkits', form: () => ({ name: 'Sneaky', type: 'github', credential_choice: 'private', private_credential_id: 'github_token' }), status: 403 },
    { name: 'viewer: edit page', user: 'carol', method: 'GET', url: (w) => `/w/platform/toolkits/${w.github}/edit`, status: 403, notContains: ['toolkit-form'] },
    { name: 'viewer: edit post', user: 'carol', method: 'POST', url: (w) => `/w/platform/toolkits/${w.github}`, form: (w) => editForm(w.github, { name: 'Renamed by a viewer', extra: { confirm_change: '1' } }), status: 403 },
    { name: 'viewer: form helper', user: 'carol', method: 'POST', url: () => '/w/platform/toolkits/form/type', form: () => ({ type: 'gitlab' }), status: 403 },
    { name: 'viewer: delete', user: 'carol', method: 'POST', url: (w) => `/w/platform/toolkits/${w.github}/delete`, form: () => ({}), status: 403 },
    { name: 'viewer runs with their own credential', user: 'carol', method: 'POST', url: (w) => `/w/platform/toolkits/${w.github}/run/get_authenticated_user`, form: () => ({}), status: 200, contains: ['carol-gh', '(yours)'], upstreamCalls: 1 },
    { name: 'viewer runs the project toolkit as the project account', user: 'carol', method: 'POST', url: (w) => `/w/platform/toolkits/${w.teamGithub}/run/get_authenticated_user`, form: () => ({}), status: 200, contains: ['team-bot', '(project Platform)'], notContains: ['carol-gh'], upstreamCalls: 1 },
    { name: 'member without the credential runs: nothing is sent', user: 'dave', method: 'POST', url: (w) => `/w/platform/toolkits/${w.github}/run/get_authenticated_user`, form: () => ({}), status: 200, contains: ['Credential setup required: create a private credential with Credential ID github_token'], upstreamCalls: 0 },
    { name: 'editor opens the edit page', user: 'bob', method: 'GET', url: (w) => `/w/platform/toolkits/${w.github}/edit`, status: 200, contains: ['Private Credential ID', 'Save changes'] },
    { name: 'unknown tool', user: 'alice', method: 'POST', url: (w) => `/w/platform/toolkits/${w.github}/run/delete_everything`, form: () => ({}), status: 404, upstreamCalls: 0 },
    // A non-member: 404 everywhere, and the service hears nothing (erin has a github_token of her own).
    ...(
      [
        ['list', 'GET', () => '/w/platform/toolkits'],
        ['create page', 'GET', () => '/w/platform/toolkits/new'],
        ['toolkit page', 'GET', (w: World) => `/w/platform/toolkits/${w.github}`],
        ['edit page', 'GET', (w: World) => `/w/platform/toolkits/${w.github}/edit`],
        ['create post', 'POST', () => '/w/platform/toolkits'],
        ['edit post', 'POST', (w: World) => `/w/platform/toolkits/${w.github}`],
        ['form helper', 'POST', () => '/w/platform/toolkits/form/type'],
        ['delete', 'POST', (w: World) => `/w/platform/toolkits/${w.github}/delete`],
        ['run private toolkit', 'POST', (w: World) => `/w/platform/toolkits/${w.github}/run/get_authenticated_user`],
        ['run project toolkit', 'POST', (w: World) => `/w/platform/toolkits/${w.teamGithub}/run/get_authenticated_user`],
        ['adopt credential', 'POST', (w: World) => `/w/platform/toolkits/${w.github}/adopt-credential`],
      ] as const
    ).map(
      ([what, method, url]): Scenario => ({
        name: `non-member: ${what}`,
        user: 'erin',
        method,
        url,
        form: method === 'POST' ? (w) => ({ ...editForm(w.github, { extra: { confirm_change: '1' } }), from: 'github_token' }) : undefined,
        status: 404,
        notContains: ['GitHub', 'team_github', 'erin-gh', 'team-bot'],
        upstreamCalls: 0,
      }),
    ),
    // A toolkit id of another workspace is not found here either.
    { name: 'a member asks for a toolkit id that is not in this project', user: 'alice', method: 'GET', url: () => '/w/platform/toolkits/999999', status: 404 },
    { name: 'a toolkit of the project is not reachable through the Private workspace', user: 'alice', method: 'GET', url: (w) => `/w/private/toolkits/${w.github}`, status: 404 },
    { name: 'nor runnable there', user: 'alice', method: 'POST', url: (w) => `/w/private/toolkits/${w.teamGithub}/run/get_authenticated_user`, form: () => ({}), status: 404, upstreamCalls: 0 },
  ];

  it.each(scenarios)('$name → $status', async (s) => {
    const before = w.svc.requests.length;
    const res = await page(w.t, s.method, s.url(w), { cookie: w[s.user].cookie, form: s.method === 'POST' ? (s.form?.(w) ?? {}) : undefined });
    expect(res.status, res.body.slice(0, 500)).toBe(s.status);
    const text = textOf(res.body);
    for (const c of s.contains ?? []) expect(text).toContain(c);
    for (const c of s.notContains ?? []) expect(res.body).not.toContain(c);
    if (s.upstreamCalls !== undefined) expect(w.svc.requests.length - before).toBe(s.upstreamCalls);
  });

  it('changes nothing after the refused viewer and non-member posts', async () => {
    const list = await w.t.api('GET', '/workspaces/platform/toolkits', w.alice.token);
    expect(list.json.map((x: any) => [x.name, x.credential])).toEqual([
      ['GitHub', { scope: 'private', credential_id: 'github_token', fallback: null }],
      ['Team GitHub', { scope: 'project', credential_id: 'team_github', fallback: null }],
    ]);
    expect(await audit(w.t, 'toolkit.update')).toEqual([]);
    expect(await audit(w.t, 'toolkit.credential_change')).toEqual([]);
    expect(await audit(w.t, 'toolkit.delete')).toEqual([]);
  });

  it('names the credential a run used: "(yours)" for a private one, the project for a project one', async () => {
    const mine = await page(w.t, 'POST', `/w/platform/toolkits/${w.github}/run/get_authenticated_user`, { cookie: w.alice.cookie, form: {}, headers: { 'HX-Request': 'true' } });
    expect(mine.status).toBe(200);
    expect(mine.body).not.toContain('<html'); // htmx gets just the result
    const result = elementById(mine.body, 'run-get_authenticated_user-result')!;
    expect(textOf(result)).toContain('HTTP 200');
    expect(textOf(result)).toMatch(/Ran with Private credential github_token \(yours\)/);
    expect(textOf(result)).toContain('"login": "alice-gh"');
    const sent = w.svc.requests.at(-1)!;
    expect([sent.method, sent.path, sent.headers.authorization]).toEqual(['GET', '/user', 'Bearer ghp_alice']);

    const shared = await page(w.t, 'POST', `/w/platform/toolkits/${w.teamGithub}/run/get_authenticated_user`, { cookie: w.alice.cookie, form: {} });
    expect(shared.status).toBe(200);
    expect(shared.body).toContain('<html'); // without htmx: the whole toolkit page with the result
    const sharedText = textOf(elementById(shared.body, 'run-get_authenticated_user-result')!);
    expect(sharedText).toMatch(/Ran with Project credential team_github \(project Platform\)/);
    expect(sharedText).toContain('"login": "team-bot"');
    expect(sharedText).not.toContain('(yours)');
    expect(shared.body).not.toContain('ghp_team');

    const runs = (await audit(w.t, 'toolkit.execute')).filter((e) => e.actor === 'alice');
    expect(runs.map((e) => e.details.credential)).toEqual([
      { scope: 'private', credential_id: 'github_token', owner: 'alice' },
      { scope: 'project', credential_id: 'team_github', owner: 'platform' },
    ]);
  });

  it('shows team readiness (names only) to editors and admins, not to viewers', async () => {
    for (const u of [w.alice, w.bob]) {
      const res = await page(w.t, 'GET', `/w/platform/toolkits/${w.github}`, { cookie: u.cookie });
      const box = elementById(res.body, 'team-readiness');
      expect(box, u.username).toBeDefined();
      const items = [...box!.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => textOf(m[1]));
      expect(items).toEqual(['A alice Ready', 'B bob Type mismatch', 'C carol Ready', 'D dave No github_token', 'F frank No github_token']);
      expect(textOf(box!)).toContain('2 of 5 members ready');
      // Names only: not another member's credential name, type label or the near miss's ID.
      expect(box).not.toContain('Bob Secret GitLab');
      expect(box).not.toContain('Laptop token');
      expect(box).not.toContain('github_token_2');
    }
    for (const u of [w.carol, w.dave]) {
      const res = await page(w.t, 'GET', `/w/platform/toolkits/${w.github}`, { cookie: u.cookie });
      expect(res.status).toBe(200);
      expect(res.body).not.toContain('team-readiness');
      expect(res.body).not.toContain('members ready');
    }
    // A project-credential toolkit has nothing to be ready for.
    const team = await page(w.t, 'GET', `/w/platform/toolkits/${w.teamGithub}`, { cookie: w.alice.cookie });
    expect(team.body).not.toContain('team-readiness');
  });
});

describe('near miss: "Change its ID to …"', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });
  afterEach(async () => {
    await w.t.close();
    await w.svc.close();
  });

  it('offers the member’s own look-alike credential and renames it; the toolkit becomes Ready', async () => {
    const res = await page(w.t, 'GET', `/w/platform/toolkits/${w.github}`, { cookie: w.frank.cookie });
    const banner = elementById(res.body, 'setup-required')!;
    expect(textOf(banner)).toContain('Credential setup required');
    expect(textOf(banner)).toContain('You have Laptop token with ID github_token_2, which looks meant for this toolkit. Change its ID to github_token');
    const form = tagWith(banner, 'adopt-credential', 'form');
    expect(attrOf(form, 'action')).toBe(`/w/platform/toolkits/${w.github}/adopt-credential`);
    expect(attrOf(tagWith(banner, 'name="from"'), 'value')).toBe('github_token_2');

    const adopt = await page(w.t, 'POST', `/w/platform/toolkits/${w.github}/adopt-credential`, { cookie: w.frank.cookie, form: { from: 'github_token_2' } });
    expect(adopt.status, adopt.body.slice(0, 300)).toBe(303);
    expect(adopt.location).toBe(`/w/platform/toolkits/${w.github}?adopted=1`);

    const after = await page(w.t, 'GET', adopt.location!, { cookie: w.frank.cookie });
    expect(textOf(after.body)).toContain('Your credential now has the Credential ID github_token.');
    expect(elementById(after.body, 'setup-required')).toBeUndefined();
    expect(textOf(elementById(after.body, 'credential-status')!)).toContain('Ready Runs with your private credential github_token (Laptop token)');
    const mine = await w.t.api('GET', '/workspaces/private/credentials', w.frank.token);
    expect(mine.json.map((c: any) => [c.credential_id, c.name])).toEqual([['github_token', 'Laptop token']]);
    const list = await page(w.t, 'GET', '/w/platform/toolkits', { cookie: w.frank.cookie });
    expect(textOf(elementById(list.body, `toolkit-${w.github}`)!)).toContain('Ready');

    const run = await page(w.t, 'POST', `/w/platform/toolkits/${w.github}/run/get_authenticated_user`, { cookie: w.frank.cookie, form: {} });
    expect(textOf(run.body)).toContain('"login": "frank-gh"');
  });

  it('renames only the member’s own credential: someone else’s ID is not found and nothing changes', async () => {
    // dave has no github_token_2; frank does. dave asking to adopt it must not touch frank's.
    const res = await page(w.t, 'POST', `/w/platform/toolkits/${w.github}/adopt-credential`, { cookie: w.dave.cookie, form: { from: 'github_token_2' } });
    expect(res.status).toBe(404);
    const franks = await w.t.api('GET', '/workspaces/private/credentials', w.frank.token);
    expect(franks.json.map((c: any) => c.credential_id)).toEqual(['github_token_2']);
    // A project-credential toolkit has no ID to adopt.
    const team = await page(w.t, 'POST', `/w/platform/toolkits/${w.teamGithub}/adopt-credential`, { cookie: w.frank.cookie, form: { from: 'github_token_2' } });
    expect(team.status).toBe(404);
  });

  it('answers 409 with the page when the member already has the required ID', async () => {
    // carol has github_token already; she also makes a github_token_copy and tries to adopt it.
    const r = await w.t.api('POST', '/workspaces/private/credentials', w.carol.token, { name: 'Copy', credential_id: 'github_token_copy', type: 'github', fields: { base_url: w.svc.url }, secrets: { token: 'ghp_carol' } });
    expect(r.status).toBe(201);
    const res = await page(w.t, 'POST', `/w/platform/toolkits/${w.github}/adopt-credential`, { cookie: w.carol.cookie, form: { from: 'github_token_copy' } });
    expect(res.status).toBe(409);
    // The refusal says what happened and what to do, with a link to the credential in the way.
    const problem = textOf(elementById(res.body, 'page-problem')!);
    expect(problem).toContain('Your credential github_token_copy still has its old ID');
    expect(problem).toContain('You already have another private credential with Credential ID github_token');
    expect(res.body).toContain('href="/w/private/credentials/github_token/edit"');
    const mine = await w.t.api('GET', '/workspaces/private/credentials', w.carol.token);
    expect(mine.json.map((c: any) => c.credential_id).sort()).toEqual(['github_token', 'github_token_copy']);
  });
});

describe('a deleted project credential', () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });
  afterAll(async () => {
    await w.t.close();
    await w.svc.close();
  });

  it('shows "Credential missing" to everyone and runs nothing', async () => {
    expect((await w.t.api('DELETE', '/workspaces/platform/credentials/team_github', w.alice.token)).status).toBe(204);
    for (const u of [w.alice, w.carol]) {
      const list = await page(w.t, 'GET', '/w/platform/toolkits', { cookie: u.cookie });
      expect(textOf(elementById(list.body, `toolkit-${w.teamGithub}`)!)).toContain('Credential missing');
      const one = await page(w.t, 'GET', `/w/platform/toolkits/${w.teamGithub}`, { cookie: u.cookie });
      expect(textOf(elementById(one.body, 'credential-missing')!)).toContain('The project credential team_github this toolkit used was deleted.');
    }
    const before = w.svc.requests.length;
    const run = await page(w.t, 'POST', `/w/platform/toolkits/${w.teamGithub}/run/get_authenticated_user`, { cookie: w.carol.cookie, form: {} });
    expect(run.status).toBe(200);
    expect(textOf(run.body)).toContain('The project credential team_github was deleted.');
    expect(w.svc.requests.length).toBe(before);
  });
});

describe('Credential Configuration Change', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });
  afterEach(async () => {
    await w.t.close();
    await w.svc.close();
  });

  const saved = async (w: World, id: number) => (await w.t.api('GET', '/workspaces/platform/toolkits', w.alice.token)).json.find((x: any) => x.id === id);

  it('answers the dialog naming who will need setup, and does not save', async () => {
    const res = await page(w.t, 'POST', `/w/platform/toolkits/${w.github}`, { cookie: w.alice.cookie, form: editForm(w.github, { name: 'GitHub (renamed)', privateId: 'github_token_2' }) });
    expect(res.status).toBe(200);
    const text = textOf(res.body);
    expect(text).toContain('Credential Configuration Change');
    expect(text).toContain('You are changing this toolkit’s credential from github_token to the private Credential ID github_token_2.');
    expect(text).toContain('4 of 5 members will see Credential setup required');
    // alice and carol can run it today; bob and dave (no github_token of type GitHub) could not before either.
    expect(text).toMatch(/Will lose access \(2\) alice, carol They can run this toolkit today\./);
    expect(text).toMatch(/Already can’t run it \(2\) bob, dave They have no matching credential today either/);
    expect(text).toContain('Confirm changes');
    expect(text).toContain('Discard changes');
    // Without JavaScript the confirmation is a page that carries the edited values along.
    expect(attrOf(tagWith(res.body, 'name="name"'), 'value')).toBe('GitHub (renamed)');
    expect(attrOf(tagWith(res.body, 'name="private_credential_id"'), 'value')).toBe('github_token_2');
    expect(attrOf(tagWith(res.body, 'name="confirm_change"', 'button'), 'value')).toBe('1');
    expect(attrOf(tagWith(res.body, 'name="discard_credential"', 'button'), 'value')).toBe('1');

    expect(await saved(w, w.github)).toMatchObject({ name: 'GitHub', credential: { scope: 'private', credential_id: 'github_token' } });
    expect(await audit(w.t, 'toolkit.credential_change')).toEqual([]);
    expect(await audit(w.t, 'toolkit.update')).toEqual([]);

    // With htmx the same content comes as a modal <dialog> inside the form.
    const hx = await page(w.t, 'POST', `/w/platform/toolkits/${w.github}`, { cookie: w.alice.cookie, form: editForm(w.github, { privateId: 'github_token_2' }), headers: { 'HX-Request': 'true' } });
    expect(hx.status).toBe(200);
    expect(hx.body).not.toContain('<html');
    const dialog = elementById(hx.body, 'credential-change-dialog');
    expect(dialog).toBeDefined();
    expect(attrOf(tagWith(dialog!, 'id="credential-change-dialog"', 'dialog'), 'aria-labelledby')).toBe('credential-change-title');
    expect(textOf(dialog!)).toMatch(/4 of 5 members will see Credential setup required Will lose access \(2\) alice, carol .* Already can’t run it \(2\) bob, dave/);
    expect(await saved(w, w.github)).toMatchObject({ credential: { credential_id: 'github_token' } });
  });

  it('counts a type mismatch too, when a project credential is swapped for a private ID', async () => {
    const res = await page(w.t, 'POST', `/w/platform/toolkits/${w.teamGithub}`, { cookie: w.bob.cookie, form: editForm(w.teamGithub, { name: 'Team GitHub', privateId: 'github_token' }) });
    expect(res.status).toBe(200);
    expect(textOf(res.body)).toContain('from team_github to the private Credential ID github_token');
    // On the project credential everyone could run it: all three lose access, nobody is listed as already unable.
    expect(textOf(res.body)).toContain('3 of 5 members will see Credential setup required Will lose access (3) bob, dave, frank');
    expect(textOf(res.body)).not.toContain('Already can’t run it');
    expect(await saved(w, w.teamGithub)).toMatchObject({ credential: { scope: 'project', credential_id: 'team_github' } });
  });

  it('says everyone is ready when they are', async () => {
    const res = await page(w.t, 'POST', `/w/platform/toolkits/${w.github}`, { cookie: w.alice.cookie, form: editForm(w.github, { choice: 'project:team_github', privateId: '' }) });
    expect(res.status).toBe(200);
    expect(textOf(res.body)).toContain('Credential Configuration Change');
    expect(textOf(res.body)).toContain('All 5 members are ready');
    expect(await saved(w, w.github)).toMatchObject({ credential: { scope: 'private' } });
  });

  it('saves with confirm_change=1 and records toolkit.credential_change', async () => {
    const res = await page(w.t, 'POST', `/w/platform/toolkits/${w.github}`, {
      cookie: w.alice.cookie,
      form: editForm(w.github, { name: 'GitHub (renamed)', privateId: 'github_token_2', extra: { confirm_change: '1' } }),
    });
    expect(res.status, res.body.slice(0, 300)).toBe(303);
    expect(res.location).toBe(`/w/platform/toolkits/${w.github}?saved=1`);
    expect(await saved(w, w.github)).toMatchObject({ name: 'GitHub (renamed)', credential: { scope: 'private', credential_id: 'github_token_2' } });
    expect(await audit(w.t, 'toolkit.credential_change')).toEqual([
      {
        actor: 'alice',
        workspace: 'platform',
        target: `toolkit:${w.github}`,
        details: { name: 'GitHub (renamed)', from: { scope: 'private', credential_id: 'github_token' }, to: { scope: 'private', credential_id: 'github_token_2' } },
      },
    ]);
    expect((await audit(w.t, 'toolkit.update')).map((e) => e.details.changed)).toEqual([['name']]);

    // Now frank is the one who is ready, and alice needs setup.
    const frank = await page(w.t, 'GET', `/w/platform/toolkits/${w.github}`, { cookie: w.frank.cookie });
    expect(elementById(frank.body, 'setup-required')).toBeUndefined();
    const alice = await page(w.t, 'GET', `/w/platform/toolkits/${w.github}?saved=1`, { cookie: w.alice.cookie });
    expect(textOf(alice.body)).toContain('Changes saved.');
    expect(textOf(elementById(alice.body, 'setup-required')!)).toContain('Credential ID github_token_2');
  });

  it('discard_credential=1 re-renders the form with the old credential, keeps the other edits, saves nothing', async () => {
    const res = await page(w.t, 'POST', `/w/platform/toolkits/${w.github}`, {
      cookie: w.alice.cookie,
      form: editForm(w.github, { name: 'GitHub (renamed)', privateId: 'github_token_2', extra: { discard_credential: '1' } }),
    });
    expect(res.status).toBe(200);
    expect(res.body).toContain('id="toolkit-form"');
    expect(res.body).not.toContain('Credential Configuration Change');
    expect(attrOf(tagWith(res.body, 'name="private_credential_id"'), 'value')).toBe('github_token');
    expect(attrOf(tagWith(res.body, 'id="f-name"'), 'value')).toBe('GitHub (renamed)');
    expect(await saved(w, w.github)).toMatchObject({ name: 'GitHub', credential: { credential_id: 'github_token' } });
    expect(await audit(w.t, 'toolkit.credential_change')).toEqual([]);
    expect(await audit(w.t, 'toolkit.update')).toEqual([]);
  });

  it('saves a name-only edit at once (no dialog when the credential is unchanged)', async () => {
    const res = await page(w.t, 'POST', `/w/platform/toolkits/${w.github}`, { cookie: w.bob.cookie, form: editForm(w.github, { name: 'GitHub for everyone' }) });
    expect(res.status).toBe(303);
    expect(await saved(w, w.github)).toMatchObject({ name: 'GitHub for everyone', credential: { credential_id: 'github_token' } });
    expect(await audit(w.t, 'toolkit.credential_change')).toEqual([]);
  });

  it('needs no confirmation in the Private workspace (nobody else is affected)', async () => {
    const made = await w.t.api('POST', '/workspaces/private/toolkits', w.alice.token, { name: 'Mine', type: 'github', settings: {}, credential: { scope: 'private', credential_id: 'github_token' } });
    expect(made.status).toBe(201);
    const res = await page(w.t, 'POST', `/w/private/toolkits/${made.json.id}`, {
      cookie: w.alice.cookie,
      form: { toolkit_id: String(made.json.id), name: 'Mine', type: 'github', setting_default_repository: '', credential_choice: 'private', private_credential_id: 'other_token' },
    });
    expect(res.status).toBe(303);
    expect((await audit(w.t, 'toolkit.credential_change')).map((e) => [e.workspace, e.details.to])).toEqual([['private', { scope: 'private', credential_id: 'other_token' }]]);
  });
});
