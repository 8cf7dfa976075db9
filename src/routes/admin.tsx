// The admin pages: the Audit log (/admin/audit: instance admins see everything, project admins
// their projects' events, everyone else 403) with its exports, and Users (/admin/users, instance
// admins only). Save flow as everywhere: parse, validate, re-render with errors or write and redirect.
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { AuditPage, AuditResults, ChainStatus, EventDetails } from '../../views/audit';
import { ConfirmUserAction, ConfirmUserActionPage, UsersPage, type CreateUserForm, type UserAction } from '../../views/users';
import { hashPassword } from '../auth/password';
import {
  auditActorNames,
  auditChainState,
  auditProjects,
  auditScopeFor,
  executionStats,
  getAuditEvent,
  iterateAuditEvents,
  KNOWN_AUDIT_ACTIONS,
  listAuditEvents,
  recordAudit,
  verifyAuditChainCached,
  type AuditEvent,
  type AuditScope,
} from '../store/audit';
import { createUser, findUserByUsername, listUsersWithProjects, setPassword, setUserAdmin, setUserDisabled, type UserChange } from '../store/users';
import { deactivateUser, dependenciesOfUser, type UserFailure } from '../services/offboard-user';
import { USER_FAILURES } from '../domain/failures';
import { auditQueryString, parseAuditQuery } from '../domain/audit-query';
import { csvLine } from '../domain/csv';
import { parseId } from '../domain/ids';
import { normalizeUsername, validatePassword, validateUsername } from '../domain/names';
import type { AppEnv, Deps } from '../env';
import { auditEventJson } from './api-audit';
import { NotFound } from './errors';
import { formString, isHtmx, loadFrame, redirectTo } from './helpers';

const PAGE_SIZE = 50;
const EXPORT_CHUNK = 1_000;

const DONE: Record<string, (u: string) => string> = {
  created: (u) => `${u} was created. Give them their initial password safely.`,
  disabled: (u) => `${u} was disabled. Their sessions, API tokens and OAuth grants ended.`,
  enabled: (u) => `${u} was enabled and can sign in again.`,
  'admin-granted': (u) => `${u} is now an instance admin.`,
  'admin-revoked': (u) => `${u} is no longer an instance admin and was signed out.`,
  password: (u) => `The password of ${u} was reset and their sessions ended.`,
};

