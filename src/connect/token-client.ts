// Talks to an OAuth app's token endpoint (code exchange and refresh) and to the provider's user
// call, always through the checked outbound client (SSRF rules, OUTBOUND_ALLOW_HOSTS, caps), with
// every secret it sends (client secret, code, verifier, tokens) redacted from what comes back.
//
// A token answer is read the same whatever its status: an `error` (GitHub answers 200 with one,
// Slack `ok:false`) or no access token from a reachable endpoint is final (the grant is gone); a
// 5xx, a timeout or no answer is not (try again later).
import type { OutboundClient } from '../http/outbound';
import { providerDef, userCallUrl } from './providers';

export type TokenSet = { accessToken: string; refreshToken: string | null; expiresIn: number | null };

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

const asObject = (body: unknown): Record<string, unknown> => {
  if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  // GitHub answers form-encoded unless asked for JSON; read either.
  if (typeof body === 'string') return Object.fromEntries(new URLSearchParams(body));
  return {};
};
const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
// An error code goes into pages and the audit log: only a short word, never text from the answer.
const errorCode = (v: unknown) => (typeof v === 'string' && /^[\w.-]{1,64}$/.test(v) ? v : 'invalid_response');

/** Reads a token endpoint's answer (standard OAuth 2, and Slack's authed_user shape). */
export function readTokenAnswer(body: unknown): { tokens: TokenSet } | { error: string } {
  const b = asObject(body);
  if (b.error !== undefined || b.ok === false) return { error: errorCode(b.error) };
  const user = asObject(b.authed_user);
  const accessToken = str(b.access_token) ?? str(user.access_token);
  if (!accessToken) return { error: 'invalid_response' };
  const refreshToken = str(b.refresh_token) ?? str(user.refresh_token);
  const rawExpiry = b.expires_in ?? user.expires_in;
  const expiresIn = typeof rawExpiry === 'number' || (typeof rawExpiry === 'string' && /^\d+$/.test(rawExpiry)) ? Number(rawExpiry) : null;
  return { tokens: { accessToken, refreshToken, expiresIn: expiresIn !== null && expiresIn > 0 ? expiresIn : null } };
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
