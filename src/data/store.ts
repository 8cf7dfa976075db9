// What every data function needs: the database, the clock, and the keys it may use.
import type { KeyRing } from '../crypto/keyring';
import type { Db } from './db';

export type Clock = { now(): number };

export type Store = {
  db: Db;
  clock: Clock;
  ring: KeyRing;
  /** The audit HMAC key, unwrapped once at start (see src/data/keys.ts). */
  auditKey: Buffer;
};

/** Transaction handle as drizzle passes it; everything inside runs synchronously. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Runs `fn` in one IMMEDIATE transaction (the write lock is taken up front) and returns its value. */
export function writeTx<T>(store: Store, fn: (tx: Tx) => T): T {
  return store.db.transaction((tx) => fn(tx), { behavior: 'immediate' });
}
