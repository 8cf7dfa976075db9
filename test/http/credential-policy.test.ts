// Credential policy, part A, through the JSON API and the pages, against a real fake service on
// 127.0.0.1 and a fixed app clock: the explicit fallback (who runs with what, the execute answer,
// the audit event, the change event and its field errors), expiry (expires_at round trip, the
// expiry word, credential_expired with nothing sent, GitHub's expiration header on Test
// connection) and rate limits (the rate_limit field in each header dialect). No canary secret
// ever comes back.
//
// The world (project "platform", fallback toolkit "GitHub" on private github_token, else team_github):
//
// | user  | in platform | private github_token          |
// |-------|-------------|-------------------------------|
// | alice | admin       | none                          |
// | bob   | viewer      | github, token CANARY_BOB      |
// | carol | viewer      | none                          |
//
// Project credentials: team_github (github, CANARY_TEAM), team_gitlab (gitlab, CANARY_GL).
import { describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app';
import type { FakeService } from '../helpers/fake-services';
import { project, useScenario, type User } from '../helpers/scenario';

const CANARY = { bob: 'ghp_CANARY_BOB_policy_4d1f', team: 'ghp_CANARY_TEAM_policy_a9e0', gitlab: 'glpat_CANARY_GL_policy_77b3' };

const s = useScenario();

type World = { t: TestApp; svc: FakeService; clock: { now: number }; users: Record<'alice' | 'bob' | 'carol', User>; toolkit: number };

async function world(opts: { fallback?: string | null } = {}): Promise<World> {
  const clock = { now: Date.parse('2026-12-01T12:00:00Z') };
  const t = await s.fresh({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' }, now: () => clock.now });
  const svc = await s.fake({ [CANARY.bob]: 'bob-gh', [CANARY.team]: 'team-bot' });
  const users = { alice: await t.user('alice'), bob: await t.user('bob'), carol: await t.user('carol') };
  await project(t, users.alice, 'Platform', [
    [users.bob, 'viewer'],
    [users.carol, 'viewer'],
  ]);
  const ok = async (res: Promise<{ status: number; json: any }>, status = 201) => {
    const r = await res;
    expect(r.status, JSON.stringify(r.json)).toBe(status);
    return r.json;
  };
  await ok(t.api('POST', '/workspaces/private/credentials', users.bob.token, { name: 'GitHub Token', type: 'github', fields: { base_url: svc.url }, secrets: { token: CANARY.bob } }));
  await ok(t.api('POST', '/workspaces/platform/credentials', users.alice.token, { name: 'Team GitHub', type: 'github', fields: { base_url: svc.url }, secrets: { token: CANARY.team } }));
  await ok(t.api('POST', '/workspaces/platform/credentials', users.alice.token, { name: 'Team GitLab', type: 'gitlab', fields: { base_url: svc.url }, secrets: { token: CANARY.gitlab } }));
  const fallback = opts.fallback === undefined ? 'team_github' : opts.fallback;
  const tk = await ok(t.api('POST', '/workspaces/platform/toolkits', users.alice.token, { name: 'GitHub', type: 'github', credential: { scope: 'private', credential_id: 'github_token', fallback } }));
  svc.requests.length = 0;
  return { t, svc, clock, users, toolkit: tk.id };
}

const execute = (w: World, who: keyof World['users'], tool = 'get_authenticated_user') =>
  w.t.api('POST', `/workspaces/platform/toolkits/${w.toolkit}/execute`, w.users[who].token, { tool, input: {} });

/** The audit events of an action, oldest first, with their details parsed. */
async function events(t: TestApp, action: string) {
  return (await t.sql<{ actor: string; outcome: string; details_json: string }>('SELECT actor, outcome, details_json FROM audit_events WHERE action = ? ORDER BY id', [action])).map((e) => ({
    actor: e.actor,
    outcome: e.outcome,
    details: JSON.parse(e.details_json) as Record<string, any>,
  }));
}

/** Fails when any canary secret appears in the texts, the log lines or the audit log. */
async function noCanary(t: TestApp, texts: string[]) {
  const audit = JSON.stringify(await t.sql('SELECT * FROM audit_events'));
  for (const c of Object.values(CANARY)) {
    for (const text of [...texts, ...t.logs, audit]) expect(text).not.toContain(c);
  }
}

describe('fallback', () => {
  it('runs members without their own credential with the project fallback, and the others with their own', async () => {
    const w = await world();
    const carol = await execute(w, 'carol');
    expect(carol.status).toBe(200);
    expect(carol.json.credential).toEqual({ scope: 'project', credential_id: 'team_github', owner: 'platform' });
    expect(carol.json.result.body.login).toBe('team-bot');
    expect(w.svc.requests.at(-1)!.headers.authorization).toBe(`Bearer ${CANARY.team}`);

    const bob = await execute(w, 'bob');
    expect(bob.status).toBe(200);
    expect(bob.json.credential).toEqual({ scope: 'private', credential_id: 'github_token', owner: 'bob' });
    expect(w.svc.requests.at(-1)!.headers.authorization).toBe(`Bearer ${CANARY.bob}`);
    expect(w.svc.requests).toHaveLength(2);

    expect((await events(w.t, 'toolkit.execute')).map((e) => [e.actor, e.outcome, e.details.credential])).toEqual([
      ['carol', 'success', { scope: 'project', credential_id: 'team_github', owner: 'platform' }],
      ['bob', 'success', { scope: 'private', credential_id: 'github_token', owner: 'bob' }],
    ]);

    const listed = async (who: keyof World['users']) => (await w.t.api('GET', '/workspaces/platform/toolkits', w.users[who].token)).json[0];
    expect(await listed('carol')).toMatchObject({ status: 'ready', runs_with: 'fallback', credential: { scope: 'private', credential_id: 'github_token', fallback: 'team_github' } });
    expect(await listed('bob')).toMatchObject({ status: 'ready', runs_with: 'own' });

    // The page says so too: the banner, and the run panel after a run.
    const page = await (await w.t.browser('GET', `/w/platform/toolkits/${w.toolkit}`, { cookie: w.users.carol.cookie })).text();
    expect(page).toContain('Ready, with the project fallback');
    const ran = await (await w.t.browser('POST', `/w/platform/toolkits/${w.toolkit}/run/get_authenticated_user`, { cookie: w.users.carol.cookie, form: {}, headers: { 'HX-Request': 'true' } })).text();
    expect(ran).toContain('the project fallback');
    await noCanary(w.t, [carol.text, bob.text, page, ran]);
  });

  it('without a fallback (the default) a member without their own credential gets credential_setup_required', async () => {
    const w = await world({ fallback: null });
    const list = await w.t.api('GET', '/workspaces/platform/toolkits', w.users.carol.token);
    expect(list.json[0]).toMatchObject({ status: 'setup_required', credential: { fallback: null } });
    expect(list.json[0].runs_with).toBeUndefined();
    const r = await execute(w, 'carol');
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ error: 'credential_setup_required', credential_id: 'github_token' });
    expect(w.svc.requests).toHaveLength(0);
  });

  it('a deleted fallback: credential_setup_required naming the private ID, nothing sent, editors see it is gone', async () => {
    const w = await world();
    expect((await w.t.api('DELETE', '/workspaces/platform/credentials/team_github', w.users.alice.token)).status).toBe(204);
    const r = await execute(w, 'carol');
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ error: 'credential_setup_required', credential_id: 'github_token', credential_type: 'github' });
    expect(w.svc.requests).toHaveLength(0);
    // The ID stays for display; bob still runs with his own.
    const list = await w.t.api('GET', '/workspaces/platform/toolkits', w.users.carol.token);
    expect(list.json[0]).toMatchObject({ status: 'setup_required', credential: { fallback: 'team_github' } });
    expect((await execute(w, 'bob')).status).toBe(200);
    const editor = await (await w.t.browser('GET', `/w/platform/toolkits/${w.toolkit}`, { cookie: w.users.alice.cookie })).text();
    expect(editor).toContain('The fallback credential is gone');
    const viewer = await (await w.t.browser('GET', `/w/platform/toolkits/${w.toolkit}`, { cookie: w.users.carol.cookie })).text();
    expect(viewer).not.toContain('The fallback credential is gone');
    expect(viewer).toContain('Credential setup required');
  });

  it('an expired own credential fails closed with credential_expired, never falling back', async () => {
    const w = await world();
    const patched = await w.t.api('PATCH', '/workspaces/private/credentials/github_token', w.users.bob.token, { expires_at: '2026-11-30T00:00:00Z' });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ expires_at: '2026-11-30T00:00:00.000Z', expiry: 'expired' });
    const r = await execute(w, 'bob');
    expect(r.status).toBe(422);
    expect(r.json).toEqual({ error: 'credential_expired', credential_id: 'github_token', message: expect.stringContaining('github_token') });
    expect(w.svc.requests).toHaveLength(0);
    expect((await w.t.api('GET', '/workspaces/platform/toolkits', w.users.bob.token)).json[0].status).toBe('expired');
    expect((await events(w.t, 'toolkit.execute')).at(-1)).toMatchObject({ actor: 'bob', outcome: 'failure', details: { error: 'expired' } });
  });

  it('changing the fallback is a credential change: its own audit event and members_without_credential (own credentials only)', async () => {
    const w = await world({ fallback: null });
    const r = await w.t.api('PATCH', `/workspaces/platform/toolkits/${w.toolkit}`, w.users.alice.token, { credential: { scope: 'private', credential_id: 'github_token', fallback: 'team_github' } });
    expect(r.status).toBe(200);
    expect(r.json.credential).toEqual({ scope: 'private', credential_id: 'github_token', fallback: 'team_github' });
    expect(r.json.members_without_credential).toEqual(['alice', 'carol']);
    expect((await events(w.t, 'toolkit.credential_change')).map((e) => [e.details.from, e.details.to])).toEqual([
      [{ scope: 'private', credential_id: 'github_token' }, { scope: 'private', credential_id: 'github_token', fallback: 'team_github' }],
    ]);
    // Left out on a later change of the private ID: the fallback is kept.
    const kept = await w.t.api('PATCH', `/workspaces/platform/toolkits/${w.toolkit}`, w.users.alice.token, { credential: { scope: 'private', credential_id: 'gh_token' } });
    expect(kept.json.credential).toEqual({ scope: 'private', credential_id: 'gh_token', fallback: 'team_github' });
    // null clears it.
    const cleared = await w.t.api('PATCH', `/workspaces/platform/toolkits/${w.toolkit}`, w.users.alice.token, { credential: { scope: 'private', credential_id: 'gh_token', fallback: null } });
    expect(cleared.json.credential.fallback).toBeNull();
    expect(await events(w.t, 'toolkit.credential_change')).toHaveLength(3);
  });

  it('the form page asks through the Credential Configuration Change dialog when only the fallback changes', async () => {
    const w = await world({ fallback: null });
    const res = await w.t.browser('POST', `/w/platform/toolkits/${w.toolkit}`, {
      cookie: w.users.alice.cookie,
      form: { name: 'GitHub', credential_choice: 'private', private_credential_id: 'github_token', credential_fallback: 'team_github' },
    });
    const html = await res.text();
    expect(html).toContain('Credential Configuration Change');
    expect(html).toContain('will run with the project credential');
    expect(await events(w.t, 'toolkit.credential_change')).toHaveLength(0);
    const confirmed = await w.t.browser('POST', `/w/platform/toolkits/${w.toolkit}`, {
      cookie: w.users.alice.cookie,
      form: { name: 'GitHub', credential_choice: 'private', private_credential_id: 'github_token', credential_fallback: 'team_github', confirm_change: '1' },
    });
    expect(confirmed.status).toBe(303);
    expect(await events(w.t, 'toolkit.credential_change')).toHaveLength(1);
  });

  it.each([
    { name: 'a fallback on a project-scope toolkit', ws: 'platform', credential: { scope: 'project', credential_id: 'team_github', fallback: 'team_github' }, message: /private credential takes a fallback/ },
    { name: 'a fallback in the Private workspace', ws: 'private', credential: { scope: 'private', credential_id: 'github_token', fallback: 'team_github' }, message: /Only toolkits in a project/ },
    { name: 'a fallback that is no credential of the project', ws: 'platform', credential: { scope: 'private', credential_id: 'github_token', fallback: 'github_token' }, message: /no credential with Credential ID github_token/ },
    { name: 'a fallback of a type the toolkit does not accept', ws: 'platform', credential: { scope: 'private', credential_id: 'github_token', fallback: 'team_gitlab' }, message: /team_gitlab is a GitLab/ },
    { name: 'a fallback that is not a string', ws: 'platform', credential: { scope: 'private', credential_id: 'github_token', fallback: 42 }, message: /.+/ },
  ])('400 with fields["credential.fallback"] for $name', async ({ ws, credential, message }) => {
    const w = await world();
    const r = await w.t.api('POST', `/workspaces/${ws}/toolkits`, w.users.alice.token, { name: 'Bad', type: 'github', credential });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('invalid_input');
    expect(Object.keys(r.json.fields)).toEqual(['credential.fallback']);
    expect(r.json.fields['credential.fallback']).toMatch(message);
  });
});

