// The authorization server's use cases: check an authorization request, turn the person's answer
// into a redirect (with a code, or access_denied), exchange codes and refresh tokens at the token
// endpoint, and revoke. Knows no HTTP beyond the redirect URLs it builds.
import { hashToken } from '../auth/tokens';
import {
  ACCESS_TOKEN_TTL_MS,
  checkAuthorizationRequest,
  CODE_TTL_MS,
  errorBody,
  mcpResource,
  type AuthorizationParams,
  type Failure,
  type FailureReason,
} from '../domain/oauth';
import type { Deps } from '../env';
import { exchangeCode, findClient, insertGrantWithCode, revokeGrantByToken, rotateRefreshToken, type OAuthClient } from '../store/oauth';
import { generateOAuthToken } from './access-tokens';
import { resolveClient } from './clients';

export type AuthorizationRequest = AuthorizationParams & { clientId: string };

export type CheckedAuthorization =
  | { ok: true; client: OAuthClient; request: AuthorizationRequest }
  /** `redirect` is where to report the failure; absent when the redirect URI itself is not trusted. */
  | (Failure & { redirect?: string });

/** The authorization request's parameters from a query or a form (missing ones are ''). */
export function readAuthorizationRequest(get: (name: string) => string | undefined): AuthorizationRequest {
  const s = (name: string) => get(name) ?? '';
  return {
    clientId: s('client_id'),
    responseType: s('response_type'),
    redirectUri: s('redirect_uri'),
    state: s('state'),
    codeChallenge: s('code_challenge'),
    codeChallengeMethod: s('code_challenge_method'),
    resource: s('resource'),
  };
}

/** Returns the redirect URI with the answer's parameters, `state` and `iss` (RFC 9207) added. */
export function redirectWith(redirectUri: string, state: string, origin: string, params: Record<string, string>): string {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  if (state) url.searchParams.set('state', state);
  url.searchParams.set('iss', origin);
  return url.href;
}

const errorRedirect = (req: AuthorizationRequest, origin: string, reason: FailureReason) =>
  redirectWith(req.redirectUri, req.state, origin, { ...errorBody(reason) });

/** Checks who the client is and what it asks for (run on the consent page and again on its answer). */
export async function checkAuthorization(deps: Deps, req: AuthorizationRequest, origin: string): Promise<CheckedAuthorization> {
  const client = await resolveClient(deps, req.clientId);
  if (!client.ok) return client;
  const verdict = checkAuthorizationRequest(req, client.client.redirectUris, mcpResource(origin));
  if (!verdict.ok) return verdict.redirect ? { ok: false, reason: verdict.reason, redirect: errorRedirect(req, origin, verdict.reason) } : { ok: false, reason: verdict.reason };
  return { ok: true, client: client.client, request: req };
}

/** Records the person's consent and returns the redirect carrying a fresh authorization code. */
export async function approveAuthorization(deps: Deps, user: { id: string; username: string }, checked: Extract<CheckedAuthorization, { ok: true }>, origin: string): Promise<string> {
  const code = generateOAuthToken('code');
  const { request } = checked;
  await insertGrantWithCode(deps.store, user, checked.client, {
    redirectUri: request.redirectUri,
    resource: mcpResource(origin),
    codeHash: hashToken(code),
    codeChallenge: request.codeChallenge,
    expiresAt: deps.store.clock.now() + CODE_TTL_MS,
  });
  return redirectWith(request.redirectUri, request.state, origin, { code });
}

/** Returns the redirect telling the client that the person declined. */
export function denialRedirect(req: AuthorizationRequest, origin: string): string {
  return errorRedirect(req, origin, 'access_denied');
}

export type TokenAnswer = { access_token: string; token_type: 'Bearer'; expires_in: number; refresh_token: string };

/** Answers a token request (authorization_code or refresh_token grant) from its form fields. */
export async function tokenRequest(deps: Deps, form: Record<string, string>, origin: string): Promise<{ ok: true; answer: TokenAnswer } | Failure> {
  const grantType = form.grant_type ?? '';
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') return { ok: false, reason: grantType ? 'grant_type_unsupported' : 'param_missing' };
  const clientId = form.client_id ?? '';
  if (!clientId) return { ok: false, reason: 'client_id_missing' };
  if (!(await findClient(deps.store, clientId))) return { ok: false, reason: 'client_unknown' };
  // RFC 8707: a client may name the resource again; it can only be ours.
  if (form.resource && form.resource !== mcpResource(origin)) return { ok: false, reason: 'resource_invalid' };
  const access = generateOAuthToken('access');
  const refresh = generateOAuthToken('refresh');
  const hashes = { accessHash: hashToken(access), refreshHash: hashToken(refresh) };
  let result;
  if (grantType === 'authorization_code') {
    if (!form.code || !form.code_verifier || !form.redirect_uri) return { ok: false, reason: 'param_missing' };
    result = await exchangeCode(deps.store, { codeHash: hashToken(form.code), clientId, redirectUri: form.redirect_uri, codeVerifier: form.code_verifier }, hashes);
  } else {
    if (!form.refresh_token) return { ok: false, reason: 'param_missing' };
    result = await rotateRefreshToken(deps.store, { refreshHash: hashToken(form.refresh_token), clientId }, hashes);
  }
  if (!result.ok) return result;
  return { ok: true, answer: { access_token: access, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_MS / 1000, refresh_token: refresh } };
}

/** Revokes the grant behind a token the client holds (RFC 7009); unknown tokens are ignored. */
export async function revokeToken(deps: Deps, form: Record<string, string>): Promise<{ ok: true } | Failure> {
  if (!form.token) return { ok: false, reason: 'param_missing' };
  if (!form.client_id) return { ok: false, reason: 'client_id_missing' };
  await revokeGrantByToken(deps.store, hashToken(form.token), form.client_id);
  return { ok: true };
}
