// The JSON API (/api/v1) for scripts and agents, authenticated by personal access token.
import { Hono, type Context } from 'hono';
import { addMember, changeMemberRole, createProject, listMembers, listProjects, removeMember } from '../store/workspaces';
import { apiError, apiWorkspace, invalidInput, jsonBody } from './api-helpers';
import { canManageMembers, parseRole } from '../domain/access';
import { normalizeUsername, validateProjectName } from '../domain/names';
import type { AppEnv, Deps } from '../env';
import { requireApiToken } from '../auth/guards';
import { NotFound } from './errors';
import { credentialApiRoutes } from './api-credentials';
import { toolkitApiRoutes } from './api-toolkits';
import { auditApiRoutes } from './api-audit';
import { tokenApiRoutes } from './api-tokens';

const MEMBER_ANSWERS = {
  no_such_user: [404, 'user_not_found', 'There is no user with that username.'],
  already_member: [409, 'already_member', 'That user is already a member of this project.'],
  not_member: [404, 'not_found', 'That user is not a member of this project.'],
  last_admin: [409, 'last_admin', 'A project needs at least one admin.'],
} as const;

/** Returns the sub-app mounted at /api/v1 (workspaces, projects and members; other areas add their own). */
export function apiRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
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
    const body = await jsonBody(c);
    const name = typeof body?.name === 'string' ? body.name.trim() : '';
    const error = validateProjectName(name);
    if (error) return invalidInput(c, { name: error });
    const p = await createProject(deps.store, c.get('user')!, name);
    return c.json({ slug: p.slug, name: p.name, role: p.role }, 201);
  });

  const projectWorkspace = async (c: Context<AppEnv>) => {
    const ws = await apiWorkspace(deps, c);
    if (ws.kind !== 'project') throw new NotFound();
    return ws;
  };
  const forbidden = (c: Context) => apiError(c, 403, 'forbidden', 'Only project admins can manage members.');
  const memberFailure = (c: Context, reason: keyof typeof MEMBER_ANSWERS) => {
    const [status, error, message] = MEMBER_ANSWERS[reason];
    return apiError(c, status, error, message);
  };

  app.get('/projects/:slug/members', async (c) => {
    const ws = await projectWorkspace(c);
    const members = await listMembers(deps.store, ws);
    return c.json(members.map((m) => ({ username: m.username, role: m.role })));
  });

  app.post('/projects/:slug/members', async (c) => {
    const ws = await projectWorkspace(c);
    if (!canManageMembers(ws.role)) return forbidden(c);
    const body = await jsonBody(c);
    const username = normalizeUsername(body?.username);
    const role = parseRole(body?.role);
    const fields: Record<string, string> = {};
    if (!username) fields.username = 'Give the username of an existing user.';
    if (!role) fields.role = 'Role must be admin, editor or viewer.';
    if (!username || !role) return invalidInput(c, fields);
    const result = await addMember(deps.store, c.get('user'), ws, username, role);
    if (!result.ok) return memberFailure(c, result.reason);
    return c.json({ username, role }, 201);
  });

  app.patch('/projects/:slug/members/:username', async (c) => {
    const ws = await projectWorkspace(c);
    if (!canManageMembers(ws.role)) return forbidden(c);
    const role = parseRole((await jsonBody(c))?.role);
    if (!role) return invalidInput(c, { role: 'Role must be admin, editor or viewer.' });
    const username = normalizeUsername(c.req.param('username'));
    const result = await changeMemberRole(deps.store, c.get('user'), ws, username, role);
    if (!result.ok) return memberFailure(c, result.reason);
    return c.json({ username, role });
  });

  app.delete('/projects/:slug/members/:username', async (c) => {
    const ws = await projectWorkspace(c);
    if (!canManageMembers(ws.role)) return forbidden(c);
    const result = await removeMember(deps.store, c.get('user'), ws, normalizeUsername(c.req.param('username')));
    if (!result.ok) return memberFailure(c, result.reason);
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
