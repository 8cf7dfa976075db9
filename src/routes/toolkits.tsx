// The Toolkits pages of a workspace (/w/:ws/toolkits): list, create/edit with the Credential
// Configuration Change dialog, a toolkit's page with its credential banner, and runs.
import { Hono, type Context } from 'hono';
import { connectableApps } from '../connect/flow';
import {
  RunOutcome,
  ToolkitForm,
  ToolkitFormPage,
  ToolkitPage,
  ToolkitsPage,
  type CredentialOptions,
  type ToolkitFormState,
} from '../../views/toolkits';
import { updateCredential } from '../store/credentials';
import {
  findResolutionCandidates,
  getToolkit,
  listToolkits,
  countToolkits,
  toolkitStatuses,
  memberCredentials,
  privateCandidates,
  projectCandidates,
  type Toolkit,
} from '../store/toolkits';
import { getPrivateWorkspace, type Workspace } from '../store/workspaces';
import { canEdit } from '../domain/access';
import { parseId } from '../domain/ids';
import { findNearMisses, resolveCredential } from '../domain/resolution';
import type { AppEnv, Deps } from '../env';
import { getTool, getToolkitType, TOOLKIT_TYPES } from '../toolkits';
import { runToolkit } from '../services/run-toolkit';
import { NotFound, refuse } from './errors';
import { formString, isHtmx, loadFrame, redirectTo } from './helpers';
import { saveToolkit, type ToolkitSave } from '../services/save-toolkit';

type FormBody = Record<string, unknown>;

/** Toolkits per page of the list. */
const PAGE_SIZE = 50;

/** Returns the form state a posted toolkit form describes. */
function stateFromForm(body: FormBody, mode: ToolkitFormState['mode'], original?: Toolkit): ToolkitFormState {
  const type = original?.type ?? (getToolkitType(formString(body, 'type')) ?? TOOLKIT_TYPES[0]).type;
  const kind = getToolkitType(type)!;
  const settings: Record<string, string> = {};
  for (const s of kind.settings) settings[s.name] = formString(body, `setting_${s.name}`).trim();
  const choice = formString(body, 'credential_choice') || 'private';
  const scope = choice.startsWith('project:') ? 'project' : 'private';
  return {
    mode,
    name: formString(body, 'name').trim(),
    type,
    settings,
    scope,
    credentialId: scope === 'project' ? choice.slice('project:'.length) : formString(body, 'private_credential_id').trim(),
    fallback: scope === 'private' ? formString(body, 'credential_fallback').trim() : '',
    errors: {},
    original,
  };
}

/** The JSON-shaped input saveToolkit checks (blank settings are left out). */
function inputFromState(s: ToolkitFormState) {
  const settings = Object.fromEntries(Object.entries(s.settings).filter(([, v]) => v));
  return { name: s.name, type: s.type, settings, credential: { scope: s.scope, credential_id: s.credentialId, fallback: s.fallback || null } };
}

