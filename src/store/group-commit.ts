// Group commit: writes that arrive in the same turn of the event loop, or while the previous
// batch commits (concurrent toolkit runs recording their audit events), share one transaction,
// so one fsync (SQLite, synchronous=FULL) or one commit round trip (PostgreSQL) serves them all. Every caller's promise settles only
// after that commit is durable; one failing write rolls back alone and fails only its own caller
// (the batch is then run again with a savepoint per write).
import type { Engine, Tx } from './engine';

type Buffer = { items: unknown[]; flush(items: unknown[]): Promise<void> };
const BUFFERS = 'groupCommit:buffers';

/**
 * Inside a batch's first, savepoint-free run on PostgreSQL: returns the batch's list for `key`,
 * whose rows `flush` writes in one statement (one round trip instead of one per write) before the
 * batch commits. Elsewhere (SQLite, where a statement costs no round trip; a single write; the
 * rerun with savepoints, where each write must roll back alone) returns null: write at once.
 */
export function batchBuffer<T>(engine: Engine, tx: Tx, key: string, flush: (items: T[]) => Promise<void>): T[] | null {
  if (engine.dialect !== 'pg') return null;
  const buffers = engine.txState(tx).get(BUFFERS) as Map<string, Buffer> | undefined;
  if (!buffers) return null;
  let b = buffers.get(key);
  if (!b) buffers.set(key, (b = { items: [], flush: flush as Buffer['flush'] }));
  return b.items as T[];
}

type Item = { fn: (tx: Tx) => Promise<void>; resolve: () => void; reject: (err: unknown) => void; error?: unknown };

export type GroupCommitter = { run(fn: (tx: Tx) => Promise<void>): Promise<void> };

/** Returns a committer that batches `run` calls of one event-loop turn, and those that arrive while a batch commits, into one transaction. */
export function createGroupCommitter(engine: Engine, maxBatch = 256): GroupCommitter {
  const queue: Item[] = [];
  let scheduled = false;
  // One batch in flight at a time: what arrives while it commits waits and goes into the next
  // batch together, instead of each turn's few writes queueing a transaction of their own behind
  // it (writes are serialized anyway; this only makes the batches larger under load).
  let flushing = false;

  const flush = async () => {
    scheduled = false;
    flushing = true;
    try {
      await commit(queue.splice(0, maxBatch));
    } finally {
      flushing = false;
      if (queue.length) schedule();
    }
  };

  const commit = async (batch: Item[]) => {
    // First without savepoints (two statements and, on PostgreSQL, two round trips fewer per
    // write): if every write succeeds, one commit serves them all. If one throws, that
    // transaction rolls back whole and the batch runs again with a savepoint per write, so the
    // failing one rolls back alone; the writes are re-run from the start, which their functions
    // allow (they read what they need inside the transaction).
    // Only a failure before the COMMIT is sent reruns the batch: a COMMIT that fails (a lost
    // connection) may have committed, and a rerun would then write every event twice.
    let committing = false;
    try {
      await engine.write(async (tx) => {
        const buffers = new Map<string, Buffer>();
        if (engine.dialect === 'pg') engine.txState(tx).set(BUFFERS, buffers);
        for (const item of batch) await item.fn(tx);
        for (const b of buffers.values()) await b.flush(b.items);
        committing = true;
      });
      for (const item of batch) item.resolve();
      return;
    } catch (err) {
      if (committing) {
        for (const item of batch) item.reject(err);
        return;
      }
      // else: the careful path below
    }
    try {
      await engine.write(async (tx) => {
        for (const item of batch) {
          try {
            await engine.savepoint(tx, () => item.fn(tx));
          } catch (err) {
            item.error = err;
          }
        }
      });
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    for (const item of batch) (item.error === undefined ? item.resolve() : item.reject(item.error));
  };
  const schedule = () => {
    if (scheduled || flushing) return;
    scheduled = true;
    setImmediate(() => void flush());
  };

  return {
    run(fn) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ fn, resolve, reject });
        schedule();
      });
    },
  };
}
