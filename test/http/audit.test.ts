// The audit trail: the chain verifies after a realistic run and names a tampered event; the
// table is append-only; a failed audit write fails the change; who may read what; filters,
// keyset pages, exports (CSV exactly the filtered events, formula-guarded) and the API contract;
// and no secret in any event, export or page.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/store/audit';
import { csvCell, csvLine } from '../../src/domain/csv';
import { parseAuditQuery } from '../../src/domain/audit-query';
import { createTestApp, PASSWORD, type TestApp } from '../helpers/app';
import { startFakeService, type FakeService } from '../helpers/fake-services';

type User = Awaited<ReturnType<TestApp['user']>>;

const HTMX = { 'HX-Request': 'true', 'HX-Target': 'audit-results' };

/** Every event row, raw, as the database holds it. */
function rawEvents(t: TestApp) {
  return t.sql<Record<string, unknown>>('SELECT * FROM audit_events ORDER BY id');
}

/** The message of the error a promise rejects with, and of its causes (drivers' errors come wrapped); '' if it resolves. */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return '';
  } catch (e) {
    const messages: string[] = [];
    for (let x = e as { message?: unknown; cause?: unknown } | undefined; x; x = x.cause as typeof x) messages.push(String(x.message));
    return messages.join('\n');
  }
}

/** Turns the append-only guard against UPDATE off (a tamperer with raw access) or back on. */
async function updateGuard(t: TestApp, on: boolean) {
  if (t.engine.dialect === 'pg') await t.exec(`ALTER TABLE audit_events ${on ? 'ENABLE' : 'DISABLE'} TRIGGER audit_events_no_update`);
  else if (on) await t.exec(`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`);
  else await t.exec('DROP TRIGGER audit_events_no_update');
}

/** Makes every INSERT into audit_events fail (on = true) or work again. */
async function refuseAuditInserts(t: TestApp, on: boolean) {
  if (t.engine.dialect === 'pg') {
    if (on) {
      await t.exec(`CREATE FUNCTION audit_refuses() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'x'; END; $$`);
      await t.exec('CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_refuses()');
    } else {
      await t.exec('DROP TRIGGER audit_refuses ON audit_events');
      await t.exec('DROP FUNCTION audit_refuses()');
    }
  } else if (on) await t.exec(`CREATE TEMP TRIGGER audit_refuses BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'x'); END`);
  else await t.exec('DROP TRIGGER audit_refuses');
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF) into rows of cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    } else cell += ch;
  }
  if (cell || row.length) row.push(cell), rows.push(row);
  return rows;
}

/** Reads every page of GET /api/v1/audit with these filters; returns the events, newest first. */
async function allApiEvents(t: TestApp, token: string, qs: string) {
  const events: any[] = [];
  let before: number | null = null;
  for (;;) {
    const r = await t.api('GET', `/audit?${qs}&limit=7${before ? `&before=${before}` : ''}`, token);
    expect(r.status).toBe(200);
    events.push(...r.json.events);
    if (r.json.next_before === null) return events;
    before = r.json.next_before;
  }
}

