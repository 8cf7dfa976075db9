// Reading the audit log: who may read what, filtered pages, the export's iteration, one event,
// and the choices of the audit page's filters.
import type { Store } from '../store';
import { first, type Dialect } from '../engine';
import { rowFields, type EventRow } from './append';
import type { AuditEvent, AuditEventFull, AuditOutcome, AuditScope } from '../../domain/audit-event';



/** Returns the user's audit scope, or null when they may not read the log at all. */
export async function auditScopeFor(store: Store, user: { id: string; isAdmin: boolean }): Promise<AuditScope | null> {
  if (user.isAdmin) return { kind: 'all' };
  const rows = (await store.engine.rows(`SELECT m.workspace_id AS id FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
       WHERE m.user_id = ? AND m.role = 'admin' AND w.kind = 'project' ORDER BY m.workspace_id`, [user.id])) as { id: number }[];
  return rows.length ? { kind: 'projects', workspaceIds: rows.map((r) => r.id) } : null;
}

/** Filters of the audit page, the export and the API. Times are ms since the epoch, inclusive. */
export type AuditQuery = {
  /** A username. */
  actor?: string;
  /** A project's slug, or 'private' (the actor's own Private workspace). */
  workspace?: string;
  action?: string;
  outcome?: AuditOutcome;
  since?: number;
  until?: number;
  /** Only events with a smaller id (keyset pagination). */
  before?: number;
  limit: number;
};

const COLUMNS = 'id, at, actor_user_id, actor, workspace_id, workspace, action, target, outcome, details_json';

type Cond = { col: string; sql: string; params: unknown[] };

/**
 * A query resolved against the database: names turned into ids, the time range turned into an id
 * range (the chain's `at` never decreases, see appendAudit), the scope applied. null: nothing matches.
 */
export type Plan = {
  actorUserId?: string;
  workspaceIds?: number[];
  conds: Cond[];
  minId?: number;
  maxId?: number;
};

/** Resolves filters into a Plan (names to ids, times to an id range, the scope applied); null when nothing can match. */
export async function planQuery(store: Store, scope: AuditScope, q: Omit<AuditQuery, 'limit'>): Promise<Plan | null> {
  const plan: Plan = { conds: [] };
  if (q.actor) {
    const u = first(await store.engine.rows('SELECT id FROM users WHERE username = ?', [q.actor])) as { id: string } | undefined;
    if (u) plan.actorUserId = u.id;
    else plan.conds.push({ col: 'actor', sql: 'actor = ?', params: [q.actor] });
  }
  let workspaceText: string | undefined;
  if (q.workspace === 'private') {
    // Without an actor, "private" means anyone's own Private workspace: match the copied ref.
    const w = plan.actorUserId ? (first(await store.engine.rows(`SELECT id FROM workspaces WHERE owner_user_id = ? AND kind = 'private'`, [plan.actorUserId])) as { id: number } | undefined) : undefined;
    if (w) plan.workspaceIds = [w.id];
    else workspaceText = 'private';
  } else if (q.workspace) {
    const w = first(await store.engine.rows(`SELECT id FROM workspaces WHERE slug = ? AND kind = 'project'`, [q.workspace])) as { id: number } | undefined;
    if (w) plan.workspaceIds = [w.id];
    else workspaceText = q.workspace; // a project that no longer exists keeps its history
  }
  if (scope.kind === 'projects') {
    if (workspaceText !== undefined) return null;
    plan.workspaceIds = (plan.workspaceIds ?? scope.workspaceIds).filter((id) => scope.workspaceIds.includes(id));
    if (!plan.workspaceIds.length) return null;
  }
  if (workspaceText !== undefined) plan.conds.push({ col: 'workspace', sql: 'workspace = ?', params: [workspaceText] });
  if (q.action) plan.conds.push({ col: 'action', sql: 'action = ?', params: [q.action] });
  if (q.outcome) plan.conds.push({ col: 'outcome', sql: 'outcome = ?', params: [q.outcome] });
  if (q.since !== undefined) {
    const r = first(await store.engine.rows('SELECT id FROM audit_events WHERE at >= ? ORDER BY at, id LIMIT 1', [q.since])) as { id: number } | undefined;
    if (!r) return null;
    plan.minId = r.id;
    plan.conds.push({ col: 'at', sql: 'at >= ?', params: [q.since] });
  }
  if (q.until !== undefined) {
    const r = first(await store.engine.rows('SELECT id FROM audit_events WHERE at <= ? ORDER BY at DESC, id DESC LIMIT 1', [q.until])) as { id: number } | undefined;
    if (!r) return null;
    plan.maxId = r.id;
    plan.conds.push({ col: 'at', sql: 'at <= ?', params: [q.until] });
  }
  if (q.before !== undefined) plan.maxId = Math.min(plan.maxId ?? Infinity, q.before - 1);
  if (plan.minId !== undefined && plan.maxId !== undefined && plan.minId > plan.maxId) return null;
  return plan;
}

