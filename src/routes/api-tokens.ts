// GET /api/v1/tokens and DELETE /api/v1/tokens/:id: the caller's own personal access tokens,
// for scripts that rotate them. Never the token itself (only its hash is stored).
import { Hono } from 'hono';
import { listApiTokens, revokeApiToken } from '../store/tokens';
import type { AppEnv, Deps } from '../env';
import { apiError } from './api-helpers';
import { parseId } from '../domain/ids';

/** Returns the API sub-app for /tokens. */
export function tokenApiRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get('/tokens', async (c) => {
    const tokens = await listApiTokens(deps.store, c.get('user')!.id);
    return c.json(
      tokens.map((t) => ({
        id: t.id,
        name: t.name,
        created_at: new Date(t.createdAt).toISOString(),
        last_used_at: t.lastUsedAt ? new Date(t.lastUsedAt).toISOString() : null,
      })),
    );
  });

  app.delete('/tokens/:id', async (c) => {
    const id = parseId(c.req.param('id')) ?? 0;
    // Another person's token is as absent as one that never existed.
    if (!(await revokeApiToken(deps.store, c.get('user')!, { id }))) return apiError(c, 404, 'not_found', 'You have no token with that id.');
    return c.body(null, 204);
  });

  return app;
}