describe('expiry', () => {
  it('round-trips expires_at, gives the expiry word on the app clock, and warns the owner', async () => {
    const w = await world();
    const t = w.t;
    const created = await t.api('POST', '/workspaces/private/credentials', w.users.carol.token, { name: 'GitHub Token', type: 'github', fields: { base_url: w.svc.url }, secrets: { token: 'ghp_CANARY_carol' }, expires_at: '2026-12-05' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ expires_at: '2026-12-05T00:00:00.000Z', expiry: 'soon' });
    const list = await t.api('GET', '/workspaces/private/credentials', w.users.carol.token);
    expect(list.json[0]).toMatchObject({ credential_id: 'github_token', expires_at: '2026-12-05T00:00:00.000Z', expiry: 'soon' });
    // The toolkit that uses it says so for its owner, and team readiness says "expires soon".
    const tk = (await t.api('GET', '/workspaces/platform/toolkits', w.users.carol.token)).json[0];
    expect(tk).toMatchObject({ status: 'ready', runs_with: 'own', expires_soon: true });
    expect((await t.api('GET', '/workspaces/platform/toolkits', w.users.bob.token)).json[0].expires_soon).toBeUndefined();
    const page = await (await t.browser('GET', `/w/platform/toolkits/${w.toolkit}`, { cookie: w.users.carol.cookie })).text();
    expect(page).toContain('Credential github_token expires soon');
    const readiness = await (await t.browser('GET', `/w/platform/toolkits/${w.toolkit}`, { cookie: w.users.alice.cookie })).text();
    expect(readiness).toMatch(/carol[\s\S]*?expires soon/);
    const credPage = await (await t.browser('GET', '/w/private/credentials', { cookie: w.users.carol.cookie })).text();
    expect(credPage).toContain('Expires 2026-12-05');
    const edit = await (await t.browser('GET', '/w/private/credentials/github_token/edit', { cookie: w.users.carol.cookie })).text();
    expect(edit).toContain('expires soon');
    expect(edit).toContain('value="2026-12-05"');

    for (const [now, word] of [
      [Date.parse('2026-11-01T00:00:00Z'), 'ok'],
      [Date.parse('2026-12-05T00:00:00Z'), 'expired'],
    ] as const) {
      w.clock.now = now;
      expect((await t.api('GET', '/workspaces/private/credentials/github_token', w.users.carol.token)).json.expiry).toBe(word);
    }
    const cleared = await t.api('PATCH', '/workspaces/private/credentials/github_token', w.users.carol.token, { expires_at: null });
    expect(cleared.json).toMatchObject({ expires_at: null, expiry: 'none' });
    const bad = await t.api('PATCH', '/workspaces/private/credentials/github_token', w.users.carol.token, { expires_at: 'next tuesday' });
    expect(bad.status).toBe(400);
    expect(bad.json.fields).toHaveProperty('expires_at');
    expect((await events(t, 'credential.update')).at(-1)!.details.changed).toEqual(['expires_at']);
  });

  it('an expired project credential: 422 credential_expired, nothing sent', async () => {
    const w = await world();
    const tk = await w.t.api('POST', '/workspaces/platform/toolkits', w.users.alice.token, { name: 'Team', type: 'github', credential: { scope: 'project', credential_id: 'team_github' } });
    expect((await w.t.api('PATCH', '/workspaces/platform/credentials/team_github', w.users.alice.token, { expires_at: '2026-12-01T11:59:59Z' })).status).toBe(200);
    const r = await w.t.api('POST', `/workspaces/platform/toolkits/${tk.json.id}/execute`, w.users.bob.token, { tool: 'get_authenticated_user', input: {} });
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ error: 'credential_expired', credential_id: 'team_github' });
    // The fallback is expired too: carol is refused the same way.
    expect((await execute(w, 'carol')).json).toMatchObject({ error: 'credential_expired', credential_id: 'team_github' });
    expect(w.svc.requests).toHaveLength(0);
  });

  it('Test connection reads GitHub-Authentication-Token-Expiration, replacing what was typed', async () => {
    const w = await world();
    expect((await w.t.api('PATCH', '/workspaces/private/credentials/github_token', w.users.bob.token, { expires_at: '2030-01-01' })).status).toBe(200);
    w.svc.headers['GitHub-Authentication-Token-Expiration'] = '2026-12-31 08:00:00 UTC';
    const r = await w.t.api('POST', '/workspaces/private/credentials/github_token/test', w.users.bob.token, {});
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, account: 'bob-gh', expires_at: '2026-12-31T08:00:00.000Z' });
    expect((await w.t.api('GET', '/workspaces/private/credentials/github_token', w.users.bob.token)).json).toMatchObject({ expires_at: '2026-12-31T08:00:00.000Z', expiry: 'ok' });
    // Without the header: nothing reported, nothing replaced.
    delete w.svc.headers['GitHub-Authentication-Token-Expiration'];
    const again = await w.t.api('POST', '/workspaces/private/credentials/github_token/test', w.users.bob.token, {});
    expect(again.json.expires_at).toBeUndefined();
    expect((await w.t.api('GET', '/workspaces/private/credentials/github_token', w.users.bob.token)).json.expires_at).toBe('2026-12-31T08:00:00.000Z');
    // The page's Test connection does the same.
    w.svc.headers['GitHub-Authentication-Token-Expiration'] = '2027-02-01 00:00:00 UTC';
    expect((await w.t.browser('POST', '/w/private/credentials/github_token/test', { cookie: w.users.bob.cookie, form: {} })).status).toBe(303);
    expect((await w.t.api('GET', '/workspaces/private/credentials/github_token', w.users.bob.token)).json.expires_at).toBe('2027-02-01T00:00:00.000Z');
    await noCanary(w.t, [r.text, again.text]);
  });
});