const INDEXED = ['actor_user_id', 'workspace_id', 'action', 'outcome', 'workspace'];

/**
 * Builds the WHERE clause with one chosen index driving the search. Every other indexed column is
 * written as `+col`, which tells SQLite not to use its index: without statistics the planner may
 * otherwise pick a poor index (or the `at` index plus a sort of the whole range) for a page of 50.
 * PostgreSQL has no unary + on text (and keeps statistics): there the conditions are written plain.
 */
export function whereClause(dialect: Dialect, plan: Plan, workspaceIds: number[] | undefined, extra: Cond[] = []) {
  const conds: Cond[] = [...plan.conds, ...extra];
  if (plan.actorUserId) conds.push({ col: 'actor_user_id', sql: 'actor_user_id = ?', params: [plan.actorUserId] });
  if (workspaceIds) {
    conds.push(
      workspaceIds.length === 1
        ? { col: 'workspace_id', sql: 'workspace_id = ?', params: workspaceIds }
        : { col: 'workspace_id', sql: `workspace_id IN (${workspaceIds.map(() => '?').join(',')})`, params: workspaceIds },
    );
  }
  const has = (col: string) => conds.find((c) => c.col === col);
  // Most selective first, as a rule of thumb: one person, one project, one action, any Private
  // workspace, a rare outcome. 'success' is most of the log, so walking ids is cheaper than its index.
  const driver = plan.actorUserId
    ? 'actor_user_id'
    : workspaceIds?.length === 1
      ? 'workspace_id'
      : has('action')
        ? 'action'
        : has('workspace')
          ? 'workspace'
          : has('outcome') && has('outcome')!.params[0] !== 'success'
            ? 'outcome'
            : 'id';
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const c of conds) {
    parts.push(dialect === 'sqlite' && c.col !== driver && (INDEXED.includes(c.col) || c.col === 'at') ? `+${c.sql}` : c.sql);
    params.push(...c.params);
  }
  if (plan.minId !== undefined) {
    parts.push('id >= ?');
    params.push(plan.minId);
  }
  if (plan.maxId !== undefined) {
    parts.push('id <= ?');
    params.push(plan.maxId);
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}


async function readPage(store: Store, plan: Plan, limit: number): Promise<EventRow[]> {
  const run = async (ids: number[] | undefined) => {
    const where = whereClause(store.engine.dialect, plan, ids);
    return (await store.engine.rows(`SELECT ${COLUMNS} FROM audit_events ${where.sql} ORDER BY id DESC LIMIT ?`, [...where.params, limit])) as EventRow[];
  };
  const ids = plan.workspaceIds;
  // Several projects and no actor: one indexed query per project, merged, rather than an IN
  // that SQLite would have to sort in full before returning the newest rows.
  if (ids && ids.length > 1 && !plan.actorUserId) {
    const pages = [];
    for (const id of ids) pages.push(...await run([id]));
    return pages
      .sort((a, b) => b.id - a.id)
      .slice(0, limit);
  }
  return run(ids);
}

