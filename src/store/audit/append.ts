// Appending to the audit log: in the same transaction as the change it records, chained by HMAC.
// hashedFields is the one definition of what an event's hash covers (verify.ts uses it too).
import { desc, sql } from 'drizzle-orm';
import { preparedIn } from '../prepared';
import { batchBuffer } from '../group-commit';
import { chainHash, GENESIS_HASH } from '../../crypto/audit-hash';
import type { Store, Tx } from '../store';
import type { AuditEvent, AuditOutcome } from '../../domain/audit-event';

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


/** An event as its row is read from audit_events. */
export type EventRow = {
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

/** Returns an event row's fields by their names in code (details still as the stored JSON text). */
export function rowFields(r: EventRow): Omit<AuditEvent, 'details'> & { detailsJson: string } {
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
    detailsJson: r.details_json,
  };
}

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

/**
 * Appends one event inside `tx`; throws (failing the whole change) if it cannot be written.
 * `at` never goes below the previous event's (a clock stepping back is clamped), so time ranges
 * are id ranges and the log can be searched by time through the primary key. The next link is
 * read and written under the engine's write lock (src/store/engine.ts), so instances appending at
 * once still make one chain; the unique prev_hash index makes a fork fail instead of passing.
 */
export async function appendAudit(store: Store, tx: Tx, input: AuditInput): Promise<number> {
  // Refusing outside a write transaction keeps an event from ever being written on its own.
  if (!store.engine.inWrite(tx)) throw new Error('appendAudit must run inside the transaction of the change it records');
  const { auditEvents } = store.t;
  // The chain's last link: remembered by the transaction after its own append (nobody else can
  // append while it holds the write lock; a rolled-back savepoint forgets it), else read.
  const state = store.engine.txState(tx);
  const last =
    (state.get(LAST_LINK) as Link | undefined) ??
    (
      await preparedIn(store, tx, 'auditLastLink', (w) =>
        w.select({ id: auditEvents.id, at: auditEvents.at, hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.id)).limit(1),
      )({})
    )[0];
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
  const full = { ...row, prevHash, hash };
  // In a group commit's batch on PostgreSQL the batch's events go in one INSERT before it commits.
  const pending = batchBuffer<typeof full>(store.engine, tx, 'audit', async (rows) => void (await tx.insert(auditEvents).values(rows)));
  if (pending) pending.push(full);
  else await preparedIn(store, tx, 'auditInsert', (w) => w.insert(auditEvents).values(INSERT_PLACEHOLDERS))(full);
  state.set(LAST_LINK, { id: row.id, at: row.at, hash } satisfies Link);
  return row.id;
}

type Link = { id: number; at: number; hash: string };
const LAST_LINK = 'audit:lastLink';

/** The insert's values as placeholders named like the row's fields. */
const INSERT_PLACEHOLDERS = Object.fromEntries(
  ['id', 'at', 'actorUserId', 'actor', 'workspaceId', 'workspace', 'action', 'target', 'outcome', 'detailsJson', 'prevHash', 'hash'].map((k) => [k, sql.placeholder(k)]),
) as unknown as typeof import('../../../db/schema').auditEvents.$inferInsert;

/** Records an event in a transaction of its own (for events with no other change, like a failed login). */
export async function recordAudit(store: Store, input: AuditInput): Promise<number> {
  return store.engine.write((tx) => appendAudit(store, tx, input));
}