describe('the audit chain', () => {
  let t: TestApp;
  let svc: FakeService;
  let alice: User;
  let bob: User;

  beforeAll(async () => {
    svc = await startFakeService({ tokens: { 'ghp_alice_run_token': 'alice-gh' } });
    t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
    alice = await t.user('alice');
    bob = await t.user('bob');
    // A realistic run: a project and its members, credentials changed and deleted, a toolkit
    // created, re-pointed and run (successes and failures), failed sign-ins, tokens, admin work.
    expect((await t.api('POST', '/projects', alice.token, { name: 'Platform' })).status).toBe(201);
    expect((await t.api('POST', '/projects/platform/members', alice.token, { username: 'bob', role: 'viewer' })).status).toBe(201);
    expect((await t.api('PATCH', '/projects/platform/members/bob', alice.token, { role: 'editor' })).status).toBe(200);
    expect((await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'GitHub Token', type: 'github', fields: { base_url: svc.url }, secrets: { token: 'ghp_alice_run_token' } })).status).toBe(201);
    expect((await t.api('POST', '/workspaces/platform/credentials', alice.token, { name: 'Shared', type: 'github', fields: { base_url: svc.url }, secrets: { token: 'ghp_shared' } })).status).toBe(201);
    expect((await t.api('PATCH', '/workspaces/platform/credentials/shared', alice.token, { secrets: { token: 'ghp_shared_2' } })).status).toBe(200);
    const tk = await t.api('POST', '/workspaces/platform/toolkits', alice.token, { name: 'GitHub', type: 'github', settings: {}, credential: { scope: 'project', credential_id: 'shared' } });
    expect(tk.status).toBe(201);
    expect((await t.api('PATCH', `/workspaces/platform/toolkits/${tk.json.id}`, alice.token, { credential: { scope: 'private', credential_id: 'github_token' } })).status).toBe(200);
    expect((await t.api('DELETE', '/workspaces/platform/credentials/shared', alice.token)).status).toBe(204);
    for (let i = 0; i < 3; i++) expect((await t.api('POST', `/workspaces/platform/toolkits/${tk.json.id}/execute`, alice.token, { tool: 'get_authenticated_user', input: {} })).status).toBe(200);
    expect((await t.api('POST', `/workspaces/platform/toolkits/${tk.json.id}/execute`, bob.token, { tool: 'get_authenticated_user', input: {} })).status).toBe(422);
    await t.browser('POST', '/login', { form: { username: 'bob', password: 'not the password' } });
    await t.browser('POST', '/login', { form: { username: 'nobody', password: 'not the password' } });
    await t.browser('POST', '/admin/users', { cookie: alice.cookie, form: { username: 'carol', password: PASSWORD } });
  });
  afterAll(async () => {
    await t.close();
    await svc.close();
  });

  it('verifies after a realistic run, and the page says through which event', async () => {
    const events = await rawEvents(t);
    const actions = new Set(events.map((e) => e.action));
    for (const a of ['user.signup', 'user.login_failed', 'project.create', 'member.add', 'member.role_change', 'credential.create', 'credential.update', 'credential.delete', 'toolkit.create', 'toolkit.credential_change', 'toolkit.execute', 'user.create']) {
      expect(actions, a).toContain(a);
    }
    const result = await verifyAuditChain(t.deps.store);
    expect(result).toMatchObject({ ok: true, count: events.length });

    const page = await t.browser('GET', '/admin/audit', { cookie: alice.cookie });
    expect(await page.text()).toContain('Hash chain not verified since the server started');
    const verified = await t.browser('POST', '/admin/audit/verify', { cookie: alice.cookie, headers: { 'HX-Request': 'true' }, form: {} });
    expect(verified.status).toBe(200);
    const last = events.length;
    expect(await verified.text()).toContain(`Chain verified through event ${last}`);
    // New events are verified from the cached checkpoint onwards.
    await t.api('POST', '/workspaces/private/credentials', bob.token, { name: 'Later', type: 'github', secrets: { token: 'x' } });
    expect(await (await t.browser('GET', '/admin/audit', { cookie: alice.cookie })).text()).toContain('1 newer event not checked yet');
    const again = await t.browser('POST', '/admin/audit/verify', { cookie: alice.cookie, headers: { 'HX-Request': 'true' }, form: {} });
    expect(await again.text()).toContain(`Chain verified through event ${last + 1}`);
  });

  it('finds an event changed directly in the database and names its id', async () => {
    const row = (await t.sqlOne<{ id: number; details_json: string }>(`SELECT id, details_json FROM audit_events WHERE action = 'toolkit.execute' ORDER BY id LIMIT 1`))!;
    const victim = row.id;
    const tampered = JSON.parse(row.details_json);
    expect(tampered.tool).toBe('get_authenticated_user');
    tampered.tool = 'list_repositories';
    await updateGuard(t, false);
    try {
      await t.exec('UPDATE audit_events SET details_json = ? WHERE id = ?', [JSON.stringify(tampered), victim]);
      const result = await verifyAuditChain(t.deps.store);
      expect(result).toMatchObject({ ok: false, brokenId: victim, reason: 'its content does not match its hash' });
      // The incremental Verify continues from its checkpoint (past the victim); re-checking from
      // the start finds it.
      const full = await t.browser('POST', '/admin/audit/verify', { cookie: alice.cookie, headers: { 'HX-Request': 'true' }, form: { full: '1' } });
      const html = await full.text();
      expect(html).toContain(`Chain broken at event ${victim}`);
      expect(html).toContain('its content does not match its hash');
      expect(await (await t.browser('GET', '/admin/audit', { cookie: alice.cookie })).text()).toContain(`Chain broken at event ${victim}`);
    } finally {
      await t.exec('UPDATE audit_events SET details_json = ? WHERE id = ?', [row.details_json, victim]);
      await updateGuard(t, true);
    }
    expect((await verifyAuditChain(t.deps.store)).ok).toBe(true);
  });

  it('refuses UPDATE and DELETE through its triggers', async () => {
    expect(await failure(t.exec(`UPDATE audit_events SET outcome = 'failure' WHERE id = 1`))).toMatch(/append-only/);
    expect(await failure(t.exec('DELETE FROM audit_events WHERE id = 1'))).toMatch(/append-only/);
    expect(await failure(t.exec('DELETE FROM audit_events'))).toMatch(/append-only/);
    if (t.engine.dialect === 'pg') expect(await failure(t.exec('TRUNCATE audit_events'))).toMatch(/append-only/);
    expect((await t.sqlOne<{ outcome: string }>(`SELECT outcome FROM audit_events WHERE id = 1`))!.outcome).toBe('success');
    expect((await rawEvents(t)).length).toBeGreaterThan(1);
  });

  it('fails the change, with nothing saved, when its audit event cannot be written', async () => {
    const before = (await rawEvents(t)).length;
    await refuseAuditInserts(t, true);
    try {
      const r = await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'Unaudited', type: 'github', secrets: { token: 'ghp_never_saved' } });
      expect(r.status).toBe(500);
      expect(r.json.error).toBe('internal_error');
      const project = await t.api('POST', '/projects', alice.token, { name: 'Unaudited project' });
      expect(project.status).toBe(500);
    } finally {
      await refuseAuditInserts(t, false);
    }
    expect(await t.sqlOne(`SELECT count(*) AS n FROM credentials WHERE credential_id = 'unaudited'`)).toEqual({ n: 0 });
    expect(await t.sqlOne(`SELECT count(*) AS n FROM workspaces WHERE name = 'Unaudited project'`)).toEqual({ n: 0 });
    expect(await rawEvents(t)).toHaveLength(before);
    // Once events can be written again, the same request succeeds and is recorded.
    expect((await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'Unaudited', type: 'github', secrets: { token: 'ghp_saved_now' } })).status).toBe(201);
    expect(await rawEvents(t)).toHaveLength(before + 1);
    expect((await verifyAuditChain(t.deps.store)).ok).toBe(true);
  });
});

