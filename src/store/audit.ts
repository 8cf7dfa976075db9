// The audit log: appended in the same transaction as the change it records, chained by HMAC.
import type Database from 'better-sqlite3';
import { chainHash, GENESIS_HASH } from '../crypto/audit-hash';
import type { Store, Tx } from './store';
import { DAY_MS, type AuditEvent, type AuditEventFull, type AuditOutcome, type AuditScope, type ChainState, type ExecutionStats } from '../domain/audit-event';

export { DAY_MS };
export type { AuditEvent, AuditEventFull, AuditOutcome, AuditScope, ChainState, ExecutionStats };

export type AuditActor = { id: string; username: string } | null;
export type AuditWorkspace = { id: number; ref: string } | null;

export type AuditInput = {
  actor: AuditActor;
  /** ref is the project's slug, or 'private' for the actor's own Private workspace. */
  workspace: AuditWorkspace;
  action: string;
  target?: string | null;
  outcome?: AuditOutcome;
  details?: Record<string, unknown>;
};


/** The fields an event's hash covers, in the form that is hashed. */
export function hashedFields(e: Omit<AuditEvent, 'details'> & { detailsJson: string }) {
  return {
    id: e.id,
    at: e.at,
    actor_user_id: e.actorUserId,
    actor: e.actor,
    workspace_id: e.workspaceId,
    workspace: e.workspace,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    details: e.detailsJson,
  };
}

// Prepared once per connection: appendAudit is on the hot path of every toolkit run.
const appendStatements = new WeakMap<object, { last: Database.Statement<[]>; insert: Database.Statement<[Record<string, unknown>]> }>();

function statementsFor(store: Store) {
  const client = store.db.$client;
  let s = appendStatements.get(client);
  if (!s) {
    s = {
      last: client.prepare('SELECT id, at, hash FROM audit_events ORDER BY id DESC LIMIT 1'),
      insert: client.prepare(
        `INSERT INTO audit_events (id, at, actor_user_id, actor, workspace_id, workspace, action, target, outcome, details_json, prev_hash, hash)
         VALUES (@id, @at, @actorUserId, @actor, @workspaceId, @workspace, @action, @target, @outcome, @detailsJson, @prevHash, @hash)`,
      ),
    };
    appendStatements.set(client, s);
  }
  return s;
}

/**
 * Appends one event inside `tx`; throws (failing the whole change) if it cannot be written.
 * `at` never goes below the previous event's (a clock stepping back is clamped), so time ranges
 * are id ranges and the log can be searched by time through the primary key.
 */
export function appendAudit(store: Store, _tx: Tx, input: AuditInput): number {
  // `tx` and the prepared statements share one connection, so these run inside the caller's
  // transaction; refusing outside one keeps an event from ever being written on its own.
  if (!store.db.$client.inTransaction) throw new Error('appendAudit must run inside the transaction of the change it records');
  const stmts = statementsFor(store);
  const last = stmts.last.get() as { id: number; at: number; hash: string } | undefined;
  const row = {
    id: (last?.id ?? 0) + 1,
    at: Math.max(store.clock.now(), last?.at ?? 0),
    actorUserId: input.actor?.id ?? null,
    actor: input.actor?.username ?? null,
    workspaceId: input.workspace?.id ?? null,
    workspace: input.workspace?.ref ?? null,
    action: input.action,
    target: input.target ?? null,
    outcome: input.outcome ?? 'success',
    detailsJson: JSON.stringify(input.details ?? {}),
  };
  const prevHash = last?.hash ?? GENESIS_HASH;
  const hash = chainHash(store.auditKey, prevHash, hashedFields(row));
  stmts.insert.run({ ...row, prevHash, hash });
  return row.id;
}

/** Records an event in a transaction of its own (for events with no other change, like a failed login). */
export async function recordAudit(store: Store, input: AuditInput): Promise<number> {
  return store.db.transaction((tx) => appendAudit(store, tx, input), { behavior: 'immediate' });
}

// ---------------------------------------------------------------------------------------------
// Verifying the chain

export type VerifyResult =
  | { ok: true; count: number; lastId: number; lastHash: string }
  | { ok: false; count: number; brokenId: number; reason: string };

/** Where a verification may continue from: the last event already found intact, and its hash. */
export type ChainCheckpoint = { id: number; hash: string };

const VERIFY_CHUNK = 5_000;

/**
 * Walks the chain in id order (from `from`, or from the first event) and returns the first event
 * whose link or hash is wrong. Reads in chunks and yields to the event loop between them, so a
 * long log neither blocks other requests nor keeps a statement open on the shared connection.
 */
