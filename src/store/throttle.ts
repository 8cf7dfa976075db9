// The rows behind src/auth/throttle.ts: one per failed attempt, by key.
import { and, desc, eq, gt, lte } from 'drizzle-orm';
import { writeTx, type Store } from './store';

/** The times (newest first, at most `limit`) of the key's failures after `since`. */
export async function countFailures(store: Store, key: string, since: number, limit: number): Promise<number[]> {
  const { authThrottle } = store.t;
  const rows = await store.db
    .select({ at: authThrottle.at })
    .from(authThrottle)
    .where(and(eq(authThrottle.key, key), gt(authThrottle.at, since)))
    .orderBy(desc(authThrottle.at))
    .limit(limit);
  return rows.map((r) => r.at);
}

/**
 * Records a failure at `at`, drops the key's failures at or before `expired`, and every key's at
 * or before `stale` (older than any window): a key that never fails again, such as one of many
 * usernames sprayed by a client, must not keep its rows for ever.
 */
export async function recordFailure(store: Store, key: string, at: number, expired: number, stale: number): Promise<void> {
  const { authThrottle } = store.t;
  await writeTx(store, async (tx) => {
    await tx.delete(authThrottle).where(and(eq(authThrottle.key, key), lte(authThrottle.at, expired)));
    await staleThrottleRows(store, tx, stale);
    await tx.insert(authThrottle).values({ key, at });
  });
}

/** The sweep of rows at or before `stale`, by `auth_throttle_at_idx` (test/unit/query-plans.test.ts). */
export function staleThrottleRows(store: Store, db: Pick<Store['db'], 'delete'>, stale: number) {
  const { authThrottle } = store.t;
  return db.delete(authThrottle).where(lte(authThrottle.at, stale));
}

/** Forgets the key's failures (a successful sign-in). */
export async function dropFailures(store: Store, key: string): Promise<void> {
  const { authThrottle } = store.t;
  await writeTx(store, (tx) => tx.delete(authThrottle).where(eq(authThrottle.key, key)));
}
