// Who is calling /mcp: the bearer token is a personal access token or (once the authorization
// server is wired in) an OAuth access token issued for /mcp. One function decides, so the 401
// answer and its WWW-Authenticate challenge are built in one place.
import type { Deps } from '../env';
import { hashToken } from '../auth/tokens';
import { findUserByTokenHash } from '../store/tokens';
import { verifyMcpAccessToken } from '../oauth/access-tokens';

export type McpCaller = {
  user: { id: string; username: string; isAdmin: boolean };
  /** The OAuth client's registered name when the token came from an OAuth grant, else null. */
  oauthClientName: string | null;
};

export type McpAuthentication = { ok: true; caller: McpCaller } | { ok: false; reason: 'no_token' | 'invalid_token' };

/** Returns the caller named by `Authorization: Bearer …`, or why there is none. */
export async function authenticateMcp(deps: Deps, authorization: string | undefined, origin?: string): Promise<McpAuthentication> {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) return { ok: false, reason: 'no_token' };
  const token = match[1];

  const user = await findUserByTokenHash(deps.store, hashToken(token));
  if (user) return { ok: true, caller: { user, oauthClientName: null } };

  // OAuth access tokens for /mcp are tried after personal access tokens; one issued for
  // another resource than `<origin>/mcp` is refused.
  const granted = await verifyMcpAccessToken(deps, token, origin);
  if (granted) return { ok: true, caller: { user: granted.user, oauthClientName: granted.clientName } };

  return { ok: false, reason: 'invalid_token' };
}

/** Returns the WWW-Authenticate value for a refused /mcp request (RFC 6750 + RFC 9728). */
export function mcpChallenge(origin: string, reason: 'no_token' | 'invalid_token'): string {
  const metadata = `resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`;
  return reason === 'invalid_token' ? `Bearer error="invalid_token", ${metadata}` : `Bearer ${metadata}`;
}
