// The JSON API (/api/v1) for scripts and agents, authenticated by personal access token.
import { Hono, type Context } from 'hono';
import { listMembers, listProjects } from '../store/workspaces';
import { changeMembership, createProject, type MembershipChange } from '../services/change-membership';
import { MEMBER_FAILURES } from '../domain/failures';
import { apiError, apiWorkspace, invalidInput, jsonBody } from './api-helpers';
import type { AppEnv, Deps } from '../env';
import { requireApiToken } from '../auth/guards';
import { NotFound } from './errors';
import { credentialApiRoutes } from './api-credentials';
import { toolkitApiRoutes } from './api-toolkits';
import { auditApiRoutes } from './api-audit';
import { oauthAppApiRoutes } from './api-oauth-apps';
import { tokenApiRoutes } from './api-tokens';
import { openApiDocument } from './openapi';

/** Returns the sub-app mounted at /api/v1 (workspaces, projects and members; other areas add their own). */
export function apiRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  // The API's description holds no data: served before the token check, with or without one.
  const openApi = JSON.stringify(openApiDocument());
  app.get('/openapi.json', (c) => c.body(openApi, 200, { 'Content-Type': 'application/json' }));
  app.use('*', requireApiToken(deps));
  app.use('*', async (c, next) => {
    if (!['GET', 'HEAD', 'DELETE'].includes(c.req.method)) {
      const type = (c.req.header('Content-Type') ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/json') return apiError(c, 415, 'unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.');
    }
    await next();
  });

  app.route('/', credentialApiRoutes(deps));
  app.route('/', toolkitApiRoutes(deps));
  app.route('/', auditApiRoutes(deps));
  app.route('/', oauthAppApiRoutes(deps));
  app.route('/', tokenApiRoutes(deps));

  app.get('/me', (c) => {
    const u = c.get('user')!;
    return c.json({ username: u.username, is_admin: u.isAdmin });
  });

  app.get('/projects', async (c) => {
    const projects = await listProjects(deps.store, c.get('user')!.id);
    return c.json(projects.map((p) => ({ slug: p.slug, name: p.name, role: p.role })));
  });

  app.post('/projects', async (c) => {
    const r = await createProject(deps, c.get('user')!, (await jsonBody(c))?.name);
    if (!r.ok) return invalidInput(c, r.errors);
    const p = r.project;
    return c.json({ slug: p.slug, name: p.name, role: p.role }, 201);
  });

  const projectWorkspace = async (c: Context<AppEnv>) => {
    const ws = await apiWorkspace(deps, c);
    if (ws.kind !== 'project') throw new NotFound();
    return ws;
  };
  /** Translates a refused membership change into the contract's answer. */
  const memberFailure = (c: Context, r: Exclude<MembershipChange, { ok: true }>) => {
    if (r.reason === 'forbidden') return apiError(c, 403, 'forbidden', 'Only project admins can manage members.');
    if (r.reason === 'invalid_input') return invalidInput(c, r.errors);
    if (r.reason === 'not_found') throw new NotFound();
    const { status, error, message } = MEMBER_FAILURES[r.reason];
    return apiError(c, status, error, message);
  };

  app.get('/projects/:slug/members', async (c) => {
    const ws = await projectWorkspace(c);
    const members = await listMembers(deps.store, ws);
    return c.json(members.map((m) => ({ username: m.username, role: m.role })));
  });

  app.post('/projects/:slug/members', async (c) => {
    const ws = await projectWorkspace(c);
    const body = await jsonBody(c);
    const result = await changeMembership(deps, c.get('user')!, ws, { op: 'add', username: body?.username, role: body?.role });
    if (!result.ok) return memberFailure(c, result);
    return c.json({ username: result.member.username, role: result.member.role }, 201);
  });

  app.patch('/projects/:slug/members/:username', async (c) => {
    const ws = await projectWorkspace(c);
    const body = await jsonBody(c);
    const result = await changeMembership(deps, c.get('user')!, ws, { op: 'role', username: c.req.param('username'), role: body?.role });
    if (!result.ok) return memberFailure(c, result);
    return c.json({ username: result.member.username, role: result.member.role });
  });

  app.delete('/projects/:slug/members/:username', async (c) => {
    const ws = await projectWorkspace(c);
    const result = await changeMembership(deps, c.get('user')!, ws, { op: 'remove', username: c.req.param('username') });
    if (!result.ok) return memberFailure(c, result);
    return c.body(null, 204);
  });

  return app;
}

/** The API's last route: anything unmatched is a JSON 404, never the sign-in redirect of the pages. */
export function apiFallback() {
  const app = new Hono<AppEnv>();
  app.all('*', (c) => apiError(c, 404, 'not_found', 'No such API route.'));
  return app;
}