describe('who may read the audit log', () => {
  let t: TestApp;
  let alice: User; // instance admin
  let carol: User; // admin of Data only
  let dave: User; // editor of Data, admin of nothing
  let erin: User; // in no project

  beforeAll(async () => {
    t = await createTestApp();
    alice = await t.user('alice');
    carol = await t.user('carol');
    dave = await t.user('dave');
    erin = await t.user('erin');
    await t.api('POST', '/projects', alice.token, { name: 'Platform' });
    await t.api('POST', '/projects', carol.token, { name: 'Data' });
    await t.api('POST', '/projects/data/members', carol.token, { username: 'dave', role: 'editor' });
    await t.api('POST', '/projects/platform/members', alice.token, { username: 'dave', role: 'admin' });
    await t.api('DELETE', '/projects/platform/members/dave', alice.token);
    // Losing the role ended his sessions: sign in again.
    dave = { ...dave, cookie: await t.session('dave') };
    await t.api('POST', '/workspaces/data/credentials', dave.token, { name: 'Data Token', type: 'github', secrets: { token: 't1' } });
    await t.api('POST', '/workspaces/platform/credentials', alice.token, { name: 'Platform Token', type: 'github', secrets: { token: 't2' } });
    await t.api('POST', '/workspaces/private/credentials', carol.token, { name: 'Mine', type: 'github', secrets: { token: 't3' } });
  });
  afterAll(() => t.close());

  it('answers 403 to everyone who administers nothing: page, fragment, details, export and API', async () => {
    for (const u of [dave, erin]) {
      for (const url of ['/admin/audit', '/admin/audit?actor=alice', '/admin/audit/events/1', '/admin/audit/export.csv', '/admin/audit/export.jsonl']) {
        const res = await t.browser(url.includes('export') ? 'POST' : 'GET', url, { cookie: u.cookie, headers: url.includes('actor') ? HTMX : {} });
        expect(res.status, `${u.username} ${url}`).toBe(403);
        expect(await res.text()).not.toContain('project.create');
      }
      const api = await t.api('GET', '/audit', u.token);
      expect(api.status).toBe(403);
      expect(api.json).toMatchObject({ error: 'forbidden' });
      expect((await t.browser('POST', '/admin/audit/verify', { cookie: u.cookie, form: {} })).status).toBe(403);
      // No sidebar link for them either.
      expect(await (await t.browser('GET', '/settings', { cookie: u.cookie })).text()).not.toContain('href="/admin/audit"');
    }
    expect((await t.api('GET', '/audit', null)).status).toBe(401);
    expect((await t.browser('GET', '/admin/audit')).status).toBe(303);
  });

  it('shows a project admin only the events of the projects they administer', async () => {
    const all = await allApiEvents(t, alice.token, '');
    const mine = await allApiEvents(t, carol.token, '');
    expect(mine.length).toBeGreaterThan(0);
    expect(new Set(mine.map((e) => e.workspace))).toEqual(new Set(['data']));
    expect(mine.map((e) => e.id)).toEqual(all.filter((e) => e.workspace === 'data').map((e) => e.id));
    // Asking for another project, for Private workspaces or for account events gives nothing.
    for (const qs of ['workspace=platform', 'workspace=private', 'action=user.signup', 'actor=alice']) {
      const r = await t.api('GET', `/audit?${qs}`, carol.token);
      expect(r.status, qs).toBe(200);
      expect(r.json.events, qs).toEqual([]);
    }
    // dave's activity, seen by carol, is only what he did in Data.
    const daves = await allApiEvents(t, carol.token, 'actor=dave');
    expect(daves.map((e) => e.action)).toEqual(['credential.create']);
    expect((await allApiEvents(t, alice.token, 'actor=dave')).length).toBeGreaterThan(1);

    // The page: a sidebar link, the scope in the subtitle, only Data's events, 404 for others' details.
    const page = await (await t.browser('GET', '/admin/audit', { cookie: carol.cookie })).text();
    expect(page).toContain('href="/admin/audit"');
    expect(page).toContain('Events of the projects you administer: Data.');
    expect(page).not.toContain('Hash chain');
    expect(page).not.toContain('platform_token');
    expect(page).toContain('data_token');
    const platformEvent = all.find((e) => e.workspace === 'platform')!;
    expect((await t.browser('GET', `/admin/audit/events/${platformEvent.id}`, { cookie: carol.cookie })).status).toBe(404);
    const dataEvent = mine[0];
    const details = await t.browser('GET', `/admin/audit/events/${dataEvent.id}`, { cookie: carol.cookie, headers: { 'HX-Request': 'true' } });
    expect(details.status).toBe(200);
    expect(await details.text()).toContain('<dialog');
    // Exports hold the same scoped events.
    const csv = parseCsv(await (await t.browser('POST', '/admin/audit/export.csv', { cookie: carol.cookie })).text());
    expect(csv.slice(1).map((r) => Number(r[0]))).toEqual(mine.map((e) => e.id));
    // Only instance admins verify the chain.
    expect((await t.browser('POST', '/admin/audit/verify', { cookie: carol.cookie, form: {} })).status).toBe(403);
  });
});

