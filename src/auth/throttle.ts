// Sign-in (and client registration) throttling, kept in the database: every instance behind a
// load balancer counts the same attempts, and a restart forgets nothing. Each failure is a row
// (key, at); a window's count is an indexed range read; rows older than the window are dropped
// as new ones arrive for the key, and rows older than any window whenever any key fails. Keys
// are stored as SHA-256 only: a key holds what was typed as a username, which may be a password
// typed in the wrong field.
import { createHash } from 'node:crypto';
import type { Store } from '../store/store';
import { countFailures, dropFailures, recordFailure } from '../store/throttle';

export type ThrottleRule = { max: number; windowMs: number };

/** No window is longer: a row older than this counts for nobody, and any failure sweeps it. */
export const MAX_THROTTLE_WINDOW_MS = 24 * 60 * 60_000;

export type Throttle = {
  /** Returns seconds to wait when the key is blocked, else 0. */
  retryAfter(key: string): Promise<number>;
  fail(key: string): Promise<void>;
  reset(key: string): Promise<void>;
};

/** Returns a limiter that counts failures per key inside a sliding window; `name` keeps limiters' keys apart. */
export function createThrottle(store: Store, name: string, rule: ThrottleRule): Throttle {
  if (rule.windowMs > MAX_THROTTLE_WINDOW_MS) throw new Error(`throttle ${name}: a window longer than ${MAX_THROTTLE_WINDOW_MS} ms would be swept early`);
  const k = (key: string) => createHash('sha256').update(`${name}:${key}`).digest('hex');
  return {
    async retryAfter(key) {
      const now = store.clock.now();
      const times = await countFailures(store, k(key), now - rule.windowMs, rule.max);
      if (times.length < rule.max) return 0;
      // times are newest first: the max-th newest failure leaves the window first.
      return Math.max(1, Math.ceil((times[rule.max - 1] + rule.windowMs - now) / 1000));
    },
    async fail(key) {
      const now = store.clock.now();
      await recordFailure(store, k(key), now, now - rule.windowMs, now - MAX_THROTTLE_WINDOW_MS);
    },
    async reset(key) {
      await dropFailures(store, k(key));
    },
  };
}
