// What every data function needs: the database, the clock, and the keys it may use.
import type { KeyRing } from '../crypto/keyring';
import type { Db } from './db';
import { createGroupCommitter, type GroupCommitter } from './group-commit';
import { checkKeyRing, loadAuditKey } from './keys';

export type Clock = { now(): number };

export type Store = {
  db: Db;
  clock: Clock;
  ring: KeyRing;
  /** The audit HMAC key, unwrapped once at start (see src/store/keys.ts). */
  auditKey: Buffer;
  /** Batches concurrent hot-path writes (execution records) into one commit. */
  groupCommit: GroupCommitter;
};

/** Transaction handle as drizzle passes it; everything inside runs synchronously. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Runs `fn` in one IMMEDIATE transaction (the write lock is taken up front) and returns its value. */
export function writeTx<T>(store: Store, fn: (tx: Tx) => T): T {
  return store.db.transaction((tx) => fn(tx), { behavior: 'immediate' });
}

/**
 * Returns the store for a database: checks the key ring against it (throws KeyMismatchError,
 * touching nothing, when it does not fit) and unwraps the audit key.
 */
export function createStore(db: Db, ring: KeyRing, clock: Clock = { now: () => Date.now() }): Store {
  checkKeyRing(db, ring);
  return { db, clock, ring, auditKey: loadAuditKey(db, ring), groupCommit: createGroupCommitter(db) };
}