export async function verifyAuditChain(store: Store, from?: ChainCheckpoint): Promise<VerifyResult> {
  let prev = from?.hash ?? GENESIS_HASH;
  let lastId = from?.id ?? 0;
  const stmt = store.db.$client.prepare(
    'SELECT id, at, actor_user_id, actor, workspace_id, workspace, action, target, outcome, details_json, prev_hash, hash FROM audit_events WHERE id > ? ORDER BY id LIMIT ?',
  );
  for (;;) {
    const rows = stmt.all(lastId, VERIFY_CHUNK) as Record<string, any>[];
    for (const r of rows) {
      const expectedId = lastId + 1;
      if (r.id !== expectedId) return { ok: false, count: lastId, brokenId: r.id, reason: `event ${expectedId} is missing` };
      if (r.prev_hash !== prev) return { ok: false, count: lastId, brokenId: r.id, reason: 'its link to the previous event is wrong' };
      // The one definition of what the hash covers: hashedFields, as when it was appended.
      const fields = hashedFields({
        id: r.id,
        at: r.at,
        actorUserId: r.actor_user_id,
        actor: r.actor,
        workspaceId: r.workspace_id,
        workspace: r.workspace,
        action: r.action,
        target: r.target,
        outcome: r.outcome,
        detailsJson: r.details_json,
      });
      if (chainHash(store.auditKey, prev, fields) !== r.hash) return { ok: false, count: lastId, brokenId: r.id, reason: 'its content does not match its hash' };
      prev = r.hash;
      lastId = r.id;
    }
    if (rows.length < VERIFY_CHUNK) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { ok: true, count: lastId, lastId, lastHash: prev };
}


// The last verified event per store (one per running app). A re-check continues from it, so
// verifying after the first time costs only the new events; "full" starts again from event 1.
const checkpoints = new WeakMap<Store, ChainCheckpoint & { checkedAt: number }>();
const breaks = new WeakMap<Store, { id: number; reason: string; checkedAt: number }>();

/** Returns the chain's state as last verified in this process (nothing is re-checked). */
export async function auditChainState(store: Store): Promise<ChainState | null> {
  const latestId = latestAuditId(store);
  const broken = breaks.get(store);
  if (broken) return { verifiedThrough: broken.id - 1, checkedAt: broken.checkedAt, latestId, broken: { id: broken.id, reason: broken.reason } };
  const cp = checkpoints.get(store);
  return cp ? { verifiedThrough: cp.id, checkedAt: cp.checkedAt, latestId } : null;
}

const running = new WeakMap<Store, { full: boolean; done: Promise<ChainState> }>();

/**
 * Verifies the events added since the last check (or all of them with `full`); returns the new
 * state. A second click while a check runs waits for that check rather than starting another.
 */
export async function verifyAuditChainCached(store: Store, opts: { full?: boolean } = {}): Promise<ChainState> {
  const full = !!opts.full;
  const current = running.get(store);
  if (current && (current.full || !full)) return current.done;
  const done = verifyOnce(store, full).finally(() => {
    if (running.get(store)?.done === done) running.delete(store);
  });
  running.set(store, { full, done });
  return done;
}

async function verifyOnce(store: Store, full: boolean): Promise<ChainState> {
  const from = full ? undefined : checkpoints.get(store);
  const result = await verifyAuditChain(store, from);
  const checkedAt = store.clock.now();
  if (result.ok) {
    checkpoints.set(store, { id: result.lastId, hash: result.lastHash, checkedAt });
    breaks.delete(store);
    return { verifiedThrough: result.lastId, checkedAt, latestId: latestAuditId(store) };
  }
  checkpoints.delete(store);
  breaks.set(store, { id: result.brokenId, reason: result.reason, checkedAt });
  return { verifiedThrough: result.brokenId - 1, checkedAt, latestId: latestAuditId(store), broken: { id: result.brokenId, reason: result.reason } };
}

function latestAuditId(store: Store): number {
  return (store.db.$client.prepare('SELECT max(id) AS id FROM audit_events').get() as { id: number | null }).id ?? 0;
}

// ---------------------------------------------------------------------------------------------
// Reading the log


/** Returns the user's audit scope, or null when they may not read the log at all. */
export async function auditScopeFor(store: Store, user: { id: string; isAdmin: boolean }): Promise<AuditScope | null> {
  if (user.isAdmin) return { kind: 'all' };
  const rows = store.db.$client
    .prepare(
      `SELECT m.workspace_id AS id FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
       WHERE m.user_id = ? AND m.role = 'admin' AND w.kind = 'project' ORDER BY m.workspace_id`,
    )
    .all(user.id) as { id: number }[];
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
type Plan = {
  actorUserId?: string;
  workspaceIds?: number[];
  conds: Cond[];
  minId?: number;
  maxId?: number;
};

function planQuery(store: Store, scope: AuditScope, q: Omit<AuditQuery, 'limit'>): Plan | null {
  const client = store.db.$client;
  const plan: Plan = { conds: [] };
  if (q.actor) {
    const u = client.prepare('SELECT id FROM users WHERE username = ?').get(q.actor) as { id: string } | undefined;
    if (u) plan.actorUserId = u.id;
    else plan.conds.push({ col: 'actor', sql: 'actor = ?', params: [q.actor] });
  }
  let workspaceText: string | undefined;
  if (q.workspace === 'private') {
    // Without an actor, "private" means anyone's own Private workspace: match the copied ref.
    const w = plan.actorUserId ? (client.prepare(`SELECT id FROM workspaces WHERE owner_user_id = ? AND kind = 'private'`).get(plan.actorUserId) as { id: number } | undefined) : undefined;
    if (w) plan.workspaceIds = [w.id];
    else workspaceText = 'private';
  } else if (q.workspace) {
    const w = client.prepare(`SELECT id FROM workspaces WHERE slug = ? AND kind = 'project'`).get(q.workspace) as { id: number } | undefined;
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
    const r = client.prepare('SELECT id FROM audit_events WHERE at >= ? ORDER BY at, id LIMIT 1').get(q.since) as { id: number } | undefined;
    if (!r) return null;
    plan.minId = r.id;
    plan.conds.push({ col: 'at', sql: 'at >= ?', params: [q.since] });
  }
  if (q.until !== undefined) {
    const r = client.prepare('SELECT id FROM audit_events WHERE at <= ? ORDER BY at DESC, id DESC LIMIT 1').get(q.until) as { id: number } | undefined;
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
 */
function whereClause(plan: Plan, workspaceIds: number[] | undefined, extra: Cond[] = []) {
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
    parts.push(c.col !== driver && (INDEXED.includes(c.col) || c.col === 'at') ? `+${c.sql}` : c.sql);
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

type EventRow = {
  id: number;
  at: number;
  actor_user_id: string | null;
  actor: string | null;
  workspace_id: number | null;
  workspace: string | null;
  action: string;
  target: string | null;
  outcome: string;
  details_json: string;
};

function readPage(store: Store, plan: Plan, limit: number): EventRow[] {
  const client = store.db.$client;
  const run = (ids: number[] | undefined) => {
    const where = whereClause(plan, ids);
    return client.prepare(`SELECT ${COLUMNS} FROM audit_events ${where.sql} ORDER BY id DESC LIMIT ?`).all(...where.params, limit) as EventRow[];
  };
  const ids = plan.workspaceIds;
  // Several projects and no actor: one indexed query per project, merged, rather than an IN
  // that SQLite would have to sort in full before returning the newest rows.
  if (ids && ids.length > 1 && !plan.actorUserId) {
    return ids
      .flatMap((id) => run([id]))
      .sort((a, b) => b.id - a.id)
      .slice(0, limit);
  }
  return run(ids);
}

function toEvent(r: EventRow): AuditEvent {
  return {
    id: r.id,
    at: r.at,
    actorUserId: r.actor_user_id,
    actor: r.actor,
    workspaceId: r.workspace_id,
    workspace: r.workspace,
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    details: JSON.parse(r.details_json),
  };
}

/** Returns one page of the events the scope allows, newest first, and the `before` of the next page. */
export async function listAuditEvents(store: Store, scope: AuditScope, q: AuditQuery): Promise<{ events: AuditEvent[]; nextBefore: number | null }> {
  const plan = planQuery(store, scope, q);
  if (!plan) return { events: [], nextBefore: null };
  const rows = readPage(store, plan, q.limit + 1);
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
  const r = store.db.$client.prepare(`SELECT ${COLUMNS}, prev_hash, hash FROM audit_events WHERE id = ?`).get(id) as (EventRow & { prev_hash: string; hash: string }) | undefined;
  if (!r) return null;
  if (scope.kind === 'projects' && (r.workspace_id === null || !scope.workspaceIds.includes(r.workspace_id) || r.workspace === 'private')) return null;
  return { ...toEvent(r), prevHash: r.prev_hash, hash: r.hash };
}

// ---------------------------------------------------------------------------------------------
// Execution statistics (the audit page's charts)



type StatsEntry = {
  firstDay: number;
  lastId: number;
  perDay: Map<number, { success: number; failure: number }>;
  perTarget: Map<string, { success: number; failure: number; lastId: number }>;
};

// Counts already made, per store and per (scope, filters). The log only grows, so a later view
// adds just the events after `lastId`; the cache starts over when the 30-day window moves on.
const statsCache = new WeakMap<Store, Map<string, StatsEntry>>();
const STATS_CACHE_SIZE = 64;

/** Returns `toolkit.execute` counts per UTC day (the last `days` days) and for the top toolkits. */
export async function executionStats(
  store: Store,
  scope: AuditScope,
  q: { actor?: string; workspace?: string },
  opts: { days?: number; top?: number } = {},
): Promise<ExecutionStats> {
  const nDays = opts.days ?? 30;
  const today = Math.floor(store.clock.now() / DAY_MS);
  const firstDay = today - nDays + 1;
  const days = Array.from({ length: nDays }, (_, i) => ({ day: firstDay + i, success: 0, failure: 0 }));
  const plan = planQuery(store, scope, { ...q, action: 'toolkit.execute', since: firstDay * DAY_MS });
  if (!plan) return { days, toolkits: [] };

  const key = JSON.stringify([scope.kind === 'all' ? 'all' : scope.workspaceIds, q.actor ?? '', q.workspace ?? '', nDays]);
  let cache = statsCache.get(store);
  if (!cache) statsCache.set(store, (cache = new Map()));
  let entry = cache.get(key);
  if (!entry || entry.firstDay !== firstDay) entry = { firstDay, lastId: 0, perDay: new Map(), perTarget: new Map() };
  cache.delete(key);
  cache.set(key, entry); // most recently used last
  if (cache.size > STATS_CACHE_SIZE) cache.delete(cache.keys().next().value!);

  // Count only what was appended since the last view: ids (entry.lastId, upTo].
  const client = store.db.$client;
  const upTo = latestAuditId(store);
  if (upTo > entry.lastId) {
    const where = whereClause({ ...plan, minId: Math.max(plan.minId ?? 0, entry.lastId + 1), maxId: upTo }, plan.workspaceIds);
    const perDay = client.prepare(`SELECT at / ${DAY_MS} AS day, outcome = 'success' AS ok, count(*) AS n FROM audit_events ${where.sql} GROUP BY 1, 2`).all(...where.params) as { day: number; ok: number; n: number }[];
    for (const r of perDay) {
      const d = entry.perDay.get(r.day) ?? { success: 0, failure: 0 };
      if (r.ok) d.success += r.n;
      else d.failure += r.n;
      entry.perDay.set(r.day, d);
    }
    const perTarget = client
      .prepare(`SELECT target, sum(outcome = 'success') AS success, sum(outcome != 'success') AS failure, max(id) AS last_id FROM audit_events ${where.sql} GROUP BY target`)
      .all(...where.params) as { target: string; success: number; failure: number; last_id: number }[];
    for (const r of perTarget) {
      const t = entry.perTarget.get(r.target) ?? { success: 0, failure: 0, lastId: 0 };
      t.success += r.success;
      t.failure += r.failure;
      t.lastId = Math.max(t.lastId, r.last_id);
      entry.perTarget.set(r.target, t);
    }
    entry.lastId = upTo;
  }

  for (const d of days) {
    const counted = entry.perDay.get(d.day);
    if (counted) Object.assign(d, counted);
  }
  const latest = client.prepare(`SELECT workspace, json_extract(details_json, '$.toolkit') AS name FROM audit_events WHERE id = ?`);
  const toolkits = [...entry.perTarget]
    .sort(([ta, a], [tb, b]) => b.success + b.failure - (a.success + a.failure) || (ta < tb ? -1 : 1))
    .slice(0, opts.top ?? 10)
    .map(([target, t]) => {
      const l = latest.get(t.lastId) as { workspace: string | null; name: unknown };
      return { target, name: typeof l.name === 'string' ? l.name : target, workspace: l.workspace, success: t.success, failure: t.failure };
    });
  return { days, toolkits };
}

// ---------------------------------------------------------------------------------------------
// Choices for the audit page's filters

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
  'toolkit.create',
  'toolkit.update',
  'toolkit.credential_change',
  'toolkit.delete',
  'toolkit.execute',
  'keys.rotate',
  'audit.export',
];

/** Returns the projects a scope covers (all of them for instance admins), by name. */
export async function auditProjects(store: Store, scope: AuditScope): Promise<{ id: number; slug: string; name: string }[]> {
  const rows = store.db.$client.prepare(`SELECT id, slug, name FROM workspaces WHERE kind = 'project' ORDER BY name COLLATE NOCASE`).all() as { id: number; slug: string; name: string }[];
  return scope.kind === 'all' ? rows : rows.filter((r) => scope.workspaceIds.includes(r.id));
}

/** Returns the usernames a scope's reader may pick as actor: every user, or their projects' members. */
export async function auditActorNames(store: Store, scope: AuditScope): Promise<string[]> {
  const client = store.db.$client;
  if (scope.kind === 'all') return (client.prepare('SELECT username FROM users ORDER BY username LIMIT 2000').all() as { username: string }[]).map((r) => r.username);
  const marks = scope.workspaceIds.map(() => '?').join(',');
  return (
    client
      .prepare(`SELECT DISTINCT u.username FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id IN (${marks}) ORDER BY u.username LIMIT 2000`)
      .all(...scope.workspaceIds) as { username: string }[]
  ).map((r) => r.username);
}