/** Returns the sub-app for /admin/audit and /admin/users (mounted behind the session check). */
export function adminRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const store = deps.store;

  const requireAuditScope = async (c: Context<AppEnv>): Promise<AuditScope> => {
    const scope = await auditScopeFor(store, c.get('user')!);
    if (!scope) throw new HTTPException(403, { message: 'The audit log is for instance admins and project admins.' });
    return scope;
  };
  const requireInstanceAdmin = (c: Context<AppEnv>) => {
    if (!c.get('user')!.isAdmin) throw new HTTPException(403, { message: 'Only instance admins can do this.' });
  };

  // ------------------------------------------------------------------------------------------
  // Audit log

  app.get('/admin/audit', async (c) => {
    const scope = await requireAuditScope(c);
    const parsed = parseAuditQuery((k) => c.req.query(k), { defaultLimit: PAGE_SIZE, maxLimit: 200 });
    const query = parsed.ok ? parsed.query : null;
    const page = query ? await listAuditEvents(store, scope, query) : { events: [], nextBefore: null };
    const results = {
      scope,
      text: parsed.text,
      errors: parsed.ok ? {} : parsed.fields,
      events: page.events,
      nextBefore: page.nextBefore,
      before: query?.before,
      projects: await auditProjects(store, scope),
      stats: query ? await executionStats(store, scope, { actor: query.actor, workspace: query.workspace }) : null,
    };
    const status = parsed.ok ? 200 : 400;
    if (isHtmx(c) && c.req.header('HX-Target') === 'audit-results' && c.req.header('HX-History-Restore-Request') !== 'true') {
      // The canonical URL, without the empty fields a submitted form carries.
      c.header('HX-Push-Url', `/admin/audit${auditQueryString(parsed.text, { before: query?.before })}`);
      return c.html(<AuditResults {...results} />, status);
    }
    return c.html(
      <AuditPage
        {...results}
        frame={await loadFrame(deps, c, null, 'audit')}
        actions={KNOWN_AUDIT_ACTIONS}
        actors={await auditActorNames(store, scope)}
        chain={scope.kind === 'all' ? await auditChainState(store) : undefined}
      />,
      status,
    );
  });

  app.post('/admin/audit/verify', async (c) => {
    requireInstanceAdmin(c);
    const full = formString(await c.req.parseBody(), 'full') === '1';
    const chain = await verifyAuditChainCached(store, { full });
    if (isHtmx(c)) return c.html(<ChainStatus chain={chain} />);
    return c.redirect('/admin/audit', 303);
  });

  app.get('/admin/audit/events/:id', async (c) => {
    const scope = await requireAuditScope(c);
    const id = parseId(c.req.param('id'));
    const event = id ? await getAuditEvent(store, scope, id) : null;
    if (!event) throw new NotFound();
    const projects = await auditProjects(store, scope);
    if (isHtmx(c)) return c.html(<EventDetails event={event} projects={projects} />);
    return c.html(<EventDetails event={event} projects={projects} frame={await loadFrame(deps, c, null, 'audit')} />);
  });

  const CSV_HEADER = csvLine(['id', 'at', 'actor', 'workspace', 'action', 'target', 'outcome', 'details']);
  const FORMATS = {
    csv: {
      type: 'text/csv; charset=utf-8',
      header: CSV_HEADER,
      line: (e: AuditEvent) => csvLine([e.id, new Date(e.at).toISOString(), e.actor, e.workspace, e.action, e.target, e.outcome, JSON.stringify(e.details)]),
    },
    jsonl: { type: 'application/x-ndjson; charset=utf-8', header: '', line: (e: AuditEvent) => `${JSON.stringify(auditEventJson(e))}\n` },
  };

  // The export streams: one keyset chunk is read, written and let go before the next is read.
  const exportRoute = (format: keyof typeof FORMATS) => async (c: Context<AppEnv>) => {
    const scope = await requireAuditScope(c);
    const parsed = parseAuditQuery((k) => c.req.query(k), { defaultLimit: EXPORT_CHUNK, maxLimit: 500 });
    if (!parsed.ok) throw new HTTPException(400, { message: `These filters are not valid: ${Object.values(parsed.fields).join(' ')}` });
    const { limit: _limit, ...filters } = parsed.query;
    const user = c.get('user')!;
    await recordAudit(store, { actor: user, workspace: null, action: 'audit.export', details: { format, filters: Object.fromEntries(Object.entries(parsed.text).filter(([, v]) => v)) } });
    const f = FORMATS[format];
    const chunks = iterateAuditEvents(store, scope, filters, EXPORT_CHUNK);
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        if (f.header) controller.enqueue(encoder.encode(f.header));
      },
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value.map(f.line).join('')));
      },
      async cancel() {
        await chunks.return(undefined);
      },
    });
    const stamp = new Date(store.clock.now()).toISOString().slice(0, 19).replace(/[:T]/g, '-');
    return c.body(body, 200, {
      'Content-Type': f.type,
      'Content-Disposition': `attachment; filename="latchkey-audit-${stamp}.${format}"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
  };
  // POST, because an export is recorded: a GET would let a cross-site link write audit events.
  // The filters stay in the query string of the form's action.
  app.post('/admin/audit/export.csv', exportRoute('csv'));
  app.post('/admin/audit/export.jsonl', exportRoute('jsonl'));

  // ------------------------------------------------------------------------------------------
  // Users

  const renderUsers = async (c: Context<AppEnv>, extra: { form?: CreateUserForm; notice?: { tone: 'success' | 'danger'; text: string } } = {}, status: 200 | 400 | 409 = 200) => {
    const users = await listUsersWithProjects(store);
    let notice = extra.notice;
    const done = c.req.query('done');
    const who = c.req.query('user') ?? '';
    if (!notice && done && DONE[done] && users.some((u) => u.username === who)) notice = { tone: 'success', text: DONE[done](who) };
    return c.html(<UsersPage frame={await loadFrame(deps, c, null, 'users')} users={users} me={c.get('user')!.username} signup={deps.config.signup} form={extra.form} notice={notice} />, status);
  };

  const findTarget = async (c: Context<AppEnv>) => {
    const u = await findUserByUsername(store, normalizeUsername(c.req.param('username')));
    if (!u) throw new NotFound();
    return u;
  };

  app.get('/admin/users', async (c) => {
    requireInstanceAdmin(c);
    return renderUsers(c);
  });

  app.post('/admin/users', async (c) => {
    requireInstanceAdmin(c);
    const body = await c.req.parseBody();
    const username = normalizeUsername(formString(body, 'username'));
    const password = formString(body, 'password');
    const admin = formString(body, 'admin') === '1';
    const errors: NonNullable<CreateUserForm['errors']> = {};
    const usernameError = validateUsername(username);
    if (usernameError) errors.username = usernameError;
    const passwordError = validatePassword(password);
    if (passwordError) errors.password = passwordError;
    if (errors.username || errors.password) return renderUsers(c, { form: { username, admin, errors } }, 400);
    const result = await createUser(store, { username, passwordHash: await hashPassword(password), isAdmin: admin }, { actor: c.get('user')!, action: 'user.create' });
    if (!result.ok) return renderUsers(c, { form: { username, admin, errors: { username: 'That username is taken. Pick another one.' } } }, 400);
    return c.redirect(`/admin/users?done=created&user=${encodeURIComponent(username)}`, 303);
  });

  const CONFIRMED: UserAction[] = ['disable', 'admin-revoke', 'password'];

  app.get('/admin/users/:username/:action', async (c) => {
    requireInstanceAdmin(c);
    const action = c.req.param('action') as UserAction;
    if (!CONFIRMED.includes(action)) throw new NotFound();
    const u = await findTarget(c);
    // Before a deactivation: what depends on them in their projects (the offboarding list).
    const found = action === 'disable' ? await dependenciesOfUser(deps, c.get('user')!, u.username) : null;
    const dependencies = found?.ok ? found.projects : undefined;
    if (isHtmx(c)) return c.html(<ConfirmUserAction username={u.username} action={action} asDialog dependencies={dependencies} />);
    return c.html(<ConfirmUserActionPage frame={await loadFrame(deps, c, null, 'users')} username={u.username} action={action} dependencies={dependencies} />);
  });

  const CHANGES = {
    // The same service as the API and the CLI (sessions, tokens and OAuth grants end together).
    disable: { run: (_actor, _id, c) => deactivateUser(deps, c.get('user')!, c.req.param('username')), done: 'disabled' },
    enable: { run: (actor, id) => setUserDisabled(store, actor, id, false), done: 'enabled' },
    'admin-grant': { run: (actor, id) => setUserAdmin(store, actor, id, true), done: 'admin-granted' },
    'admin-revoke': { run: (actor, id) => setUserAdmin(store, actor, id, false), done: 'admin-revoked' },
  } satisfies Record<string, { run: (actor: { id: string; username: string }, userId: string, c: Context<AppEnv>) => Promise<UserChange | UserFailure>; done: string }>;

  for (const [action, change] of Object.entries(CHANGES)) {
    app.post(`/admin/users/:username/${action}`, async (c) => {
      requireInstanceAdmin(c);
      const u = await findTarget(c);
      const result = await change.run(c.get('user')!, u.id, c);
      if (!result.ok) {
        if (result.reason === 'not_found') throw new NotFound();
        if (result.reason === 'forbidden') requireInstanceAdmin(c);
        return renderUsers(c, { notice: { tone: 'danger', text: USER_FAILURES[result.reason].message } }, 409);
      }
      return redirectTo(c, `/admin/users?done=${change.done}&user=${encodeURIComponent(u.username)}`);
    });
  }

  app.post('/admin/users/:username/password', async (c) => {
    requireInstanceAdmin(c);
    const u = await findTarget(c);
    const password = formString(await c.req.parseBody(), 'password');
    const error = validatePassword(password);
    if (error) {
      if (isHtmx(c)) return c.html(<ConfirmUserAction username={u.username} action="password" asDialog error={error} />, 400);
      return c.html(<ConfirmUserActionPage frame={await loadFrame(deps, c, null, 'users')} username={u.username} action="password" error={error} />, 400);
    }
    const me = c.get('user')!;
    await setPassword(store, me, u.username, await hashPassword(password), 'user.password_reset');
    // Every session of that user ended; an admin resetting their own keeps this browser signed in.
    if (u.id === me.id) c.header('Set-Cookie', await deps.auth.createSession(me.id), { append: true });
    return redirectTo(c, `/admin/users?done=password&user=${encodeURIComponent(u.username)}`);
  });

  return app;
}
