// Workspaces: the home redirect, creating projects, and a project's members.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { MembersPage, MembersSection, NewProjectPage, type MembersProps } from '../../views/workspace';
import { findWorkspace, listMembers } from '../store/workspaces';
import { changeMembership, createProject, type MembershipChange } from '../services/change-membership';
import { MEMBER_FAILURES } from '../domain/failures';
import { canManageMembers, parseRole } from '../domain/access';
import { normalizeUsername } from '../domain/names';
import type { AppEnv, Deps } from '../env';
import { formString, isHtmx, loadFrame } from './helpers';
import { NotFound, refuse } from './errors';

/** Puts the workspace named by `:ws` on the context, or answers 404 when the user is not in it. */
export function loadWorkspace(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const ws = await findWorkspace(deps.store, c.get('user')!.id, c.req.param('ws') ?? '');
    if (!ws) throw new NotFound();
    c.set('ws', ws);
    await next();
  };
}

/** The sentence for a refused membership change (the first field's message for bad input). */
function memberFailure(r: Exclude<MembershipChange, { ok: true }>): string {
  if (r.reason === 'invalid_input') return Object.values(r.errors)[0];
  if (r.reason === 'forbidden' || r.reason === 'not_found') throw new NotFound();
  return MEMBER_FAILURES[r.reason].message;
}

/** Returns the sub-app for /, /projects and /w/:ws/members (the workspace is loaded by loadWorkspace). */
export function workspaceRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get('/', (c) => c.redirect('/w/private/toolkits', 303));

  app.get('/projects/new', async (c) => c.html(<NewProjectPage frame={await loadFrame(deps, c, null, 'projects')} />));

  app.post('/projects', async (c) => {
    const name = formString(await c.req.parseBody(), 'name');
    const r = await createProject(deps, c.get('user')!, name);
    if (!r.ok) return c.html(<NewProjectPage frame={await loadFrame(deps, c, null, 'projects')} name={name.trim()} error={r.errors.name} />, 400);
    return c.redirect(`/w/${r.project.slug}/members`, 303);
  });

  app.get('/w/:ws', (c) => c.redirect(`/w/${c.req.param('ws')}/toolkits`, 303));

  const renderMembers = async (c: Context<AppEnv>, extra: Partial<MembersProps> = {}, status: 200 | 400 | 409 = 200) => {
    const ws = c.get('ws');
    const props: MembersProps = { frame: await loadFrame(deps, c, ws, 'members'), ws, members: await listMembers(deps.store, ws), me: c.get('user')!.username, ...extra };
    return isHtmx(c) ? c.html(<MembersSection {...props} />, status) : c.html(<MembersPage {...props} />, status);
  };

  app.get('/w/:ws/members', async (c) => {
    if (c.get('ws').kind !== 'project') throw new NotFound();
    return renderMembers(c);
  });

  const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
    const ws = c.get('ws');
    if (ws.kind !== 'project') throw new NotFound();
    if (!canManageMembers(ws.role)) return refuse(c, 'manage_members');
    await next();
  };

  app.post('/w/:ws/members', requireAdmin, async (c) => {
    const body = await c.req.parseBody();
    const username = normalizeUsername(formString(body, 'username'));
    const role = parseRole(formString(body, 'role'));
    const result = await changeMembership(deps, c.get('user')!, c.get('ws'), { op: 'add', username, role });
    const form = { username, role: role ?? undefined };
    if (!result.ok && result.reason === 'invalid_input') return renderMembers(c, { form: { ...form, errors: result.errors } }, 400);
    if (!result.ok) return renderMembers(c, { form: { ...form, errors: { username: memberFailure(result) } } }, result.reason === 'already_member' ? 409 : 400);
    return redirectOrRender(c, { notice: { tone: 'success', text: `${username} was added as ${role}.` } });
  });

  app.post('/w/:ws/members/:username/role', requireAdmin, async (c) => {
    const role = parseRole(formString(await c.req.parseBody(), 'role'));
    const username = normalizeUsername(c.req.param('username'));
    const result = await changeMembership(deps, c.get('user')!, c.get('ws'), { op: 'role', username, role });
    if (!result.ok) return renderMembers(c, { notice: { tone: 'danger', text: memberFailure(result) } }, result.reason === 'invalid_input' ? 400 : 409);
    return redirectOrRender(c, { notice: { tone: 'success', text: `${username} is now ${role}.` } });
  });

  app.post('/w/:ws/members/:username/remove', requireAdmin, async (c) => {
    const username = normalizeUsername(c.req.param('username'));
    const result = await changeMembership(deps, c.get('user')!, c.get('ws'), { op: 'remove', username });
    if (!result.ok) return renderMembers(c, { notice: { tone: 'danger', text: memberFailure(result) } }, 409);
    if (username === c.get('user')!.username) {
      if (isHtmx(c)) return c.body(null, 200, { 'HX-Redirect': '/' });
      return c.redirect('/', 303);
    }
    return redirectOrRender(c, { notice: { tone: 'success', text: `${username} was removed.` } });
  });

  // htmx gets the refreshed fragment; a plain form post follows POST-redirect-GET.
  const redirectOrRender = (c: Context<AppEnv>, extra: Partial<MembersProps>) =>
    isHtmx(c) ? renderMembers(c, extra) : c.redirect(`/w/${c.get('ws').ref}/members`, 303);

  return app;
}
