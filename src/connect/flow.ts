// The connect flow (the OAuth client side): start sends the person to the provider with an
// authorization code request (PKCE S256, a fresh `state` of 256 random bits bound to them in the
// database for 10 minutes, single use); finish checks the state, exchanges the code through the
// checked outbound client, asks the provider who the account is, and saves a private credential
// under the chosen Credential ID. Expected failures are values; a refused callback stores nothing.
//
// oauth4webapi makes the state and the PKCE pair; the token and user calls are ours, through
// src/http/outbound.ts (see README, "Connecting accounts", for why not arctic's or oauth4webapi's).
import { calculatePKCECodeChallenge, generateRandomCodeVerifier, generateRandomState } from 'oauth4webapi';
import { getOAuthApp, listOAuthApps, loadOAuthAppForUse, type OAuthApp } from '../store/oauth-apps';
import { saveConnectState, saveConnectedCredential, takeConnectState, type StateCheck } from '../store/connected-credentials';
import { getPrivateWorkspace } from '../store/workspaces';
import { validateCredentialId, credentialIdFromName } from '../domain/credential-id';
import { providerDef } from './providers';
import { connectedSchedule, fetchAccount, tokenRequest } from './token-client';
import type { Deps } from '../env';

type Person = { id: string; username: string };

export type ConnectStart = { ok: true; url: string } | { ok: false; reason: 'unknown_app' | 'invalid_credential_id'; message: string };

/** The Credential ID a Connect link without one uses: made from the app's name. */
export const defaultCredentialId = (appName: string) => credentialIdFromName(appName) ?? 'connected_account';

/** The callback URL of an app on this instance. */
export const redirectUri = (origin: string, appName: string) => `${origin}/oauth/callback/${appName}`;

/** Starts a flow: stores the state and returns the provider's authorization URL to redirect to. */
export async function startConnect(
  deps: Deps,
  person: Person,
  req: { appName: string; credentialId: string; returnTo: string; reconnect: boolean; origin: string },
): Promise<ConnectStart> {
  const app = await getOAuthApp(deps.store, req.appName);
  if (!app) return { ok: false, reason: 'unknown_app', message: `There is no OAuth app named ${req.appName}. Ask an instance admin to register it.` };
  const idError = validateCredentialId(req.credentialId);
  if (idError) return { ok: false, reason: 'invalid_credential_id', message: idError };
  const state = generateRandomState();
  const codeVerifier = generateRandomCodeVerifier();
  await saveConnectState(deps.store, state, { userId: person.id, appName: app.name, credentialId: req.credentialId, codeVerifier, returnTo: req.returnTo, reconnect: req.reconnect });
  const url = new URL(app.authorizeUrl);
  const params: Record<string, string> = {
    ...providerDef(app.provider)?.authorizeParams,
    response_type: 'code',
    client_id: app.clientId,
    redirect_uri: redirectUri(req.origin, app.name),
    state,
    code_challenge: await calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  };
  if (app.scopes) params.scope = app.scopes;
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { ok: true, url: url.toString() };
}

/** Why a callback was refused: each with the sentence the 400 page shows. */
export const CALLBACK_REFUSALS = {
  missing: 'The service did not send back the details Latchkey needs. Start again with Connect.',
  unknown_state: 'This sign-in link is unknown or was already used. Start again with Connect.',
  other_person: 'This sign-in was started by someone else. Start your own with Connect.',
  expired: 'This sign-in took longer than 10 minutes and expired. Start again with Connect.',
  other_app: 'This sign-in was started for another OAuth app. Start again with Connect.',
  unknown_app: 'This OAuth app no longer exists. Ask an instance admin.',
  provider_error: 'The service did not grant access',
  exchange_refused: 'The service refused to issue a token',
  exchange_unreachable: 'The service’s token endpoint could not be reached',
  credential_id_taken: 'You already have a credential with this Credential ID that was not connected. Delete it or choose another ID, then connect again.',
} as const;

export type CallbackRefusal = keyof typeof CALLBACK_REFUSALS;

export type ConnectFinish =
  | { ok: true; returnTo: string; credentialId: string; reconnected: boolean }
  | { ok: false; reason: CallbackRefusal; detail?: string; status: 400 | 502 };

const refused = (reason: CallbackRefusal, detail?: string, status: 400 | 502 = 400): ConnectFinish => ({ ok: false, reason, detail, status });
const code = (v: string | undefined) => (v && /^[\w.-]{1,64}$/.test(v) ? v : undefined);

/** Finishes a flow from the callback's query; nothing is stored unless it succeeds. */
export async function finishConnect(deps: Deps, person: Person, appName: string, query: { state?: string; code?: string; error?: string }, origin: string): Promise<ConnectFinish> {
  if (!query.state || (!query.code && !query.error)) return refused('missing');
  const taken: StateCheck = await takeConnectState(deps.store, query.state, person.id, appName);
  if (!taken.ok) return refused(taken.reason);
  if (query.error) return refused('provider_error', code(query.error));
  const s = taken.state;
  const app: (OAuthApp & { clientSecret: string }) | null = await loadOAuthAppForUse(deps.store, appName);
  if (!app) return refused('unknown_app');
  const answer = await tokenRequest(
    deps.outbound,
    app,
    { grant_type: 'authorization_code', code: query.code!, redirect_uri: redirectUri(origin, app.name), code_verifier: s.codeVerifier },
    () => deps.store.clock.now(),
  );
  if (!answer.ok) return answer.final ? refused('exchange_refused', answer.error) : refused('exchange_unreachable', answer.message, 502);
  const def = providerDef(app.provider);
  const account = await fetchAccount(deps.outbound, app.provider, app.baseUrl, answer.tokens.accessToken);
  const ws = await getPrivateWorkspace(deps.store, person.id);
  const saved = await saveConnectedCredential(deps.store, person, ws, {
    credentialId: s.credentialId,
    name: `${def?.label ?? app.name} (${app.name})`,
    type: def?.credentialType ?? 'http_bearer',
    fields: app.baseUrl ? { base_url: app.baseUrl } : {},
    appName: app.name,
    account,
    secrets: { access_token: answer.tokens.accessToken, ...(answer.tokens.refreshToken ? { refresh_token: answer.tokens.refreshToken } : {}) },
    schedule: connectedSchedule(answer.receivedAt, answer.tokens),
  });
  if (!saved.ok) return refused('credential_id_taken');
  deps.log.info(saved.reconnected ? 'credential reconnected' : 'credential connected', { user: person.username, credentialId: s.credentialId, app: app.name });
  return { ok: true, returnTo: s.returnTo, credentialId: s.credentialId, reconnected: saved.reconnected };
}

/** The OAuth apps pages offer as Connect <name>, with the credential type each makes. */
export async function connectableApps(deps: Deps): Promise<{ name: string; credentialType: string }[]> {
  return (await listOAuthApps(deps.store)).map((a) => ({ name: a.name, credentialType: providerDef(a.provider)?.credentialType ?? 'http_bearer' }));
}
