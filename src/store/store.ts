// What every data function needs: the database engine, the clock, and the keys it may use.
import type { KeyRing } from '../crypto/keyring';
import type { Engine, Orm, Tables, Tx } from './engine';
import { createGroupCommitter, type GroupCommitter } from './group-commit';
import { checkKeyRing, loadAuditKey } from './keys';

export type { Tx };

export type Clock = { now(): number };

export type Store = {
  engine: Engine;
  /** Reads outside a transaction (engine.db). */
  db: Orm;
  /** The engine's tables (engine.t). */
  t: Tables;
  clock: Clock;
  ring: KeyRing;
  /** The audit HMAC key, unwrapped once at start (see src/store/keys.ts). */
  auditKey: Buffer;
  /** Batches concurrent hot-path writes (execution records) into one commit. */
  groupCommit: GroupCommitter;
};

/** Runs `fn` in one write transaction (one at a time, across instances) and returns its value. */
export function writeTx<T>(store: Pick<Store, 'engine'>, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return store.engine.write(fn);
}

/**
 * Returns the store for a database: checks the key ring against it (throws KeyMismatchError,
 * touching nothing, when it does not fit) and unwraps the audit key.
 */
export async function createStore(engine: Engine, ring: KeyRing, clock: Clock = { now: () => Date.now() }): Promise<Store> {
  await checkKeyRing(engine, ring);
  return { engine, db: engine.db, t: engine.t, clock, ring, auditKey: await loadAuditKey(engine, ring), groupCommit: createGroupCommitter(engine) };
}
