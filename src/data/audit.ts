// The audit log: appended in the same transaction as the change it records, chained by HMAC.
import { and, desc, eq, gte, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import { auditEvents } from '../../db/schema';
import { chainHash, GENESIS_HASH } from '../crypto/audit-hash';
import type { Store, Tx } from './store';

export type AuditActor = { id: string; username: string } | null;
export type AuditWorkspace = { id: number; ref: string } | null;
export type AuditOutcome = 'success' | 'failure' | 'denied';

export type AuditInput = {
  actor: AuditActor;
  /** ref is the project's slug, or 'private' for the actor's own Private workspace. */
  workspace: AuditWorkspace;
  action: string;
  target?: string | null;
  outcome?: AuditOutcome;
  details?: Record<string, unknown>;
};

export type AuditEvent = {
  id: number;
  at: number;
  actorUserId: string | null;
  actor: string | null;
  workspaceId: number | null;
  workspace: string | null;
  action: string;
  target: string | null;
  outcome: string;
  details: Record<string, unknown>;
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

/** Appends one event inside `tx`; throws (failing the whole change) if it cannot be written. */
export function appendAudit(store: Store, tx: Tx, input: AuditInput): number {
  const last = tx.select({ id: auditEvents.id, hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.id)).limit(1).get();
  const row = {
    id: (last?.id ?? 0) + 1,
    at: store.clock.now(),
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
  tx.insert(auditEvents).values({ ...row, prevHash, hash }).run();
  return row.id;
}

/** Records an event in a transaction of its own (for events with no other change, like a failed login). */
export async function recordAudit(store: Store, input: AuditInput): Promise<number> {
  return store.db.transaction((tx) => appendAudit(store, tx, input), { behavior: 'immediate' });
}

export type VerifyResult = { ok: true; count: number } | { ok: false; count: number; brokenId: number; reason: string };

/** Walks the whole chain in id order; returns the first event whose link or hash is wrong. */
export async function verifyAuditChain(store: Store): Promise<VerifyResult> {
  let prev = GENESIS_HASH;
  let count = 0;
  let expectedId = 1;
  const stmt = store.db.$client.prepare(
    'SELECT id, at, actor_user_id, actor, workspace_id, workspace, action, target, outcome, details_json, prev_hash, hash FROM audit_events ORDER BY id',
  );
  for (const r of stmt.iterate() as Iterable<Record<string, any>>) {
    if (r.id !== expectedId) return { ok: false, count, brokenId: r.id, reason: `event ${expectedId} is missing` };
    if (r.prev_hash !== prev) return { ok: false, count, brokenId: r.id, reason: 'its link to the previous event is wrong' };
    const fields = {
      id: r.id,
      at: r.at,
      actor_user_id: r.actor_user_id,
      actor: r.actor,
      workspace_id: r.workspace_id,
      workspace: r.workspace,
      action: r.action,
      target: r.target,
      outcome: r.outcome,
      details: r.details_json,
    };
    if (chainHash(store.auditKey, prev, fields) !== r.hash) return { ok: false, count, brokenId: r.id, reason: 'its content does not match its hash' };
    prev = r.hash;
    count++;
    expectedId++;
  }
  return { ok: true, count };
}

export type AuditFilter = {
  actorUserId?: string;
  workspaceIds?: number[];
  workspaceId?: number;
  action?: string;
  outcome?: string;
  since?: number;
  until?: number;
  before?: number;
  limit: number;
};

/** Returns one page of events, newest first, and the id to pass as `before` for the next page. */
export async function listAuditEvents(store: Store, f: AuditFilter): Promise<{ events: AuditEvent[]; nextBefore: number | null }> {
  const conds: SQL[] = [];
  if (f.actorUserId) conds.push(eq(auditEvents.actorUserId, f.actorUserId));
  if (f.workspaceIds) conds.push(f.workspaceIds.length ? inArray(auditEvents.workspaceId, f.workspaceIds) : sql`0`);
  if (f.workspaceId !== undefined) conds.push(eq(auditEvents.workspaceId, f.workspaceId));
  if (f.action) conds.push(eq(auditEvents.action, f.action));
  if (f.outcome) conds.push(eq(auditEvents.outcome, f.outcome));
  if (f.since !== undefined) conds.push(gte(auditEvents.at, f.since));
  if (f.until !== undefined) conds.push(lte(auditEvents.at, f.until));
  if (f.before !== undefined) conds.push(lt(auditEvents.id, f.before));
  const rows = store.db
    .select()
    .from(auditEvents)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(auditEvents.id))
    .limit(f.limit + 1)
    .all();
  const page = rows.slice(0, f.limit).map(toEvent);
  return { events: page, nextBefore: rows.length > f.limit ? page[page.length - 1].id : null };
}

function toEvent(r: typeof auditEvents.$inferSelect): AuditEvent {
  return {
    id: r.id,
    at: r.at,
    actorUserId: r.actorUserId,
    actor: r.actor,
    workspaceId: r.workspaceId,
    workspace: r.workspace,
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    details: JSON.parse(r.detailsJson),
  };
}