/** Returns the sub-app mounted at /w/:ws/toolkits (after the workspace is loaded); its paths are relative to it. */
export function toolkitRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const base = (ws: Workspace) => `/w/${ws.ref}/toolkits`;

  const options = async (c: Context<AppEnv>): Promise<CredentialOptions> => ({
    project: await projectCandidates(deps.store, c.get('ws')),
    ownPrivate: await privateCandidates(deps.store, c.get('user')!.id),
  });

  const requireEditor = (c: Context<AppEnv>) =>
    canEdit(c.get('ws').role) ? null : refuse(c, 'edit_toolkits');

  const toolkitOr404 = async (c: Context<AppEnv>) => {
    const id = parseId(c.req.param('id'));
    const t = id ? await getToolkit(deps.store, c.get('ws'), id) : null;
    if (!t) throw new NotFound();
    return t;
  };

  const renderForm = async (c: Context<AppEnv>, state: ToolkitFormState, status: 200 | 400 = 200) => {
    const ws = c.get('ws');
    if (isHtmx(c)) return c.html(<ToolkitForm ws={ws} state={state} options={await options(c)} />, status);
    return c.html(<ToolkitFormPage frame={await loadFrame(deps, c, ws, 'toolkits')} ws={ws} state={state} options={await options(c)} />, status);
  };

  /** Translates a failed save: the form again with its errors, the change dialog, 403 or 404. */
  const saveFailure = async (c: Context<AppEnv>, r: Exclude<ToolkitSave, { ok: true }>, state?: ToolkitFormState) => {
    const ws = c.get('ws');
    if (r.reason === 'forbidden') return requireEditor(c)!;
    if (r.reason === 'not_found' || !state) throw new NotFound();
    if (r.reason === 'invalid_input') return renderForm(c, { ...state, errors: r.errors }, 400);
    const pending = { ...state, change: r.change };
    if (isHtmx(c)) return c.html(<ToolkitForm ws={ws} state={pending} options={await options(c)} />);
    return c.html(<ToolkitFormPage frame={await loadFrame(deps, c, ws, 'toolkits')} ws={ws} state={pending} options={await options(c)} confirmPage />);
  };

  app.get('/', async (c) => {
    const ws = c.get('ws');
    const user = c.get('user')!;
    const page = Math.max(1, Math.floor(Number(c.req.query('page'))) || 1);
    const list = await listToolkits(deps.store, ws, { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
    const [statuses, total] = await Promise.all([toolkitStatuses(deps.store, ws, user.id, list), countToolkits(deps.store, ws)]);
    const rows = list.map((toolkit) => ({ toolkit, run: statuses.get(toolkit.id)! }));
    const deleted = c.req.query('deleted');
    return c.html(<ToolkitsPage frame={await loadFrame(deps, c, ws, 'toolkits')} ws={ws} rows={rows} pageInfo={{ page, pageSize: PAGE_SIZE, total }} canEdit={canEdit(ws.role)} notice={deleted ? `Toolkit ${deleted} deleted.` : undefined} />);
  });

  app.get('/new', async (c) => {
    const denied = requireEditor(c);
    if (denied) return denied;
    const kind = getToolkitType(c.req.query('type') ?? '') ?? TOOLKIT_TYPES[0];
    return renderForm(c, { mode: 'create', name: '', type: kind.type, settings: {}, scope: 'private', credentialId: c.req.query('credential_id') ?? '', fallback: '', errors: {} });
  });

  // htmx helpers of the form: a new type re-renders the form; "Refresh list" re-renders the credential field.
  app.post('/form/:part', async (c) => {
    const denied = requireEditor(c);
    if (denied) return denied;
    const body = await c.req.parseBody();
    const id = Number(formString(body, 'toolkit_id')) || 0;
    const original = id ? ((await getToolkit(deps.store, c.get('ws'), id)) ?? undefined) : undefined;
    return renderForm(c, stateFromForm(body, original ? 'edit' : 'create', original));
  });

  app.post('/', async (c) => {
    const denied = requireEditor(c);
    if (denied) return denied;
    const ws = c.get('ws');
    const state = stateFromForm(await c.req.parseBody(), 'create');
    const r = await saveToolkit(deps, c.get('user')!, ws, { op: 'create', body: inputFromState(state) });
    if (!r.ok) return saveFailure(c, r, state);
    return redirectTo(c, `${base(ws)}/${r.toolkit.id}?created=1`);
  });

  app.get('/:id', async (c) => {
    const toolkit = await toolkitOr404(c);
    return c.html(await toolkitPage(c, toolkit));
  });

  const toolkitPage = async (c: Context<AppEnv>, toolkit: Toolkit, extra: { runResult?: Parameters<typeof ToolkitPage>[0]['runResult']; notice?: string; problem?: Parameters<typeof ToolkitPage>[0]['problem'] } = {}) => {
    const ws = c.get('ws');
    const user = c.get('user')!;
    const kind = getToolkitType(toolkit.type)!;
    const now = deps.store.clock.now();
    const found = await findResolutionCandidates(deps.store, ws, toolkit, user.id);
    const resolution = resolveCredential(toolkit.credential, kind.credentialTypes, found, now);
    const nearMisses = !resolution.ok && resolution.reason === 'setup_required' ? findNearMisses(toolkit.credential.credentialId, kind.credentialTypes, await privateCandidates(deps.store, user.id)) : [];
    const showReadiness = ws.kind === 'project' && toolkit.credential.scope === 'private' && canEdit(ws.role);
    const notice =
      extra.notice ??
      (c.req.query('created') ? 'Toolkit created.' : c.req.query('saved') ? 'Changes saved.' : c.req.query('adopted') ? `Your credential now has the Credential ID ${toolkit.credential.credentialId}.` : undefined);
    return (
      <ToolkitPage
        frame={await loadFrame(deps, c, ws, 'toolkits')}
        ws={ws}
        toolkit={toolkit}
        resolution={resolution}
        nearMisses={nearMisses}
        readiness={showReadiness ? await memberCredentials(deps.store, ws, toolkit.credential.credentialId) : null}
        fallbackCredential={found.fallbackCredential}
        now={now}
        canEdit={canEdit(ws.role)}
        notice={notice}
        runResult={extra.runResult}
        problem={extra.problem}
        connectApps={await connectableApps(deps)}
      />
    );
  };

  app.get('/:id/edit', async (c) => {
    const toolkit = await toolkitOr404(c);
    const denied = requireEditor(c);
    if (denied) return denied;
    return renderForm(c, {
      mode: 'edit',
      name: toolkit.name,
      type: toolkit.type,
      settings: toolkit.settings,
      scope: toolkit.credential.scope,
      credentialId: toolkit.credential.credentialId,
      fallback: toolkit.credential.fallback?.credentialId ?? '',
      errors: {},
      original: toolkit,
    });
  });

  app.post('/:id', async (c) => {
    const toolkit = await toolkitOr404(c);
    const denied = requireEditor(c);
    if (denied) return denied;
    const ws = c.get('ws');
    const body = await c.req.parseBody();
    let state = stateFromForm(body, 'edit', toolkit);
    if (formString(body, 'discard_credential')) {
      // "Discard changes" without JavaScript: put back only the credential, keep the rest.
      state = { ...state, scope: toolkit.credential.scope, credentialId: toolkit.credential.credentialId, fallback: toolkit.credential.fallback?.credentialId ?? '' };
      return renderForm(c, state);
    }
    const r = await saveToolkit(deps, c.get('user')!, ws, { op: 'update', existing: toolkit, body: inputFromState(state), confirmed: !!formString(body, 'confirm_change') });
    if (!r.ok) return saveFailure(c, r, state);
    return redirectTo(c, `${base(ws)}/${toolkit.id}?saved=1`);
  });

  app.post('/:id/delete', async (c) => {
    const toolkit = await toolkitOr404(c);
    const denied = requireEditor(c);
    if (denied) return denied;
    const r = await saveToolkit(deps, c.get('user')!, c.get('ws'), { op: 'delete', existing: toolkit });
    if (!r.ok) return saveFailure(c, r);
    return redirectTo(c, `${base(c.get('ws'))}?deleted=${encodeURIComponent(toolkit.name)}`);
  });

  app.post('/:id/run/:tool', async (c) => {
    const toolkit = await toolkitOr404(c);
    const ws = c.get('ws');
    const toolName = c.req.param('tool');
    const tool = getTool(toolkit.type, toolName);
    if (!tool) throw new NotFound();
    const body = await c.req.parseBody();
    const input: Record<string, unknown> = {};
    for (const i of tool.input) {
      const v = formString(body, `in_${i.name}`);
      if (i.type === 'boolean') input[i.name] = v === 'on' || v === 'true';
      else if (v.trim() !== '') input[i.name] = v;
    }
    const result = await runToolkit(deps, { user: c.get('user')!, ws, toolkit, tool: toolName, input });
    if (isHtmx(c)) return c.html(<RunOutcome ws={ws} toolkit={toolkit} toolName={toolName} result={result} />);
    return c.html(await toolkitPage(c, toolkit, { runResult: { tool: toolName, result } }));
  });

  // Near miss fixed in one step: give the member's own credential the ID the toolkit expects.
  app.post('/:id/adopt-credential', async (c) => {
    const toolkit = await toolkitOr404(c);
    if (toolkit.credential.scope !== 'private') throw new NotFound();
    const user = c.get('user')!;
    const from = formString(await c.req.parseBody(), 'from');
    const own = await getPrivateWorkspace(deps.store, user.id);
    const result = await updateCredential(deps.store, user, own, from, { credentialId: toolkit.credential.credentialId });
    if (!result.ok && result.reason === 'not_found') throw new NotFound();
    if (!result.ok) {
      const id = toolkit.credential.credentialId;
      const problem = {
        title: `Your credential ${from} still has its old ID`,
        text: `You already have another private credential with Credential ID ${id}, and two credentials cannot share an ID. Open your credential ${id} and fix or delete it, then try again.`,
        link: { href: `/w/private/credentials/${encodeURIComponent(id)}/edit`, label: `Open my credential ${id}` },
      };
      return c.html(await toolkitPage(c, toolkit, { problem }), 409);
    }
    return redirectTo(c, `${base(c.get('ws'))}/${toolkit.id}?adopted=1`);
  });

  return app;
}
