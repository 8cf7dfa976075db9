// Access tokens for /mcp: opaque random values handed to the client once and stored as SHA-256,
// checked here on every MCP request (nothing is cached, so a revocation counts at once).
import { randomBytes } from 'node:crypto';
import { hashToken } from '../auth/tokens';
import { mcpResource } from '../domain/oauth';
import type { Deps } from '../env';
import { findAccessToken } from '../store/oauth';

/** Returns a new opaque token: a prefix naming its kind and 32 random bytes, base64url. */
export function generateOAuthToken(kind: 'access' | 'refresh' | 'code'): string {
  const prefix = { access: 'lka_', refresh: 'lkr_', code: 'lkc_' }[kind];
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export type McpGrantee = { userId: string; clientName: string; user: { id: string; username: string; isAdmin: boolean } };

/**
 * Returns who an OAuth access token acts for (and the client's name), or null when it is unknown, expired, revoked, its
 * person is disabled, or it is bound to another resource than `<origin>/mcp`. Pass the request's
 * public origin (see publicOrigin); without it BASE_URL's is used, and without BASE_URL any
 * origin's `/mcp` this server issued for.
 */
export async function verifyMcpAccessToken(deps: Pick<Deps, 'store' | 'config'>, token: string, origin?: string): Promise<McpGrantee | null> {
  if (!token) return null;
  const found = await findAccessToken(deps.store, hashToken(token));
  if (!found) return null;
  const expected = origin ?? deps.config.baseUrl?.origin;
  const bound = expected ? found.resource === mcpResource(expected) : new URL(found.resource).pathname === '/mcp';
  return bound ? { userId: found.user.id, clientName: found.clientName, user: found.user } : null;
}