function toEvent(r: EventRow): AuditEvent {
  const { detailsJson, ...event } = rowFields(r);
  return { ...event, details: JSON.parse(detailsJson) };
}

/** Returns one page of the events the scope allows, newest first, and the `before` of the next page. */
export async function listAuditEvents(store: Store, scope: AuditScope, q: AuditQuery): Promise<{ events: AuditEvent[]; nextBefore: number | null }> {
  const plan = await planQuery(store, scope, q);
  if (!plan) return { events: [], nextBefore: null };
  const rows = await readPage(store, plan, q.limit + 1);
  const page = rows.slice(0, q.limit).map(toEvent);
  return { events: page, nextBefore: rows.length > q.limit ? page[page.length - 1].id : null };
}

/**
 * Yields every event the query matches, newest first, in chunks read one keyset page at a time:
 * no statement stays open across an await, and at most one chunk is in memory.
 */
export async function* iterateAuditEvents(store: Store, scope: AuditScope, q: Omit<AuditQuery, 'limit'>, chunk = 1_000): AsyncGenerator<AuditEvent[]> {
  let before = q.before;
  for (;;) {
    const page = await listAuditEvents(store, scope, { ...q, before, limit: chunk });
    if (page.events.length) yield page.events;
    if (page.nextBefore === null) return;
    before = page.nextBefore;
  }
}


/** Returns one event with its chain hashes if the scope allows it, else null. */
export async function getAuditEvent(store: Store, scope: AuditScope, id: number): Promise<AuditEventFull | null> {
  const r = first(await store.engine.rows(`SELECT ${COLUMNS}, prev_hash, hash FROM audit_events WHERE id = ?`, [id])) as (EventRow & { prev_hash: string; hash: string }) | undefined;
  if (!r) return null;
  if (scope.kind === 'projects' && (r.workspace_id === null || !scope.workspaceIds.includes(r.workspace_id) || r.workspace === 'private')) return null;
  return { ...toEvent(r), prevHash: r.prev_hash, hash: r.hash };
}

/** The actions Latchkey records, for the filter's choices (grouped by what comes before the dot). */
export const KNOWN_AUDIT_ACTIONS = [
  'user.signup',
  'user.create',
  'user.login',
  'user.login_failed',
  'user.password_change',
  'user.password_reset',
  'user.disable',
  'user.enable',
  'user.admin_grant',
  'user.admin_revoke',
  'token.create',
  'token.revoke',
  'project.create',
  'member.add',
  'member.role_change',
  'member.remove',
  'credential.create',
  'credential.update',
  'credential.delete',
  'credential.connect',
  'credential.reconnect',
  'credential.refresh_failed',
  'toolkit.create',
  'toolkit.update',
  'toolkit.credential_change',
  'toolkit.delete',
  'toolkit.execute',
  'oauth.grant',
  'oauth.revoke',
  'oauth_app.create',
  'oauth_app.delete',
  'keys.rotate',
  'audit.export',
];

/** Returns the projects a scope covers (all of them for instance admins), by name. */
export async function auditProjects(store: Store, scope: AuditScope): Promise<{ id: number; slug: string; name: string }[]> {
  const rows = (await store.engine.rows(`SELECT id, slug, name FROM workspaces WHERE kind = 'project' ORDER BY lower(name)`, [])) as { id: number; slug: string; name: string }[];
  return scope.kind === 'all' ? rows : rows.filter((r) => scope.workspaceIds.includes(r.id));
}

/** Returns the usernames a scope's reader may pick as actor: every user, or their projects' members. */
export async function auditActorNames(store: Store, scope: AuditScope): Promise<string[]> {
  if (scope.kind === 'all') return ((await store.engine.rows('SELECT username FROM users ORDER BY username LIMIT 2000', [])) as { username: string }[]).map((r) => r.username);
  const marks = scope.workspaceIds.map(() => '?').join(',');
  return (
    (await store.engine.rows(`SELECT DISTINCT u.username FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id IN (${marks}) ORDER BY u.username LIMIT 2000`, [...scope.workspaceIds])) as { username: string }[]
  ).map((r) => r.username);
}
