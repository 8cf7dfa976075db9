// Personal access tokens: made here for the Settings page, the CLI and the tests; only the
// token's hash is stored, and the token itself is returned once.
import { generateApiToken, hashToken } from '../auth/tokens';
import { insertApiToken } from '../store/tokens';
import type { Deps } from '../env';

export const TOKEN_NAME_MAX = 80;

export type TokenCreation = { ok: true; id: number; name: string; token: string } | { ok: false; reason: 'invalid_input'; errors: { name: string } };

/** Creates a personal access token for `user`; the token is never shown or stored again. */
export async function createApiToken(deps: Pick<Deps, 'store'>, user: { id: string; username: string }, name: unknown): Promise<TokenCreation> {
  const clean = typeof name === 'string' ? name.trim() : '';
  if (!clean || clean.length > TOKEN_NAME_MAX) return { ok: false, reason: 'invalid_input', errors: { name: `Give the token a name of at most ${TOKEN_NAME_MAX} characters.` } };
  const token = generateApiToken();
  const id = await insertApiToken(deps.store, user, clean, hashToken(token));
  return { ok: true, id, name: clean, token };
}
