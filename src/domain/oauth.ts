// The authorization server's rules (OAuth 2.1 for MCP clients), pure: which redirect URIs and
// client metadata are acceptable, what an authorization request must carry, and whether a code or
// refresh token may be exchanged. The store looks rows up by hash and applies the verdicts; the
// routes turn a failure into an RFC 6749 error with the sentence from FAILURES.
import { createHash } from 'node:crypto';

/** An authorization code lives two minutes: the client exchanges it right after the redirect. */
export const CODE_TTL_MS = 2 * 60_000;
/** Access tokens live one hour (CONTRACT: at most one hour). */
export const ACCESS_TOKEN_TTL_MS = 60 * 60_000;
/** Each refresh token lives 30 days from its issue; every use replaces it. */
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60_000;

const MAX_URI = 2000;
const MAX_NAME = 100;
const MAX_REDIRECT_URIS = 10;
const MAX_STATE = 1000;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The RFC 6749 / 7591 / 8707 error codes this server answers with. */
export type OAuthError =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_target'
  | 'access_denied'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata';

/** Every expected failure: its RFC error code and the sentence a developer reads. */
export const FAILURES = {
  client_id_missing: ['invalid_request', 'client_id is required.'],
  client_unknown: ['invalid_client', 'This client_id is not registered here. Register with POST /oauth/register or use a Client ID Metadata Document URL.'],
  metadata_url_invalid: ['invalid_client', 'A client_id URL must be https (http only on a loopback host), with a path, and without fragment, credentials or dot segments.'],
  metadata_unreachable: ['invalid_client', 'The Client ID Metadata Document could not be fetched.'],
  metadata_not_allowed: ['invalid_client', 'The Client ID Metadata Document is on an address Latchkey may not call.'],
  metadata_too_large: ['invalid_client', 'The Client ID Metadata Document is larger than 5 KiB.'],
  metadata_not_json: ['invalid_client', 'The Client ID Metadata Document must be a JSON object answered with status 200.'],
  metadata_client_id_mismatch: ['invalid_client', 'The Client ID Metadata Document’s client_id must equal the URL it was fetched from.'],
  redirect_uris_missing: ['invalid_redirect_uri', 'redirect_uris must list 1 to 10 redirect URIs.'],
  redirect_uri_invalid: ['invalid_redirect_uri', 'Each redirect URI must be an absolute https URL, or http on localhost, 127.0.0.1 or [::1], without a fragment or credentials.'],
  client_name_invalid: ['invalid_client_metadata', 'client_name must be text of at most 100 characters.'],
  auth_method_unsupported: ['invalid_client_metadata', 'Only public clients are supported: token_endpoint_auth_method must be "none".'],
  grant_types_unsupported: ['invalid_client_metadata', 'grant_types may only hold authorization_code and refresh_token.'],
  response_types_unsupported: ['invalid_client_metadata', 'response_types may only hold code.'],
  metadata_not_object: ['invalid_client_metadata', 'The client metadata must be a JSON object.'],
  redirect_uri_missing: ['invalid_request', 'redirect_uri is required.'],
  redirect_uri_not_registered: ['invalid_request', 'redirect_uri does not exactly match a redirect URI registered for this client.'],
  response_type_unsupported: ['unsupported_response_type', 'Only response_type=code is supported.'],
  pkce_missing: ['invalid_request', 'PKCE is required: send code_challenge with code_challenge_method=S256.'],
  pkce_method: ['invalid_request', 'Only code_challenge_method=S256 is supported.'],
  pkce_challenge_format: ['invalid_request', 'code_challenge must be the base64url SHA-256 of the code_verifier (43 characters).'],
  state_too_long: ['invalid_request', 'state must be at most 1000 characters.'],
  resource_invalid: ['invalid_target', 'resource must be this server’s MCP endpoint.'],
  access_denied: ['access_denied', 'The person declined the request.'],
  grant_type_unsupported: ['unsupported_grant_type', 'grant_type must be authorization_code or refresh_token.'],
  param_missing: ['invalid_request', 'A required parameter is missing.'],
  code_unknown: ['invalid_grant', 'The authorization code is not valid.'],
  code_expired: ['invalid_grant', 'The authorization code has expired.'],
  code_reused: ['invalid_grant', 'The authorization code was already used; the grant it started is revoked.'],
  code_verifier_mismatch: ['invalid_grant', 'code_verifier does not match the code_challenge.'],
  code_redirect_mismatch: ['invalid_grant', 'redirect_uri differs from the one in the authorization request.'],
  client_mismatch: ['invalid_grant', 'The grant was issued to another client.'],
  refresh_unknown: ['invalid_grant', 'The refresh token is not valid.'],
  refresh_expired: ['invalid_grant', 'The refresh token has expired.'],
  refresh_reused: ['invalid_grant', 'The refresh token was already used; the grant is revoked.'],
  grant_revoked: ['invalid_grant', 'The grant was revoked.'],
} as const satisfies Record<string, readonly [OAuthError, string]>;