describe('rate limits', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  it.each([
    { name: 'no headers: no field', headers: {}, rate: undefined },
    {
      name: 'GitHub X-RateLimit-*',
      headers: { 'X-RateLimit-Remaining': '4321', 'X-RateLimit-Limit': '5000', 'X-RateLimit-Reset': String(now / 1000 + 900) },
      rate: { remaining: 4321, limit: 5000, reset_at: '2026-12-01T12:15:00.000Z' },
    },
    { name: 'IETF RateLimit-*', headers: { 'RateLimit-Remaining': '9', 'RateLimit-Limit': '10', 'RateLimit-Reset': '60' }, rate: { remaining: 9, limit: 10, reset_at: '2026-12-01T12:01:00.000Z' } },
    { name: 'Retry-After alone', headers: { 'Retry-After': '30' }, rate: { remaining: 0, limit: null, reset_at: '2026-12-01T12:00:30.000Z' } },
  ])('execute answers carry rate_limit: $name', async ({ headers, rate }) => {
    const w = await world();
    Object.assign(w.svc.headers, headers);
    const r = await execute(w, 'bob');
    expect(r.status).toBe(200);
    expect(r.json.rate_limit).toEqual(rate);
    if (!rate) expect(Object.keys(r.json)).not.toContain('rate_limit');
    // The run panel shows the budget of the credential that ran.
    const panel = await (await w.t.browser('POST', `/w/platform/toolkits/${w.toolkit}/run/get_authenticated_user`, { cookie: w.users.carol.cookie, form: {}, headers: { 'HX-Request': 'true' } })).text();
    if (rate) expect(panel).toContain(`Rate limit of team_github: ${rate.remaining}`);
    else expect(panel).not.toContain('Rate limit');
  });

  it('an upstream_error answer carries rate_limit too', async () => {
    const w = await world();
    await w.t.api('POST', '/workspaces/private/credentials', w.users.bob.token, { name: 'Boom', type: 'http_bearer', fields: { base_url: w.svc.url }, secrets: { token: 'CANARY_boom_x' } });
    const tk = await w.t.api('POST', '/workspaces/private/toolkits', w.users.bob.token, { name: 'Boom', type: 'http', credential: { scope: 'private', credential_id: 'boom' } });
    w.svc.headers['X-RateLimit-Remaining'] = '0';
    w.svc.headers['X-RateLimit-Limit'] = '60';
    const r = await w.t.api('POST', `/workspaces/private/toolkits/${tk.json.id}/execute`, w.users.bob.token, { tool: 'request', input: { method: 'GET', path: '/boom' } });
    expect(r.status).toBe(502);
    expect(r.json).toMatchObject({ error: 'upstream_error', status: 500, rate_limit: { remaining: 0, limit: 60, reset_at: null } });
  });
});

describe('OpenAPI', () => {
  it('describes credential.fallback and expires_at in the body schemas', async () => {
    const w = await world();
    const doc = (await w.t.api('GET', '/openapi.json', null)).json;
    const body = (path: string, method: string) => doc.paths[path][method].requestBody.content['application/json'].schema;
    expect(body('/workspaces/{ws}/toolkits', 'post').properties.credential.properties.fallback).toMatchObject({ anyOf: expect.any(Array) });
    expect(body('/workspaces/{ws}/toolkits/{id}', 'patch').properties.credential.properties).toHaveProperty('fallback');
    expect(body('/workspaces/{ws}/credentials', 'post').properties).toHaveProperty('expires_at');
    expect(body('/workspaces/{ws}/credentials/{credential_id}', 'patch').properties).toHaveProperty('expires_at');
  });
});