describe('filters, pages and exports', () => {
  let t: TestApp;
  let clock = Date.parse('2026-03-01T10:00:00Z');
  let alice: User;
  let bob: User;

  beforeAll(async () => {
    t = await createTestApp({ now: () => clock });
    alice = await t.user('alice');
    bob = await t.user('bob');
    await t.api('POST', '/projects', alice.token, { name: 'Platform' });
    await t.api('POST', '/projects/platform/members', alice.token, { username: 'bob', role: 'editor' });
    // Twelve days of activity, with names that need CSV quoting.
    for (let day = 0; day < 12; day++) {
      clock = Date.parse('2026-03-02T09:00:00Z') + day * 86_400_000;
      const who = day % 3 === 0 ? bob : alice;
      const ws = day % 2 ? 'platform' : 'private';
      const r = await t.api('POST', `/workspaces/${ws}/credentials`, who.token, { name: `Token "${day}", for =SUM(A1)`, type: 'github', credential_id: `token_${day}`, secrets: { token: `s${day}` } });
      expect(r.status).toBe(201);
    }
    clock = Date.parse('2026-03-20T12:00:00Z');
  });
  afterAll(() => t.close());
  afterEach(() => {
    clock += 1000;
  });

  it('answers the API contract: shape, order, limit, keyset pages', async () => {
    const first = await t.api('GET', '/audit', alice.token);
    expect(first.status).toBe(200);
    expect(Object.keys(first.json).sort()).toEqual(['events', 'next_before']);
    const e = first.json.events[0];
    expect(Object.keys(e).sort()).toEqual(['action', 'actor', 'at', 'details', 'id', 'outcome', 'target', 'workspace']);
    expect(e.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const ids = first.json.events.map((x: any) => x.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(first.json.events.length).toBeLessThanOrEqual(50);

    const all = await allApiEvents(t, alice.token, '');
    expect(all.map((x) => x.id)).toEqual(Array.from({ length: all.length }, (_, i) => all.length - i));
    const two = await t.api('GET', `/audit?limit=2&before=${all[3].id}`, alice.token);
    expect(two.json.events.map((x: any) => x.id)).toEqual([all[4].id, all[5].id]);
    expect(two.json.next_before).toBe(all[5].id);
    const last = await t.api('GET', `/audit?limit=500&before=3`, alice.token);
    expect(last.json).toEqual({ events: [expect.objectContaining({ id: 2 }), expect.objectContaining({ id: 1 })], next_before: null });

    const cred = all.find((x) => x.action === 'credential.create' && x.workspace === 'platform');
    expect(cred).toMatchObject({ actor: expect.any(String), workspace: 'platform', target: expect.stringMatching(/^credential:token_\d+$/), outcome: 'success' });
    expect(cred.details).toMatchObject({ scope: 'project', type: 'github', secrets: ['token'] });
    expect(all.find((x) => x.action === 'user.signup')).toMatchObject({ workspace: null });
  });

  it('filters by actor, workspace, action, outcome and time range', async () => {
    const bobs = await allApiEvents(t, alice.token, 'actor=bob');
    expect(bobs.length).toBeGreaterThan(0);
    expect(bobs.every((x) => x.actor === 'bob')).toBe(true);
    expect((await allApiEvents(t, alice.token, 'actor=BOB')).length).toBe(bobs.length);

    const privateOnes = await allApiEvents(t, alice.token, 'workspace=private&action=credential.create');
    expect(privateOnes).toHaveLength(6);
    expect(privateOnes.every((x) => x.workspace === 'private')).toBe(true);
    const alicePrivate = await allApiEvents(t, alice.token, 'workspace=private&actor=alice&action=credential.create');
    expect(alicePrivate.map((x) => x.target)).toEqual(['credential:token_10', 'credential:token_8', 'credential:token_4', 'credential:token_2']);
    const platform = await allApiEvents(t, alice.token, 'workspace=platform&action=credential.create');
    expect(platform).toHaveLength(6);

    // Days are whole UTC days, both ends included; date-times are exact.
    const range = await allApiEvents(t, alice.token, 'action=credential.create&since=2026-03-04&until=2026-03-06');
    expect(range.map((x) => x.target)).toEqual(['credential:token_4', 'credential:token_3', 'credential:token_2']);
    const exact = await allApiEvents(t, alice.token, 'action=credential.create&since=2026-03-04T09:00:00.001Z&until=2026-03-06T09:00:00Z');
    expect(exact.map((x) => x.target)).toEqual(['credential:token_4', 'credential:token_3']);
    expect(await allApiEvents(t, alice.token, 'since=2030-01-01')).toEqual([]);
    expect(await allApiEvents(t, alice.token, 'outcome=denied')).toEqual([]);
    expect((await allApiEvents(t, alice.token, 'outcome=success')).length).toBe((await allApiEvents(t, alice.token, '')).length);
    expect(await allApiEvents(t, alice.token, 'workspace=no-such-project')).toEqual([]);
    expect(await allApiEvents(t, alice.token, 'actor=nobody')).toEqual([]);
  });

  it('answers bad parameters with 400 invalid_input and a message per field', async () => {
    const cases: [string, string][] = [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['before=-4', 'before'],
      ['before=abc', 'before'],
      ['since=yesterday', 'since'],
      ['until=2026-02-30', 'until'],
      ['since=2026-03-05&until=2026-03-01', 'until'],
      ['outcome=maybe', 'outcome'],
      ['workspace=Not A Slug!', 'workspace'],
      ['action=DROP TABLE', 'action'],
    ];
    for (const [qs, field] of cases) {
      const r = await t.api('GET', `/audit?${qs.replace(/ /g, '%20')}`, alice.token);
      expect(r.status, qs).toBe(400);
      expect(r.json.error).toBe('invalid_input');
      expect(Object.keys(r.json.fields), qs).toEqual([field]);
      expect(typeof r.json.message).toBe('string');
    }
    expect((await t.api('GET', '/audit?limit=500', alice.token)).status).toBe(200);
    // The page shows the same messages next to the fields, with no events.
    const page = await t.browser('GET', '/admin/audit?since=yesterday', { cookie: alice.cookie });
    expect(page.status).toBe(400);
    const html = await page.text();
    expect(html).toContain('Some filters are not valid');
    expect(html).toContain('<strong>Since:</strong>');
    expect(html).toContain('Give an ISO 8601 date');
  });

  it('exports exactly the filtered events as CSV and JSON lines, streamed and formula-safe', async () => {
    const qs = 'workspace=platform&action=credential.create&since=2026-03-04';
    const expected = await allApiEvents(t, alice.token, qs);
    expect(expected.length).toBe(5);
    const res = await t.browser('POST', `/admin/audit/export.csv?${qs}`, { cookie: alice.cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="latchkey-audit-[\d-]+\.csv"$/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const text = await res.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(['id', 'at', 'actor', 'workspace', 'action', 'target', 'outcome', 'details']);
    expect(rows.slice(1).map((r) => Number(r[0]))).toEqual(expected.map((e) => e.id));
    for (const [i, e] of expected.entries()) {
      const r = rows[i + 1];
      expect(r).toEqual([String(e.id), e.at, e.actor, e.workspace, e.action, e.target, e.outcome, JSON.stringify(e.details)]);
      expect(JSON.parse(r[7]).name).toMatch(/^Token "\d+", for =SUM\(A1\)$/);
    }

    const jsonl = await t.browser('POST', `/admin/audit/export.jsonl?${qs}`, { cookie: alice.cookie });
    expect(jsonl.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    const lines = (await jsonl.text()).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(expected);

    // The export itself is recorded (who took a copy of the log, and with which filters).
    const exports = await allApiEvents(t, alice.token, 'action=audit.export');
    expect(exports[0]).toMatchObject({ actor: 'alice', details: { format: 'jsonl', filters: { workspace: 'platform', action: 'credential.create', since: '2026-03-04' } } });
    // Bad filters are refused rather than exporting everything.
    expect((await t.browser('POST', '/admin/audit/export.csv?since=soon', { cookie: alice.cookie })).status).toBe(400);
  });

  it('exports more events than one chunk without losing or repeating any', async () => {
    const { appendAudit } = await import('../../src/store/audit');
    const { writeTx } = await import('../../src/store/store');
    await writeTx(t.deps.store, async (tx) => {
      for (let i = 0; i < 2500; i++) await appendAudit(t.deps.store, tx, { actor: { id: bob.id, username: 'bob' }, workspace: null, action: 'user.login', target: 'user:bob' });
    });
    const csv = parseCsv(await (await t.browser('POST', '/admin/audit/export.csv?action=user.login', { cookie: alice.cookie })).text());
    const ids = csv.slice(1).map((r) => Number(r[0]));
    expect(ids).toHaveLength(2500);
    expect(new Set(ids).size).toBe(2500);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  it('guards CSV cells against formula injection and quotes what needs quoting', () => {
    expect(csvCell('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tcmd')).toBe("'\tcmd");
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(null)).toBe('');
    expect(csvCell(42)).toBe('42');
    expect(csvLine(['a', null, 'b"c'])).toBe('a,,"b""c"\r\n');
  });

  it('applies filters as an htmx fragment with a clean, shareable URL, and pages with Older', async () => {
    const res = await t.browser('GET', '/admin/audit?actor=alice&workspace=&action=credential.create&outcome=&since=&until=', { cookie: alice.cookie, headers: HTMX });
    expect(res.status).toBe(200);
    expect(res.headers.get('hx-push-url')).toBe('/admin/audit?actor=alice&action=credential.create');
    expect(res.headers.get('vary')).toContain('HX-Request');
    const html = await res.text();
    expect(html.startsWith('<div id="audit-results"')).toBe(true);
    expect(html).not.toContain('<html');
    expect(html).toContain('Activity of alice');
    expect(html).toContain('action="/admin/audit/export.csv?actor=alice&amp;action=credential.create"');

    // Keyset pages of the page itself: 50 a page, "Older" carries before=<last id shown>.
    const { appendAudit } = await import('../../src/store/audit');
    const { writeTx } = await import('../../src/store/store');
    await writeTx(t.deps.store, async (tx) => {
      for (let i = 0; i < 60; i++) await appendAudit(t.deps.store, tx, { actor: { id: bob.id, username: 'bob' }, workspace: null, action: 'token.create', target: `token:${i}` });
    });
    const p1 = await (await t.browser('GET', '/admin/audit?action=token.create', { cookie: alice.cookie })).text();
    const older = /href="\/admin\/audit\?action=token.create&amp;before=(\d+)"/.exec(p1);
    expect(older).not.toBeNull();
    expect((p1.match(/<tr id="event-/g) ?? []).length).toBe(50);
    const p2 = await (await t.browser('GET', `/admin/audit?action=token.create&before=${older![1]}`, { cookie: alice.cookie, headers: HTMX })).text();
    expect((p2.match(/<tr id="event-/g) ?? []).length).toBeGreaterThanOrEqual(10);
    expect(p2).toContain('Newest');
    expect(p2).toContain('Start of the log');
  });

  it('links every actor name to their activity and shows one event’s details', async () => {
    const html = await (await t.browser('GET', '/admin/audit?action=credential.create', { cookie: alice.cookie })).text();
    expect(html).toContain('href="/admin/audit?actor=bob"');
    expect(html).toContain('href="/admin/audit?actor=alice"');
    const person = await (await t.browser('GET', '/admin/audit?actor=bob', { cookie: alice.cookie })).text();
    expect(person).toContain('Activity of bob');
    expect(person).not.toMatch(/<td><a class="actor-link" href="\/admin\/audit\?actor=alice"/);

    const id = (await t.api('GET', '/audit?action=credential.create&limit=1', alice.token)).json.events[0].id;
    const dialog = await t.browser('GET', `/admin/audit/events/${id}`, { cookie: alice.cookie, headers: { 'HX-Request': 'true' } });
    const d = await dialog.text();
    expect(d).toContain('<dialog data-open-modal');
    expect(d).toContain(`Event ${id}`);
    expect(d).toMatch(/[0-9a-f]{64}/);
    const full = await t.browser('GET', `/admin/audit/events/${id}`, { cookie: alice.cookie });
    expect(await full.text()).toContain('<html');
    expect((await t.browser('GET', '/admin/audit/events/999999', { cookie: alice.cookie })).status).toBe(404);
    expect((await t.browser('GET', '/admin/audit/events/abc', { cookie: alice.cookie })).status).toBe(404);
  });

  it('parses filters as the contract says', () => {
    const get = (q: Record<string, string>) => (k: string) => q[k];
    const ok = parseAuditQuery(get({ actor: ' Bob ', since: '2026-01-02', until: '2026-01-02', limit: '500' }), { defaultLimit: 50, maxLimit: 500 });
    expect(ok).toMatchObject({ ok: true, query: { actor: 'bob', since: Date.parse('2026-01-02T00:00:00Z'), until: Date.parse('2026-01-03T00:00:00Z') - 1, limit: 500 } });
    expect(parseAuditQuery(get({}), { defaultLimit: 50, maxLimit: 500 })).toMatchObject({ ok: true, query: { limit: 50 } });
    expect(parseAuditQuery(get({ since: '2026-01-02T10:00:00+02:00' }), { defaultLimit: 50, maxLimit: 500 })).toMatchObject({ ok: true, query: { since: Date.parse('2026-01-02T08:00:00Z') } });
  });
});

describe('no secret in any event', () => {
  it('keeps canary secrets and passwords out of the log, its exports, the API and the page', async () => {
    const svc = await startFakeService({ tokens: { 'CANARY-ghp-1f2e3d4c5b6a': 'alice-gh' } });
    const t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
    try {
      const alice = await t.user('alice');
      const canaries = ['CANARY-ghp-1f2e3d4c5b6a', 'CANARY-updated-9a8b7c6d', 'CANARY-project-0a1b2c3d', 'CANARY-basic-pass-55aa', 'CANARY-header-77bb', 'CANARY-userpass-4455667788', 'CANARY-resetpass-99887766'];
      await t.api('POST', '/projects', alice.token, { name: 'Platform' });
      await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'GitHub Token', type: 'github', fields: { base_url: svc.url }, secrets: { token: canaries[0] } });
      await t.api('POST', '/workspaces/platform/credentials', alice.token, { name: 'Shared', type: 'github', fields: { base_url: svc.url }, secrets: { token: canaries[2] } });
      await t.api('PATCH', '/workspaces/platform/credentials/shared', alice.token, { secrets: { token: canaries[1] } });
      await t.api('POST', '/workspaces/platform/credentials', alice.token, { name: 'Basic', type: 'http_basic', fields: { base_url: svc.url, username: 'svc' }, secrets: { password: canaries[3] } });
      await t.api('POST', '/workspaces/platform/credentials', alice.token, { name: 'Header', type: 'http_header', fields: { base_url: `${svc.url}/echo`, header_name: 'X-Api-Key' }, secrets: { value: canaries[4] } });
      const tk = await t.api('POST', '/workspaces/platform/toolkits', alice.token, { name: 'GitHub', type: 'github', settings: {}, credential: { scope: 'private', credential_id: 'github_token' } });
      await t.api('POST', `/workspaces/platform/toolkits/${tk.json.id}/execute`, alice.token, { tool: 'get_authenticated_user', input: {} });
      const echo = await t.api('POST', '/workspaces/platform/toolkits', alice.token, { name: 'Echo', type: 'http', settings: {}, credential: { scope: 'project', credential_id: 'header' } });
      await t.api('POST', `/workspaces/platform/toolkits/${echo.json.id}/execute`, alice.token, { tool: 'request', input: { method: 'GET', path: '/' } });
      await t.browser('POST', '/admin/users', { cookie: alice.cookie, form: { username: 'carol', password: canaries[5] } });
      await t.browser('POST', '/admin/users/carol/password', { cookie: alice.cookie, form: { password: canaries[6] } });
      await t.browser('POST', '/login', { form: { username: 'carol', password: canaries[5] } });
      await t.api('DELETE', '/workspaces/platform/credentials/basic', alice.token);

      const actions = (await rawEvents(t)).map((e) => e.action);
      expect(actions).toEqual(expect.arrayContaining(['credential.create', 'credential.update', 'credential.delete', 'toolkit.execute', 'user.create', 'user.password_reset', 'user.login_failed']));
      const surfaces: [string, string][] = [
        ['database rows', JSON.stringify(await rawEvents(t))],
        ['api', JSON.stringify(await allApiEvents(t, alice.token, ''))],
        ['csv', await (await t.browser('POST', '/admin/audit/export.csv', { cookie: alice.cookie })).text()],
        ['jsonl', await (await t.browser('POST', '/admin/audit/export.jsonl', { cookie: alice.cookie })).text()],
        ['page', await (await t.browser('GET', '/admin/audit', { cookie: alice.cookie })).text()],
        ['logs', t.logs.join('\n')],
      ];
      for (const e of await rawEvents(t)) surfaces.push([`details ${e.id}`, await (await t.browser('GET', `/admin/audit/events/${e.id}`, { cookie: alice.cookie })).text()]);
      for (const [where, text] of surfaces) {
        for (const c of canaries) expect(text.includes(c), `${c} in ${where}`).toBe(false);
        expect(text).not.toMatch(/CANARY-/);
      }
    } finally {
      await t.close();
      await svc.close();
    }
  });
});