export type FailureReason = keyof typeof FAILURES;
export type Failure = { ok: false; reason: FailureReason };

const fail = (reason: FailureReason): Failure => ({ ok: false, reason });

/** Returns the body of an RFC 6749 error answer for a failure. */
export function errorBody(reason: FailureReason): { error: OAuthError; error_description: string } {
  const [error, error_description] = FAILURES[reason];
  return { error, error_description };
}

/** Returns the protected resource every token is bound to: `<origin>/mcp`. */
export function mcpResource(origin: string): string {
  return `${origin}/mcp`;
}

/** Returns the URL-safe SHA-256 of a PKCE code_verifier (the S256 code_challenge). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** True when the host is a loopback name or address (`URL.hostname` form). */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

/**
 * Returns null when a redirect URI is acceptable: absolute https, or http on a loopback host
 * (RFC 8252 native apps); never a fragment or user info. Other schemes (custom app schemes) are
 * refused: nothing but PKCE would stop another app claiming the same scheme.
 */
export function checkRedirectUri(uri: unknown): FailureReason | null {
  if (typeof uri !== 'string' || uri.length > MAX_URI) return 'redirect_uri_invalid';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'redirect_uri_invalid';
  }
  if (url.hash || uri.includes('#') || url.username || url.password) return 'redirect_uri_invalid';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return null;
  return 'redirect_uri_invalid';
}

/**
 * Returns null when a client_id may be fetched as a Client ID Metadata Document: https (http only
 * on a loopback host, which the outbound rules refuse unless OUTBOUND_ALLOW_HOSTS lists it), a
 * path, no fragment, credentials or dot segments, and already in canonical form.
 */
export function checkMetadataUrl(clientId: string): FailureReason | null {
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'metadata_url_invalid';
  }
  const schemeOk = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  // The parser removes dot segments and normalises case: a client_id it rewrites is not canonical.
  if (!schemeOk || url.href !== clientId || clientId.length > MAX_URI) return 'metadata_url_invalid';
  if (url.hash || clientId.includes('#') || url.username || url.password || url.pathname === '/') return 'metadata_url_invalid';
  return null;
}

/** True when a client_id names a metadata document (a URL) rather than a registered client. */
export function isMetadataClientId(clientId: string): boolean {
  return /^https?:\/\//i.test(clientId);
}

export type ClientMetadata = { name: string; redirectUris: string[] };

/**
 * Checks client metadata (an RFC 7591 registration body or a metadata document): redirect URIs,
 * a public client's auth method, grant and response types, and the name, defaulted to the host
 * of the first redirect URI.
 */
export function checkClientMetadata(input: unknown): { ok: true; metadata: ClientMetadata } | Failure {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return fail('metadata_not_object');
  const m = input as Record<string, unknown>;
  const uris = m.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > MAX_REDIRECT_URIS) return fail('redirect_uris_missing');
  for (const uri of uris) {
    const bad = checkRedirectUri(uri);
    if (bad) return fail(bad);
  }
  if (m.token_endpoint_auth_method !== undefined && m.token_endpoint_auth_method !== 'none') return fail('auth_method_unsupported');
  const subset = (v: unknown, allowed: string[]) => v === undefined || (Array.isArray(v) && v.every((x) => allowed.includes(x as string)));
  if (!subset(m.grant_types, ['authorization_code', 'refresh_token'])) return fail('grant_types_unsupported');
  if (!subset(m.response_types, ['code'])) return fail('response_types_unsupported');
  const rawName = m.client_name;
  if (rawName !== undefined && (typeof rawName !== 'string' || rawName.trim().length > MAX_NAME)) return fail('client_name_invalid');
  const name = (typeof rawName === 'string' && rawName.trim()) || new URL(uris[0] as string).host;
  return { ok: true, metadata: { name, redirectUris: [...new Set(uris as string[])] } };
}

