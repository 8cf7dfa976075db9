// Verifying the audit log's hash chain: a full walk (the CLI's `audit verify`) and the cached
// incremental check the audit page shows.
import { chainHash, GENESIS_HASH } from '../../crypto/audit-hash';
import type { Store } from '../store';
import type { ChainState } from '../../domain/audit-event';
import { hashedFields, rowFields, type EventRow } from './append';

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
  const text = 'SELECT id, at, actor_user_id, actor, workspace_id, workspace, action, target, outcome, details_json, prev_hash, hash FROM audit_events WHERE id > ? ORDER BY id LIMIT ?';
  for (;;) {
    const rows = await store.engine.rows<Record<string, any>>(text, [lastId, VERIFY_CHUNK]);
    for (const r of rows) {
      const expectedId = lastId + 1;
      if (r.id !== expectedId) return { ok: false, count: lastId, brokenId: r.id, reason: `event ${expectedId} is missing` };
      if (r.prev_hash !== prev) return { ok: false, count: lastId, brokenId: r.id, reason: 'its link to the previous event is wrong' };
      // The one definition of what the hash covers: hashedFields, as when it was appended.
      const fields = hashedFields(rowFields(r as EventRow));
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
  const latestId = await latestAuditId(store);
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
    return { verifiedThrough: result.lastId, checkedAt, latestId: await latestAuditId(store) };
  }
  checkpoints.delete(store);
  breaks.set(store, { id: result.brokenId, reason: result.reason, checkedAt });
  return { verifiedThrough: result.brokenId - 1, checkedAt, latestId: await latestAuditId(store), broken: { id: result.brokenId, reason: result.reason } };
}

/** Returns the id of the newest event (0 for an empty log). */
export async function latestAuditId(store: Store): Promise<number> {
  const [row] = await store.engine.rows<{ id: number | null }>('SELECT max(id) AS id FROM audit_events');
  return row?.id ?? 0;
}
