// Calls a service with a credential: builds the URL from the credential's base_url, adds the
// type's authentication, and turns the outbound result into words for a person. Used by Test
// connection and by toolkit execution.
import { secretValuesForRedaction, type CredentialType } from '../domain/credential-types';
import type { OutboundClient, OutboundResult } from './outbound';
import { outboundFailureMessage } from '../domain/failures';
import { parseExpiry } from '../domain/expiry';

export type ServiceCall = { method: string; path: string; query?: Record<string, string>; body?: unknown };

/** Joins base_url and a path as text (never `new URL(path, base)`, which would drop the base's own path). */
export function serviceUrl(baseUrl: string, path: string, query?: Record<string, string>): string {
  const qs = query && Object.keys(query).length ? `?${new URLSearchParams(query).toString()}` : '';
  return `${baseUrl.replace(/\/+$/, '')}${path}${qs}`;
}

/** Sends one call to the credential's service; the answer is already scrubbed of its secrets. */
export async function callService(
  outbound: OutboundClient,
  type: CredentialType,
  fields: Record<string, string>,
  secrets: Record<string, string>,
  call: ServiceCall,
): Promise<OutboundResult> {
  // A connected account (src/connect) holds an OAuth access token, sent as a bearer token whatever
  // the type's pasted-token header would be; every one of its secrets is redacted from the answer.
  const connected = secrets.access_token !== undefined;
  const auth = connected ? { Authorization: `Bearer ${secrets.access_token}` } : type.auth(fields, secrets);
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'Latchkey', ...auth };
  let body: string | undefined;
  if (call.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(call.body);
  }
  return outbound.send({
    method: call.method,
    url: serviceUrl(fields.base_url ?? '', call.path, call.query),
    headers,
    body,
    secrets: connected ? Object.values(secrets).filter(Boolean) : secretValuesForRedaction(type, fields, secrets),
  });
}

/** Returns a one-line summary of a service's answer body, for messages. */
export function summarizeBody(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const key of ['message', 'error_description', 'error', 'errorMessages']) {
      const v = b[key];
      if (typeof v === 'string' && v) return v.slice(0, 200);
      if (Array.isArray(v) && typeof v[0] === 'string') return v.join('; ').slice(0, 200);
    }
    return JSON.stringify(body).slice(0, 200);
  }
  return String(body ?? '').trim().slice(0, 200);
}

/** A connection test's outcome; `expiresAt` (ms) when the service said when the credential expires. */
export type ConnectionTest = { ok: boolean; message: string; account?: string; status?: number; expiresAt?: number };

/** Calls the type's who-am-I endpoint and says what happened: "Verified as <account>" or the service's answer. */
export async function testConnection(outbound: OutboundClient, type: CredentialType, fields: Record<string, string>, secrets: Record<string, string>): Promise<ConnectionTest> {
  const result = await callService(outbound, type, fields, secrets, { method: type.whoami.method, path: type.whoami.path });
  if (!result.ok) return { ok: false, message: outboundFailureMessage(result) };
  if (result.status >= 200 && result.status < 300) {
    const failed = type.whoami.failed?.(result.body);
    if (failed) return { ok: false, status: result.status, message: `The service refused the credential: ${failed}` };
    const account = type.whoami.account(result.body);
    const expiresAt = reportedExpiry(result.headers);
    return { ok: true, status: result.status, account, message: account ? `Verified as ${account}` : `Connected (HTTP ${result.status})`, ...(expiresAt !== null ? { expiresAt } : {}) };
  }
  const summary = summarizeBody(result.body);
  return { ok: false, status: result.status, message: `The service answered ${result.status}${summary ? `: ${summary}` : ''}` };
}

/** When the service says the credential expires (GitHub: `GitHub-Authentication-Token-Expiration`), or null. */
function reportedExpiry(headers: Record<string, string>): number | null {
  const v = Object.entries(headers).find(([k]) => k.toLowerCase() === 'github-authentication-token-expiration')?.[1];
  return v ? parseExpiry(v) : null;
}