export type AuthorizationParams = {
  responseType: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  codeChallengeMethod: string;
  resource: string;
};

/**
 * Checks an authorization request once the client is known. `redirect: false` failures must not
 * go back to the redirect URI (it is unverified); the others are reported to it (RFC 6749 4.1.2.1).
 */
export function checkAuthorizationRequest(
  p: AuthorizationParams,
  registeredRedirectUris: string[],
  resource: string,
): { ok: true } | (Failure & { redirect: boolean }) {
  if (!p.redirectUri) return { ...fail('redirect_uri_missing'), redirect: false };
  if (!registeredRedirectUris.includes(p.redirectUri)) return { ...fail('redirect_uri_not_registered'), redirect: false };
  const toClient = (reason: FailureReason) => ({ ...fail(reason), redirect: true });
  if (p.responseType !== 'code') return toClient('response_type_unsupported');
  if (p.state.length > MAX_STATE) return toClient('state_too_long');
  if (!p.codeChallenge) return toClient('pkce_missing');
  // A missing method means "plain" (RFC 7636 4.3): refused like plain itself.
  if (p.codeChallengeMethod !== 'S256') return toClient('pkce_method');
  if (!/^[A-Za-z0-9_-]{43}$/.test(p.codeChallenge)) return toClient('pkce_challenge_format');
  if (p.resource && p.resource !== resource) return toClient('resource_invalid');
  return { ok: true };
}

export type StoredCode = { expiresAt: number; usedAt: number | null; codeChallenge: string; clientId: string; redirectUri: string; revoked: boolean };

/**
 * Decides an authorization_code exchange. `reused` tells the store to revoke the grant (RFC 6749
 * 4.1.2: a code used twice may have been stolen). The code is spent by any attempt that got past
 * "unknown", so a wrong verifier cannot be retried.
 */
export function judgeCodeExchange(
  code: StoredCode,
  req: { clientId: string; redirectUri: string; codeVerifier: string },
  now: number,
): { ok: true } | (Failure & { revokeGrant: boolean }) {
  if (code.revoked) return { ...fail('grant_revoked'), revokeGrant: false };
  if (code.usedAt !== null) return { ...fail('code_reused'), revokeGrant: true };
  if (now >= code.expiresAt) return { ...fail('code_expired'), revokeGrant: false };
  if (req.clientId !== code.clientId) return { ...fail('client_mismatch'), revokeGrant: false };
  if (req.redirectUri !== code.redirectUri) return { ...fail('code_redirect_mismatch'), revokeGrant: false };
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(req.codeVerifier) || s256(req.codeVerifier) !== code.codeChallenge) {
    return { ...fail('code_verifier_mismatch'), revokeGrant: false };
  }
  return { ok: true };
}

export type StoredRefresh = { expiresAt: number; rotatedAt: number | null; clientId: string; revoked: boolean };

/** Decides a refresh_token exchange; a rotated token presented again revokes the grant. */
export function judgeRefresh(token: StoredRefresh, req: { clientId: string }, now: number): { ok: true } | (Failure & { revokeGrant: boolean }) {
  if (token.revoked) return { ...fail('grant_revoked'), revokeGrant: false };
  if (req.clientId !== token.clientId) return { ...fail('client_mismatch'), revokeGrant: false };
  if (token.rotatedAt !== null) return { ...fail('refresh_reused'), revokeGrant: true };
  if (now >= token.expiresAt) return { ...fail('refresh_expired'), revokeGrant: false };
  return { ok: true };
}
