// JSON API for instance admins' offboarding: what depends on a person, and deactivating them.
import { Hono, type Context } from 'hono';
import { USER_FAILURES } from '../domain/failures';
import type { AppEnv, Deps } from '../env';
import { deactivateUser, dependenciesOfUser, type UserFailure } from '../services/offboard-user';
import type { ProjectDependencies } from '../store/dependencies';
import { apiError } from './api-helpers';

/** The contract's JSON of one project's dependencies. */
export function projectDependenciesJson(p: ProjectDependencies) {
  return {
    workspace: p.workspace,
    name: p.name,
    role: p.role,
    credentials: p.credentials.map((c) => ({ credential_id: c.credentialId, name: c.name })),
    toolkits_created: p.toolkitsCreated,
    toolkits_only_they_make_ready: p.onlyTheyMakeReady,
  };
}

/** Returns the API sub-app for /users/:username/… (instance admins only). */
export function userApiRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const failure = (c: Context, r: UserFailure) => {
    const f = USER_FAILURES[r.reason];
    return apiError(c, f.status, f.error, f.message);
  };

  app.get('/users/:username/dependencies', async (c) => {
    const r = await dependenciesOfUser(deps, c.get('user')!, c.req.param('username'));
    if (!r.ok) return failure(c, r);
    return c.json({ username: r.user.username, active: !r.user.disabled, projects: r.projects.map(projectDependenciesJson) });
  });

  app.post('/users/:username/deactivate', async (c) => {
    const r = await deactivateUser(deps, c.get('user')!, c.req.param('username'));
    if (!r.ok) return failure(c, r);
    return c.json({ username: r.user.username, active: false });
  });

  return app;
}
