// The services' typed results, called directly on a real migrated database (no HTTP): what each
// use case answers for its expected failures, that a failed step leaves nothing half-written,
// and that a run whose credential vanishes mid-run is audited like every other run.
import { describe, expect, it } from 'vitest';
import { getToolkit } from '../../src/store/toolkits';
import { findWorkspace } from '../../src/store/workspaces';
import { getCredential } from '../../src/store/credentials';
import { verifyAuditChain } from '../../src/store/audit';
import { runToolkit } from '../../src/services/run-toolkit';
import { saveCredential } from '../../src/services/save-credential';
import { saveToolkit } from '../../src/services/save-toolkit';
import { changeMembership, createProject } from '../../src/services/change-membership';
import { createApiToken } from '../../src/services/create-api-token';
import { project, useScenario } from '../helpers/scenario';
import type { TestApp } from '../helpers/app';

const s = useScenario();
const SECRET = 'ghp_CANARY_SERVICES_93ad';

async function setup() {
  const t = await s.fresh({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
  const svc = await s.fake({ [SECRET]: 'alice-gh' });
  const alice = await t.user('alice');
  const bob = await t.user('bob');
  await project(t, alice, 'Platform', [[bob, 'viewer']]);
  const ws = async (u: { id: string }, ref: string) => (await findWorkspace(t.deps.store, u.id, ref))!;
  return { t, svc, alice, bob, ws };
}

const count = async (t: TestApp, table: string) => (await t.sqlOne<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n;

/** Makes the database itself refuse to insert an audit event with this action (a trigger), on either engine. */
async function refuseAudit(t: TestApp, action: string) {
  if (t.engine.dialect === 'pg') {
    await t.exec(
      `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.action = '${action}' THEN RAISE EXCEPTION 'audit refused'; END IF; RETURN NEW; END $$`,
    );
    await t.exec('CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()');
  } else {
    await t.exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events WHEN NEW.action = '${action}' BEGIN SELECT RAISE(ABORT, 'audit refused'); END`);
  }
}

/** The messages of an error and of its causes, one per line. */
function causes(err: unknown): string {
  const out: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) out.push(String(e.message));
  return out.join('\n');
}

async function allowAudit(t: TestApp) {
  if (t.engine.dialect === 'pg') {
    await t.exec('DROP TRIGGER refuse_audit ON audit_events');
    await t.exec('DROP FUNCTION refuse_audit()');
  } else {
    await t.exec('DROP TRIGGER refuse_audit');
  }
}

describe('runToolkit', () => {
  it('audits a run whose private credential was just deleted: setup required, the service never called', async () => {
    // A run reads its credential once, with the sealed columns (src/store/toolkits.ts
    // findRunCandidates): a credential deleted before that read is simply not there.
    const { t, svc, alice, ws } = await setup();
    const own = await ws(alice, 'private');
    const made = await saveCredential(t.deps, { actor: alice, ws: own }, { op: 'create', name: 'GitHub Token', type: 'github', credentialId: null, fields: { base_url: svc.url }, secrets: { token: SECRET } });
    expect(made.ok).toBe(true);
    const platform = await ws(alice, 'platform');
    const created = await saveToolkit(t.deps, alice, platform, { op: 'create', body: { name: 'GitHub', type: 'github', settings: {}, credential: { scope: 'private', credential_id: 'github_token' } } });
    if (!created.ok) throw new Error(created.reason);
    const gone = await saveCredential(t.deps, { actor: alice, ws: own }, { op: 'delete', existing: (await getCredential(t.deps.store, own, 'github_token'))! });
    expect(gone.ok).toBe(true);

    const result = await runToolkit(t.deps, { user: alice, ws: platform, toolkit: created.toolkit, tool: 'get_authenticated_user', input: {} });
    expect(result).toMatchObject({ ok: false, reason: 'setup_required', credentialId: 'github_token', tool: 'get_authenticated_user' });
    expect(svc.requests).toHaveLength(0);
    const events = await t.sql<{ actor: string; outcome: string; details_json: string }>("SELECT actor, outcome, details_json FROM audit_events WHERE action = 'toolkit.execute'");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'alice', outcome: 'failure' });
    expect(JSON.parse(events[0].details_json)).toMatchObject({ tool: 'get_authenticated_user', error: 'setup_required', credential: { scope: 'private', credential_id: 'github_token' } });
    expect(events[0].details_json).not.toContain(SECRET);
  });

  it('writes the origin of an MCP run into the audit event', async () => {
    const { t, svc, alice, ws } = await setup();
    const own = await ws(alice, 'private');
    await saveCredential(t.deps, { actor: alice, ws: own }, { op: 'create', name: 'GitHub Token', type: 'github', credentialId: null, fields: { base_url: svc.url }, secrets: { token: SECRET } });
    const created = await saveToolkit(t.deps, alice, own, { op: 'create', body: { name: 'GitHub', type: 'github', settings: {}, credential: { scope: 'private', credential_id: 'github_token' } } });
    if (!created.ok) throw new Error(created.reason);
    const r = await runToolkit(t.deps, { user: alice, ws: own, toolkit: created.toolkit, tool: 'get_authenticated_user', input: {}, origin: { via: 'mcp', client: 'Claude Desktop' } });
    expect(r.ok).toBe(true);
    const e = (await t.sqlOne<{ details_json: string }>("SELECT details_json FROM audit_events WHERE action = 'toolkit.execute'"))!;
    expect(JSON.parse(e.details_json)).toMatchObject({ via: 'mcp', client: 'Claude Desktop', credential: { owner: 'alice' } });
  });
});

describe('saveCredential', () => {
  it('rolls back entirely when a step fails: no row, no key, no event', async () => {
    const { t, alice, ws } = await setup();
    const own = await ws(alice, 'private');
    const before = { credentials: await count(t, 'credentials'), events: await count(t, 'audit_events') };
    // A real failure inside the transaction: the audit insert is refused by the database.
    await refuseAudit(t, 'credential.create');
    const failed = await saveCredential(t.deps, { actor: alice, ws: own }, { op: 'create', name: 'GitHub Token', type: 'github', credentialId: null, fields: {}, secrets: { token: SECRET } }).then(
      () => null,
      (err: unknown) => err,
    );
    // The database's own refusal, possibly wrapped by the driver (drizzle's "Failed query" on PostgreSQL).
    expect(causes(failed)).toMatch(/audit refused/);
    expect(await count(t, 'credentials')).toBe(before.credentials);
    expect(await count(t, 'audit_events')).toBe(before.events);
    await allowAudit(t);
    expect((await verifyAuditChain(t.deps.store)).ok).toBe(true);
    // The same input then saves: nothing of the failed attempt was left behind to clash with.
    expect(await saveCredential(t.deps, { actor: alice, ws: own }, { op: 'create', name: 'GitHub Token', type: 'github', credentialId: null, fields: {}, secrets: { token: SECRET } })).toMatchObject({
      ok: true,
      credential: { credentialId: 'github_token' },
    });
  });

  it('answers its expected failures as values, never with a secret', async () => {
    const { t, alice, bob, ws } = await setup();
    const own = await ws(alice, 'private');
    const platformAsBob = await ws(bob, 'platform');
    const create = (w: typeof own, body: Record<string, unknown>) =>
      saveCredential(t.deps, { actor: alice, ws: w }, { op: 'create', name: 'GitHub Token', type: 'github', credentialId: null, fields: {}, secrets: { token: SECRET }, ...body });
    expect(await saveCredential(t.deps, { actor: bob, ws: platformAsBob }, { op: 'create', name: 'x', type: 'github', credentialId: null, fields: {}, secrets: { token: SECRET } })).toEqual({ ok: false, reason: 'forbidden' });
    const bad = await create(own, { name: '', type: 'nope', secrets: 'x' });
    expect(bad).toMatchObject({ ok: false, reason: 'invalid_input', errors: { name: expect.any(String), type: expect.any(String), secrets: expect.any(String) } });
    expect(await create(own, { name: '!!!' })).toMatchObject({ ok: false, reason: 'invalid_input', errors: { credential_id: expect.stringContaining('no letters or digits') } });
    expect((await create(own, {})).ok).toBe(true);
    expect(await create(own, {})).toEqual({ ok: false, reason: 'credential_id_taken', credentialId: 'github_token' });
    const existing = (await getCredential(t.deps.store, own, 'github_token'))!;
    const moved = await saveCredential(t.deps, { actor: alice, ws: own }, { op: 'update', existing, fields: { base_url: 'https://elsewhere.example' } });
    expect(moved).toMatchObject({ ok: false, reason: 'invalid_input', errors: { 'secrets.token': expect.any(String) } });
    expect(JSON.stringify([bad, moved])).not.toContain(SECRET);
  });
});

describe('saveToolkit', () => {
  it('asks for confirmation before a project toolkit’s credential changes, and names who would not be ready', async () => {
    const { t, alice, bob, ws } = await setup();
    const platform = await ws(alice, 'platform');
    const created = await saveToolkit(t.deps, alice, platform, { op: 'create', body: { name: 'GitHub', type: 'github', settings: {}, credential: { scope: 'private', credential_id: 'github_token' } } });
    if (!created.ok) throw new Error(created.reason);
    const body = { credential: { scope: 'private', credential_id: 'gh_other' } };
    const asked = await saveToolkit(t.deps, alice, platform, { op: 'update', existing: created.toolkit, body, confirmed: false });
    expect(asked).toMatchObject({ ok: false, reason: 'confirmation_required', change: { affected: ['alice', 'bob'], total: 2 } });
    expect((await getToolkit(t.deps.store, platform, created.toolkit.id))!.credential.credentialId).toBe('github_token');
    const saved = await saveToolkit(t.deps, alice, platform, { op: 'update', existing: created.toolkit, body, confirmed: true });
    expect(saved).toMatchObject({ ok: true, op: 'update', membersWithoutCredential: ['alice', 'bob'], toolkit: { credential: { credentialId: 'gh_other' } } });
    expect(await saveToolkit(t.deps, bob, await ws(bob, 'platform'), { op: 'delete', existing: created.toolkit })).toEqual({ ok: false, reason: 'forbidden' });
    expect(await saveToolkit(t.deps, alice, platform, { op: 'create', body: { name: '', type: 'github', credential: { scope: 'project', credential_id: 'nope' } } })).toMatchObject({
      ok: false,
      reason: 'invalid_input',
      errors: { name: expect.any(String), 'credential.credential_id': expect.stringContaining('nope') },
    });
    expect(await saveToolkit(t.deps, alice, platform, { op: 'delete', existing: created.toolkit })).toMatchObject({ ok: true, op: 'delete' });
    expect(await saveToolkit(t.deps, alice, platform, { op: 'delete', existing: created.toolkit })).toEqual({ ok: false, reason: 'not_found' });
  });
});

describe('changeMembership, createProject and createApiToken', () => {
  it('answer their expected failures as values', async () => {
    const { t, alice, bob, ws } = await setup();
    const platform = await ws(alice, 'platform');
    expect(await changeMembership(t.deps, alice, platform, { op: 'add', username: 'nobody', role: 'viewer' })).toEqual({ ok: false, reason: 'no_such_user' });
    expect(await changeMembership(t.deps, alice, platform, { op: 'add', username: 'BOB ', role: 'viewer' })).toEqual({ ok: false, reason: 'already_member' });
    expect(await changeMembership(t.deps, alice, platform, { op: 'role', username: 'bob', role: 'owner' })).toMatchObject({ ok: false, reason: 'invalid_input', errors: { role: expect.any(String) } });
    expect(await changeMembership(t.deps, alice, platform, { op: 'role', username: 'alice', role: 'viewer' })).toEqual({ ok: false, reason: 'last_admin' });
    expect(await changeMembership(t.deps, bob, await ws(bob, 'platform'), { op: 'remove', username: 'alice' })).toEqual({ ok: false, reason: 'forbidden' });
    expect(await changeMembership(t.deps, alice, await ws(alice, 'private'), { op: 'remove', username: 'alice' })).toEqual({ ok: false, reason: 'not_found' });
    expect(await changeMembership(t.deps, alice, platform, { op: 'role', username: 'bob', role: 'editor' })).toMatchObject({ ok: true, member: { username: 'bob', role: 'editor' } });
    expect(await createProject(t.deps, alice, '  ')).toMatchObject({ ok: false, reason: 'invalid_input', errors: { name: expect.any(String) } });
    expect(await createProject(t.deps, alice, 'Data Team')).toMatchObject({ ok: true, project: { slug: 'data-team', role: 'admin' } });
    expect(await createApiToken(t.deps, alice, 'x'.repeat(81))).toMatchObject({ ok: false, reason: 'invalid_input' });
    const token = await createApiToken(t.deps, alice, ' ci ');
    expect(token).toMatchObject({ ok: true, name: 'ci', token: expect.any(String) });
  });
});
