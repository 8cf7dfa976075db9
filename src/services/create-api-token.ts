// Personal access tokens: made here for the Settings page, the CLI and the tests; only the
// token's hash is stored, and the token itself is returned once.
import { generateApiToken, hashToken } from '../auth/tokens';
import { insertApiToken } from '../store/tokens';
import type { Deps } from '../env';

export const TOKEN_NAME_MAX = 80;

export type TokenCreation = { ok: true; id: number; name: string; token: string } | { ok: false; reason: 'invalid_input' | 'name_taken'; errors: { name: string } };

/** Creates a personal access token for `user` under a name they have not used (or, with
 *  `renameIfTaken`, the first free name-2, name-3…); the token is never shown or stored again. */
export async function createApiToken(deps: Pick<Deps, 'store'>, user: { id: string; username: string }, name: unknown, opts: { renameIfTaken?: boolean } = {}): Promise<TokenCreation> {
  const clean = typeof name === 'string' ? name.trim() : '';
  if (!clean || clean.length > TOKEN_NAME_MAX) return { ok: false, reason: 'invalid_input', errors: { name: `Give the token a name of at most ${TOKEN_NAME_MAX} characters.` } };
  const token = generateApiToken();
  const made = await insertApiToken(deps.store, user, clean, hashToken(token), opts);
  if (!made.ok) return { ok: false, reason: 'name_taken', errors: { name: `You already have a token named "${clean}". Choose another name.` } };
  return { ok: true, id: made.id, name: made.name, token };
}
