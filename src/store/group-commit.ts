// Group commit: writes that arrive in the same turn of the event loop (concurrent toolkit runs
// recording their audit events) share one transaction, so one fsync (synchronous=FULL) serves
// them all. Every caller's promise settles only after that commit is on disk; each write runs
// in its own savepoint, so one failing write rolls back alone and fails only its own caller.
import type { Db } from './db';
import type { Tx } from './store';

type Item = { fn: (tx: Tx) => void; resolve: () => void; reject: (err: unknown) => void; error?: unknown };

export type GroupCommitter = { run(fn: (tx: Tx) => void): Promise<void> };

/** Returns a committer that batches `run` calls of one event-loop turn into one transaction. */
export function createGroupCommitter(db: Db, maxBatch = 256): GroupCommitter {
  let queue: Item[] = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const batch = queue.splice(0, maxBatch);
    if (queue.length) schedule();
    try {
      db.transaction(
        (tx) => {
          for (const item of batch) {
            try {
              tx.transaction((inner) => item.fn(inner as unknown as Tx));
            } catch (err) {
              item.error = err;
            }
          }
        },
        { behavior: 'immediate' },
      );
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    for (const item of batch) (item.error === undefined ? item.resolve() : item.reject(item.error));
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
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
