// A service's rate-limit budget, read from the headers of its answer. Three dialects exist:
// GitHub's X-RateLimit-* (reset in epoch seconds), the IETF draft's RateLimit-* (reset in seconds
// from now) and Retry-After (seconds or an HTTP date; alone it means "nothing left until then").
// One pure function reads them all, so the execute answer and the run panel say the same.

export type RateLimit = { remaining: number; limit: number | null; resetAt: number | null };

const count = (v: string | undefined): number | null => {
  if (v === undefined) return null;
  // RateLimit-Limit may carry a policy after the number ("100, 100;w=60"): the first number counts.
  const m = /^\s*(\d+)/.exec(v);
  return m ? Number(m[1]) : null;
};

/** Returns the budget the headers report (names in any case), or null when they report none. */
export function parseRateLimit(headers: Record<string, string | undefined>, now: number): RateLimit | null {
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') h[k.toLowerCase()] = v;
  const retryAfter = retryAfterAt(h['retry-after'], now);

  const gh = count(h['x-ratelimit-remaining']);
  if (gh !== null) {
    const reset = count(h['x-ratelimit-reset']);
    return { remaining: gh, limit: count(h['x-ratelimit-limit']), resetAt: reset !== null ? reset * 1000 : retryAfter };
  }
  const ietf = count(h['ratelimit-remaining']);
  if (ietf !== null) {
    const delta = count(h['ratelimit-reset']);
    return { remaining: ietf, limit: count(h['ratelimit-limit']), resetAt: delta !== null ? now + delta * 1000 : retryAfter };
  }
  if (retryAfter !== null) return { remaining: 0, limit: null, resetAt: retryAfter };
  return null;
}

/** Retry-After as a time: delay seconds from now, or an HTTP date; null when absent or unreadable. */
function retryAfterAt(v: string | undefined, now: number): number | null {
  if (v === undefined) return null;
  const t = v.trim();
  if (/^\d+$/.test(t)) return now + Number(t) * 1000;
  const ms = Date.parse(t);
  return /[a-z]/i.test(t) && Number.isFinite(ms) ? ms : null;
}

/** The API's shape of a budget (`rate_limit`). */
export function rateLimitJson(r: RateLimit) {
  return { remaining: r.remaining, limit: r.limit, reset_at: r.resetAt === null ? null : new Date(r.resetAt).toISOString() };
}
