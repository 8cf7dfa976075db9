// Execution statistics for the audit page's charts, counted incrementally per store and filters.
import type { Store } from '../store';
import { DAY_MS, type AuditScope, type ExecutionStats } from '../../domain/audit-event';
import { planQuery, whereClause } from './query';
import { latestAuditId } from './verify';

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
  const plan = await planQuery(store, scope, { ...q, action: 'toolkit.execute', since: firstDay * DAY_MS });
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
  const upTo = await latestAuditId(store);
  if (upTo > entry.lastId) {
    const where = whereClause(store.engine.dialect, { ...plan, minId: Math.max(plan.minId ?? 0, entry.lastId + 1), maxId: upTo }, plan.workspaceIds);
    const perDay = await store.engine.rows<{ day: number; ok: number; n: number }>(
      `SELECT at / ${DAY_MS} AS day, CASE WHEN outcome = 'success' THEN 1 ELSE 0 END AS ok, count(*) AS n FROM audit_events ${where.sql} GROUP BY 1, 2`,
      where.params,
    );
    for (const r of perDay) {
      const d = entry.perDay.get(r.day) ?? { success: 0, failure: 0 };
      if (r.ok) d.success += r.n;
      else d.failure += r.n;
      entry.perDay.set(r.day, d);
    }
    const perTarget = await store.engine.rows<{ target: string; success: number; failure: number; last_id: number }>(
      `SELECT target, sum(CASE WHEN outcome = 'success' THEN 1 ELSE 0 END) AS success, sum(CASE WHEN outcome = 'success' THEN 0 ELSE 1 END) AS failure, max(id) AS last_id
       FROM audit_events ${where.sql} GROUP BY target`,
      where.params,
    );
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
  const top = [...entry.perTarget].sort(([ta, a], [tb, b]) => b.success + b.failure - (a.success + a.failure) || (ta < tb ? -1 : 1)).slice(0, opts.top ?? 10);
  const toolkits = [];
  for (const [target, t] of top) {
    const [l] = await store.engine.rows<{ workspace: string | null; details_json: string }>('SELECT workspace, details_json FROM audit_events WHERE id = ?', [t.lastId]);
    const name = (JSON.parse(l?.details_json ?? '{}') as { toolkit?: unknown }).toolkit;
    toolkits.push({ target, name: typeof name === 'string' ? name : target, workspace: l?.workspace ?? null, success: t.success, failure: t.failure });
  }
  return { days, toolkits };
}
