// Small helpers shared by the page routes.
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { Frame } from '../../views/layout';
import { listProjects, projectAdmins, type Workspace } from '../store/workspaces';
import { listMembershipNotices } from '../store/notices';
import type { AppEnv, Deps } from '../env';

/** Returns the string value of a form field ('' when missing or a file). */
export function formString(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  return typeof v === 'string' ? v : '';
}

/** True when htmx asked for a fragment. Pages that answer both ways also send Vary: HX-Request. */
export function isHtmx(c: Context<AppEnv>): boolean {
  c.header('Vary', 'HX-Request', { append: true });
  return c.req.header('HX-Request') === 'true';
}

/** Returns the frame (top bar and sidebar data) of a signed-in page. */
export async function loadFrame(deps: Deps, c: Context<AppEnv>, ws: Workspace | null, section: Frame['section']): Promise<Frame> {
  const user = c.get('user')!;
  const summaries = await listProjects(deps.store, user.id);
  const [admins, notices] = await Promise.all([projectAdmins(deps.store, summaries.map((p) => p.id)), listMembershipNotices(deps.store, user.id)]);
  const projects = summaries.map((p) => ({ ...p, admins: admins.get(p.id) ?? [] }));
  const bySlug = new Map(projects.map((p) => [p.slug, p]));
  // Only projects the user is still in: a notice about one they have left would lead nowhere.
  const added = notices.flatMap((n) => (bySlug.has(n.projectRef) ? [{ id: n.id, actor: n.actor ?? 'Someone', project: bySlug.get(n.projectRef)!, role: n.role }] : []));
  return {
    user: { username: user.username, isAdmin: user.isAdmin },
    current: ws ? rememberWorkspace(c, { ref: ws.ref, name: ws.name, kind: ws.kind }) : lastWorkspace(c, projects),
    projects,
    notices: added.length ? { added, through: notices[0].id, returnTo: c.req.path } : undefined,
    section,
    adminOfProject: projects.some((p) => p.role === 'admin'),
  };
}

/**
 * Returns the client's address: the socket's ('local' for in-process test requests), or behind a
 * trusted reverse proxy (TRUST_PROXY) the last X-Forwarded-For entry, the one that proxy added.
 */
export function clientAddress(c: Context, trustProxy = false): string {
  if (trustProxy) {
    const forwarded = c.req.header('X-Forwarded-For')?.split(',').pop()?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'local';
}

/** Returns a same-site path to go to after sign-in, or '/' for anything else. */
export function safeNext(next: string): string {
  return /^\/(?![/\\])[\w\-./?=&%]*$/.test(next) ? next : '/';
}

/** Redirects after a successful form post: HX-Redirect for htmx, 303 otherwise (POST-redirect-GET). */
export function redirectTo(c: Context<AppEnv>, url: string) {
  if (c.req.header('HX-Request') === 'true') {
    c.header('HX-Redirect', url);
    return c.body(null, 200);
  }
  return c.redirect(url, 303);
}

/** The cookie naming the workspace last opened, so pages outside one (settings, admin) keep it in the frame. */
const LAST_WORKSPACE_COOKIE = 'lk_ws';

function rememberWorkspace(c: Context<AppEnv>, current: NonNullable<Frame['current']>) {
  if (getCookie(c, LAST_WORKSPACE_COOKIE) !== current.ref) setCookie(c, LAST_WORKSPACE_COOKIE, current.ref, { path: '/', httpOnly: true, sameSite: 'Lax', maxAge: 30 * 86_400 });
  return current;
}

/** Returns the workspace last opened if the user is still a member of it, else their Private workspace. */
function lastWorkspace(c: Context<AppEnv>, projects: { slug: string; name: string }[]): Frame['current'] {
  const project = projects.find((p) => p.slug === getCookie(c, LAST_WORKSPACE_COOKIE));
  return project ? { ref: project.slug, name: project.name, kind: 'project' } : { ref: 'private', name: 'Private', kind: 'private' };
}
