// Sign-in throttling, in memory: per account and per client address. A single container serves
// one instance, so memory is the right place; a restart forgets, which only loosens it briefly.

export type ThrottleRule = { max: number; windowMs: number };

/** Returns a limiter that counts failures per key inside a sliding window. */
export function createThrottle(rule: ThrottleRule, now: () => number) {
  const failures = new Map<string, number[]>();
  const recent = (key: string) => {
    const cutoff = now() - rule.windowMs;
    const list = (failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length) failures.set(key, list);
    else failures.delete(key);
    return list;
  };
  return {
    /** Returns seconds to wait when the key is blocked, else 0. */
    retryAfter(key: string): number {
      const list = recent(key);
      if (list.length < rule.max) return 0;
      return Math.max(1, Math.ceil((list[list.length - rule.max] + rule.windowMs - now()) / 1000));
    },
    fail(key: string): void {
      const list = recent(key);
      list.push(now());
      failures.set(key, list);
      if (failures.size > 100_000) failures.delete(failures.keys().next().value!);
    },
    reset(key: string): void {
      failures.delete(key);
    },
  };
}
