// Keeping a connected account's access token fresh (CONTRACT §7): ahead of expiry (at the refresh
// time saved with the token) or when the service answered 401 to the token just used. One refresh
// at a time per credential across instances: a lease in the credential row, claimed by a
// conditional UPDATE in an IMMEDIATE transaction; whoever does not get it waits and re-reads (the
// other refresh's new token is then used). A refusal (invalid_grant, invalid_client, a deleted app,
// no refresh token) is final after a re-read: reconnect_required, audited. A 5xx or timeout is not.
import { claimRefresh, markReconnectRequired, readConnection, releaseRefresh, storeRefreshed, type Connection } from '../store/connected-credentials';
import { loadOAuthAppForUse } from '../store/oauth-apps';
import { connectedSchedule, tokenRequest, type TokenResult } from './token-client';
import type { Deps } from '../env';

export type FreshToken =
  | { ok: true; secrets: Record<string, string> }
  | { ok: false; reason: 'reconnect_required' }
  | { ok: false; reason: 'upstream_unreachable'; message: string };

const LEASE_MS = 30_000;
const WAIT_STEP_MS = 25;
const MAX_WAIT_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Returns the secrets to call the service with: the stored ones, or refreshed ones when the refresh
 * time has come, or — with `rejected`, the access token the service just answered 401 to — when
 * that token is still the stored one.
 */
export async function freshSecrets(deps: Deps, rowId: number, rejected?: string): Promise<FreshToken> {
  const store = deps.store;
  const waitUntil = Date.now() + MAX_WAIT_MS;
  for (;;) {
    const conn = await readConnection(store, rowId);
    if (!conn || conn.status === 'reconnect_required') return { ok: false, reason: 'reconnect_required' };
    const now = store.clock.now();
    const due = rejected !== undefined ? conn.secrets.access_token === rejected : conn.refreshAt !== null && now >= conn.refreshAt;
    if (!due) return { ok: true, secrets: conn.secrets };
    if (!conn.secrets.refresh_token) {
      await markReconnectRequired(store, conn, 'no_refresh_token');
      return { ok: false, reason: 'reconnect_required' };
    }
    if ((await claimRefresh(store, rowId, now + LEASE_MS))) return refreshHeld(deps, conn);
    // Another request or instance is refreshing: wait for it, then read its result.
    if (Date.now() > waitUntil) return { ok: false, reason: 'upstream_unreachable', message: 'Another refresh of this connected account is taking too long; try again.' };
    await sleep(WAIT_STEP_MS);
  }
}

async function refreshHeld(deps: Deps, conn: Connection): Promise<FreshToken> {
  const store = deps.store;
  const app = await loadOAuthAppForUse(store, conn.appName);
  const answer: TokenResult = app
    ? await tokenRequest(deps.outbound, app, { grant_type: 'refresh_token', refresh_token: conn.secrets.refresh_token! }, () => store.clock.now())
    : { ok: false, final: true, error: 'app_deleted' };
  if (answer.ok) {
    const secrets = { access_token: answer.tokens.accessToken, refresh_token: answer.tokens.refreshToken ?? conn.secrets.refresh_token! };
    await storeRefreshed(store, conn, secrets, connectedSchedule(answer.receivedAt, answer.tokens, { keptRefresh: true, keptExpiresAt: conn.expiresAt }));
    deps.log.info('connected account refreshed', { credentialId: conn.credentialId, app: conn.appName });
    return { ok: true, secrets };
  }
  if (!answer.final) {
    await releaseRefresh(store, conn.rowId);
    deps.log.warn('connected account refresh failed', { credentialId: conn.credentialId, app: conn.appName, error: answer.message });
    return { ok: false, reason: 'upstream_unreachable', message: `Could not refresh the connected account: ${answer.message}. Try again.` };
  }
  // Re-read first: another instance may have refreshed meanwhile (its rotation made ours stale).
  const again = await readConnection(store, conn.rowId);
  if (again && again.status === 'active' && again.secrets.refresh_token !== conn.secrets.refresh_token) return { ok: true, secrets: again.secrets };
  await markReconnectRequired(store, conn, answer.error);
  deps.log.warn('connected account needs reconnecting', { credentialId: conn.credentialId, app: conn.appName, error: answer.error });
  return { ok: false, reason: 'reconnect_required' };
}
