// Group commit: writes that arrive in the same turn of the event loop (concurrent toolkit runs
// recording their audit events) share one transaction, so one fsync (SQLite, synchronous=FULL)
// or one commit round trip (PostgreSQL) serves them all. Every caller's promise settles only
// after that commit is durable; each write runs in its own savepoint, so one failing write rolls
// back alone and fails only its own caller.
import type { Engine, Tx } from './engine';

type Item = { fn: (tx: Tx) => Promise<void>; resolve: () => void; reject: (err: unknown) => void; error?: unknown };

export type GroupCommitter = { run(fn: (tx: Tx) => Promise<void>): Promise<void> };

/** Returns a committer that batches `run` calls of one event-loop turn into one transaction. */
export function createGroupCommitter(engine: Engine, maxBatch = 256): GroupCommitter {
  const queue: Item[] = [];
  let scheduled = false;

  const flush = async () => {
    scheduled = false;
    const batch = queue.splice(0, maxBatch);
    if (queue.length) schedule();
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
    if (scheduled) return;
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
