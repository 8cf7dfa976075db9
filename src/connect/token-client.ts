// Talks to an OAuth app's token endpoint (code exchange and refresh) and to the provider's user
// call, always through the checked outbound client (SSRF rules, OUTBOUND_ALLOW_HOSTS, caps), with
// every secret it sends (client secret, code, verifier, tokens) redacted from what comes back.
//
// A token answer is read the same whatever its status: an `error` (GitHub answers 200 with one,
// Slack `ok:false`) or no access token from a reachable endpoint is final (the grant is gone); a
// 5xx, a timeout or no answer is not (try again later).
import type { OutboundClient } from '../http/outbound';
import { providerDef, userCallUrl } from './providers';

/** A token answer: lifetimes in seconds, null when the provider did not say. */
export type TokenSet = { accessToken: string; refreshToken: string | null; expiresIn: number | null; refreshTokenExpiresIn: number | null };

export type TokenResult =
  | { ok: true; tokens: TokenSet; receivedAt: number }
  | { ok: false; final: true; error: string }
  | { ok: false; final: false; message: string };

export type TokenEndpoint = { tokenUrl: string; clientId: string; clientSecret: string };

const REFRESH_AHEAD_MS = 15 * 60_000;

/** When to refresh a token ahead of its expiry: expiry minus the smaller of 15 minutes and half its lifetime. */
export function refreshSchedule(receivedAt: number, expiresIn: number | null): { expiresAt: number | null; refreshAt: number | null } {
  if (expiresIn === null) return { expiresAt: null, refreshAt: null };
  const lifetime = expiresIn * 1000;
  const expiresAt = receivedAt + lifetime;
  return { expiresAt, refreshAt: expiresAt - Math.min(REFRESH_AHEAD_MS, lifetime / 2) };
}

/** What a connected credential stores from a token answer: the access token's schedule and the credential's own expiry (ms). */
export type ConnectedSchedule = { tokenExpiresAt: number | null; tokenRefreshAt: number | null; expiresAt: number | null };

/**
 * The one rule for a connected credential's `expires_at` (CONTRACT §8, "taken from a connected
 * account"), applied on the first connect and on every refresh. `expires_at` is when the
 * credential as a whole stops working without its owner reconnecting, which is not the access
 * token's expiry when there is a refresh token to renew it:
 * - a refresh token (new in this answer, or `keptRefresh`: the one already stored, when a refresh
 *   answer does not rotate it): the refresh token's own expiry when the provider reports one
 *   (`refresh_token_expires_in`, as GitHub Apps do), else null — it renews itself indefinitely.
 *   A kept refresh token keeps the expiry already stored (`keptExpiresAt`): its lifetime did not
 *   start again.
 * - no refresh token at all: the access token's expiry when the answer has `expires_in` (after
 *   that the credential needs reconnecting, so it warns "expires soon" seven days ahead and is
 *   `expired` after, failing closed before any call); else null. No refresh is scheduled ahead of
 *   expiry (there is nothing to refresh with; doing so would only mark it reconnect_required
 *   while the token still works). A 401 before then still makes it reconnect_required.
 */
export function connectedSchedule(receivedAt: number, tokens: TokenSet, kept?: { keptRefresh: boolean; keptExpiresAt: number | null }): ConnectedSchedule {
  const token = refreshSchedule(receivedAt, tokens.expiresIn);
  if (tokens.refreshToken) {
    const expiresAt = tokens.refreshTokenExpiresIn !== null ? receivedAt + tokens.refreshTokenExpiresIn * 1000 : null;
    return { tokenExpiresAt: token.expiresAt, tokenRefreshAt: token.refreshAt, expiresAt };
  }
  if (kept?.keptRefresh) return { tokenExpiresAt: token.expiresAt, tokenRefreshAt: token.refreshAt, expiresAt: kept.keptExpiresAt };
  return { tokenExpiresAt: token.expiresAt, tokenRefreshAt: null, expiresAt: token.expiresAt };
}

const asObject = (body: unknown): Record<string, unknown> => {
  if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  // GitHub answers form-encoded unless asked for JSON; read either.
  if (typeof body === 'string') return Object.fromEntries(new URLSearchParams(body));
  return {};
};
const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
// An error code goes into pages and the audit log: only a short word, never text from the answer.
const errorCode = (v: unknown) => (typeof v === 'string' && /^[\w.-]{1,64}$/.test(v) ? v : 'invalid_response');

// A lifetime in seconds (a number or a digit string, as form-encoded answers carry it); null unless positive.
const seconds = (v: unknown) => {
  const n = typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? Number(v) : null;
  return n !== null && Number.isFinite(n) && n > 0 ? n : null;
};

/** Reads a token endpoint's answer (standard OAuth 2, and Slack's authed_user shape). */
export function readTokenAnswer(body: unknown): { tokens: TokenSet } | { error: string } {
  const b = asObject(body);
  if (b.error !== undefined || b.ok === false) return { error: errorCode(b.error) };
  const user = asObject(b.authed_user);
  const accessToken = str(b.access_token) ?? str(user.access_token);
  if (!accessToken) return { error: 'invalid_response' };
  const refreshToken = str(b.refresh_token) ?? str(user.refresh_token);
  return {
    tokens: {
      accessToken,
      refreshToken,
      expiresIn: seconds(b.expires_in ?? user.expires_in),
      refreshTokenExpiresIn: refreshToken ? seconds(b.refresh_token_expires_in ?? user.refresh_token_expires_in) : null,
    },
  };
}

/** Posts a grant to the token endpoint (client_secret_post) and reads the answer. */
export async function tokenRequest(outbound: OutboundClient, app: TokenEndpoint, grant: Record<string, string>, now: () => number): Promise<TokenResult> {
  const params = { ...grant, client_id: app.clientId, client_secret: app.clientSecret };
  const result = await outbound.send({
    method: 'POST',
    url: app.tokenUrl,
    headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': 'Latchkey' },
    body: new URLSearchParams(params).toString(),
    // Only the secret values: redacting a word such as "refresh_token" would eat the answer's keys.
    secrets: [app.clientSecret, grant.code, grant.code_verifier, grant.refresh_token].filter((v): v is string => !!v),
  });
  if (!result.ok) return { ok: false, final: false, message: result.reason === 'timeout' ? 'the token endpoint did not answer in time' : result.reason === 'destination_not_allowed' ? `Latchkey may not call ${result.host}` : 'the token endpoint could not be reached' };
  if (result.status >= 500) return { ok: false, final: false, message: `the token endpoint failed with HTTP ${result.status}` };
  const read = readTokenAnswer(result.body);
  if ('error' in read) return { ok: false, final: true, error: read.error };
  return { ok: true, tokens: read.tokens, receivedAt: now() };
}

/** Asks the provider who the token belongs to (GitHub /user, GitLab /api/v4/user, Atlassian /me, Slack auth.test); null when it cannot say. */
export async function fetchAccount(outbound: OutboundClient, provider: string, baseUrl: string | null, accessToken: string): Promise<string | null> {
  const call = providerDef(provider)?.userCall;
  if (!call || !baseUrl) return null;
  const result = await outbound.send({
    method: call.method,
    url: userCallUrl(call, baseUrl),
    headers: { Accept: 'application/json', Authorization: `Bearer ${accessToken}`, 'User-Agent': 'Latchkey' },
    secrets: [accessToken],
  });
  if (!result.ok || result.status >= 300) return null;
  const account = call.account(result.body);
  return account && account.length <= 200 ? account : null;
}
