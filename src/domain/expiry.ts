// When a credential stops working, as one word: the credential listing's `expiry`, the warnings on
// credentials, toolkits and team readiness, and resolution's "expired" all ask expiryOf, with the
// app's clock, so a page and the API never disagree about a credential near its end.

/** How long before its end a credential counts as expiring soon (seven days). */
export const EXPIRES_SOON_MS = 7 * 24 * 60 * 60 * 1000;

export type Expiry = 'none' | 'ok' | 'soon' | 'expired';

/** Returns the expiry word of a credential that ends at `expiresAt` (ms, null: unknown) at time `now`. */
export function expiryOf(expiresAt: number | null | undefined, now: number): Expiry {
  if (expiresAt === null || expiresAt === undefined) return 'none';
  if (expiresAt <= now) return 'expired';
  return expiresAt - now <= EXPIRES_SOON_MS ? 'soon' : 'ok';
}

/**
 * Parses an expiry as people and services write it: ISO 8601 (`2026-12-31`, `2026-12-31T08:00:00Z`)
 * or GitHub's `GitHub-Authentication-Token-Expiration` (`2026-12-31 08:00:00 UTC`, or with an
 * offset such as `+0200`). A date without a time is the start of that day, UTC. Null when unreadable.
 */
export function parseExpiry(text: string): number | null {
  const t = text.trim();
  const github = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}(?::\d{2})?) ?(UTC|[+-]\d{2}:?\d{2})$/.exec(t);
  const iso = github ? `${github[1]}T${github[2]}${github[3] === 'UTC' ? 'Z' : github[3].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')}` : /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(iso)) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}
