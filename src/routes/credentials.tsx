// The Credentials pages of a workspace (/w/:ws/credentials). Save flow as everywhere: parse the
// form, validate, re-render the same form with the input and the errors, or write and redirect.
import { connectableApps } from '../connect/flow';
import { Hono, type Context } from 'hono';
import {
  CredentialFormPage,
  CredentialForm,
  CredentialIdField,
  CredentialList,
  CredentialsPage,
  DeleteCredential,
  DeleteCredentialPage,
  LastTestCell,
  TestResult,
  TypeFields,
  type FormState,
} from '../../views/credentials';
import {
  credentialIdsInUse,
  getCredential,
  listCredentials,
  countCredentials,
  loadCredentialForUse,
  recordConnectionTest,
  toolkitsUsingCredential,
  type CredentialMeta,
} from '../store/credentials';
import type { Workspace } from '../store/workspaces';
import { canEdit } from '../domain/access';
import { credentialIdFromName, suggestFreeCredentialId } from '../domain/credential-id';
import { CREDENTIAL_TYPES, getCredentialType, secretsNeededForNewOrigin, validateCredentialInput, type CredentialType } from '../domain/credential-types';
import type { AppEnv, Deps } from '../env';
import { saveCredential } from '../services/save-credential';
import { testConnection, type ConnectionTest } from '../http/service-call';
import { NotFound, refuse } from './errors';
import { formString, isHtmx, loadFrame, redirectTo, safeNext } from './helpers';

type FormBody = Record<string, unknown>;

/** Credentials per page of the list. */
const PAGE_SIZE = 50;

/** Splits a posted form into the type's plain fields and secrets (ignoring names the type lacks). */
function splitTypeFields(type: CredentialType, body: FormBody) {
  const fields: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const f of type.fields) {
    const v = formString(body, f.secret ? `secret_${f.name}` : `field_${f.name}`);
    if (f.secret) {
      if (v !== '') secrets[f.name] = v;
    } else fields[f.name] = v;
  }
  return { fields, secrets };
}

/** Returns the origin of a URL, or the text itself when it is not one. */
/** Returns the form state a posted create/edit form describes (before validation). */
function stateFromBody(body: FormBody, mode: FormState['mode'], original?: CredentialMeta): FormState {
  const type = getCredentialType(original?.type ?? formString(body, 'type')) ?? CREDENTIAL_TYPES[0];
  const name = formString(body, 'name').trim();
  const idMode = formString(body, 'id_mode') === 'manual' || mode === 'edit' ? 'manual' : 'auto';
  const typed = formString(body, 'credential_id').trim();
  // Without JavaScript the ID field is plain and may be left blank: it is then made from the name.
  const credentialId = idMode === 'auto' || (!typed && mode === 'create') ? (credentialIdFromName(name) ?? '') : typed;
  return {
    mode,
    type: type.type,
    name,
    credentialId,
    idMode,
    fields: splitTypeFields(type, body).fields,
    errors: {},
    returnTo: safeReturn(formString(body, 'return')),
    requiredBy: formString(body, 'required_by') || undefined,
    original,
    expiresAt: formString(body, 'expires_at').trim(),
  };
}

/** The expiry field's text for a stored expiry (the date part; '' for none). */
const expiryField = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString().slice(0, 10));

function safeReturn(value: string): string | undefined {
  return value && safeNext(value) === value ? value : undefined;
}

/** The service's view of a posted form: the type's fields and secrets split apart. */
function formCommand(state: FormState, body: FormBody) {
  const { fields, secrets } = splitTypeFields(getCredentialType(state.type)!, body);
  // The form holds a date; an unchanged date keeps the stored time (which a service may have reported to the second).
  const expiresAt = state.original && state.expiresAt === expiryField(state.original.expiresAt) ? undefined : state.expiresAt || null;
  return { name: state.name, credentialId: state.idMode === 'auto' ? null : state.credentialId, fields, secrets, expiresAt };
}

/** Returns the sub-app mounted at /w/:ws/credentials (after the workspace is loaded); its paths are relative to it. */
export function credentialRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const base = (ws: Workspace) => `/w/${ws.ref}/credentials`;

  const requireEditor = (c: Context<AppEnv>) => {
    if (!canEdit(c.get('ws').role)) return refuse(c, 'edit_credentials');
    return null;
  };

  const findOr404 = async (c: Context<AppEnv>) => {
    const cred = await getCredential(deps.store, c.get('ws'), c.req.param('cid') ?? '');
    if (!cred) throw new NotFound();
    return cred;
  };

  const renderForm = async (c: Context<AppEnv>, state: FormState, status: 200 | 400 | 409 = 200) => {
    const ws = c.get('ws');
    if (isHtmx(c)) return c.html(<CredentialForm ws={ws} state={state} />, status);
    return c.html(<CredentialFormPage frame={await loadFrame(deps, c, ws, 'credentials')} ws={ws} state={state} connectApps={ws.kind === 'private' ? await connectableApps(deps) : []} />, status);
  };

  app.get('/', async (c) => {
    const ws = c.get('ws');
    const filter = { type: c.req.query('type') || undefined, q: c.req.query('q')?.trim() || undefined };
    const page = Math.max(1, Math.floor(Number(c.req.query('page'))) || 1);
    const total = await countCredentials(deps.store, ws);
    const matching = filter.type || filter.q ? await countCredentials(deps.store, ws, filter) : total;
    const shown = await listCredentials(deps.store, ws, filter, { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
    const created = c.req.query('saved');
    const props = {
      frame: await loadFrame(deps, c, ws, 'credentials'),
      ws,
      credentials: shown,
      total,
      pageInfo: { page, pageSize: PAGE_SIZE, total: matching },
      filter,
      canEdit: canEdit(ws.role),
      now: deps.store.clock.now(),
      notice: created ? `Credential ${created} saved. Its secrets are encrypted and will not be shown again.` : c.req.query('deleted') ? `Credential ${c.req.query('deleted')} deleted.` : undefined,
    };
    if (isHtmx(c) && c.req.header('HX-Target') === 'credential-list') return c.html(<CredentialList {...props} />);
    return c.html(<CredentialsPage {...props} />);
  });

  app.get('/new', async (c) => {
    const denied = requireEditor(c);
    if (denied) return denied;
    const type = getCredentialType(c.req.query('type') ?? '') ?? CREDENTIAL_TYPES[0];
    const presetId = c.req.query('credential_id') ?? '';
    const state: FormState = {
      mode: 'create',
      type: type.type,
      name: c.req.query('name') ?? '',
      credentialId: presetId || credentialIdFromName(c.req.query('name') ?? '') || '',
      idMode: presetId ? 'manual' : 'auto',
      fields: {},
      errors: {},
      returnTo: safeReturn(c.req.query('return') ?? ''),
      requiredBy: c.req.query('required_by') || undefined,
    };
    return renderForm(c, state);
  });

  // Live Credential ID while the name is typed (htmx); answers just the ID field.
  app.post('/id-preview', async (c) => {
    const state = stateFromBody(await c.req.parseBody(), 'create');
    return c.html(<CredentialIdField ws={c.get('ws')} state={state} />);
  });

  // The type's own fields, when the type select changes (htmx).
  app.get('/new/fields', (c) => {
    // Opened as a page (a bookmark, a reload): the whole form with that type, not a bare fragment.
    if (!isHtmx(c)) return c.redirect(`${base(c.get('ws'))}/new?type=${encodeURIComponent(c.req.query('type') ?? '')}`, 303);
    const state: FormState = { mode: 'create', type: c.req.query('type') ?? '', name: '', credentialId: '', idMode: 'auto', fields: {}, errors: {} };
    return c.html(<TypeFields state={state} />);
  });

  app.post('/', async (c) => {
    const denied = requireEditor(c);
    if (denied) return denied;
    const ws = c.get('ws');
    const body = await c.req.parseBody();
    const state = stateFromBody(body, 'create');
    const result = await saveCredential(deps, { actor: c.get('user')!, ws, requestId: c.get('requestId') }, { op: 'create', type: state.type, ...formCommand(state, body) });
    if (!result.ok && result.reason === 'invalid_input') {
      if (result.errors.credential_id) state.idMode = 'manual';
      return renderForm(c, { ...state, errors: result.errors }, 400);
    }
    if (!result.ok) {
      if (result.reason !== 'credential_id_taken') return requireEditor(c)!;
      const suggestion = suggestFreeCredentialId(state.credentialId, await credentialIdsInUse(deps.store, ws));
      return renderForm(
        c,
        {
          ...state,
          idMode: 'manual',
          credentialId: suggestion,
          conflict: { takenId: state.credentialId, suggestion },
          errors: {},
        },
        409,
      );
    }
    return redirectTo(c, state.returnTo ?? `${base(ws)}?saved=${encodeURIComponent(state.credentialId)}`);
  });

  // Test connection before saving: the typed values, nothing stored.
  app.post('/test', async (c) => {
    const denied = requireEditor(c);
    if (denied) return denied;
    const body = await c.req.parseBody();
    const state = stateFromBody(body, 'create');
    const type = getCredentialType(state.type)!;
    const { fields, secrets } = splitTypeFields(type, body);
    const checked = validateCredentialInput(type, fields, secrets, 'create');
    const result = checked.ok
      ? await testConnection(deps.outbound, type, checked.fields, checked.secrets)
      : { ok: false, message: `Fill in ${Object.keys(checked.errors).map((k) => type.fields.find((f) => f.name === k)?.label ?? k).join(', ')} first.` };
    if (isHtmx(c)) return c.html(<TestResult result={result} />);
    return renderForm(c, { ...state, test: result });
  });

  // Edit lives under /:cid/edit so that "new" and "test" stay usable as Credential IDs.
  app.get('/:cid', async (c) => {
    const cred = await findOr404(c);
    return c.redirect(`${base(c.get('ws'))}/${encodeURIComponent(cred.credentialId)}/edit`, 303);
  });

  app.get('/:cid/edit', async (c) => {
    const denied = requireEditor(c);
    const cred = await findOr404(c);
    if (denied) return denied;
    const ws = c.get('ws');
    return renderForm(c, {
      mode: 'edit',
      type: cred.type,
      name: cred.name,
      credentialId: cred.credentialId,
      idMode: 'manual',
      fields: cred.fields,
      errors: {},
      original: cred,
      usedBy: await toolkitsUsingCredential(deps.store, ws, cred),
      returnTo: safeReturn(c.req.query('return') ?? ''),
      expiresAt: expiryField(cred.expiresAt),
      now: deps.store.clock.now(),
    });
  });

  app.post('/:cid/edit', async (c) => {
    const cred = await findOr404(c);
    const denied = requireEditor(c);
    if (denied) return denied;
    const ws = c.get('ws');
    const body = await c.req.parseBody();
    const state = { ...stateFromBody(body, 'edit', cred), usedBy: await toolkitsUsingCredential(deps.store, ws, cred), now: deps.store.clock.now() };
    const result = await saveCredential(deps, { actor: c.get('user')!, ws, requestId: c.get('requestId') }, { op: 'update', existing: cred, ...formCommand(state, body) });
    if (!result.ok && result.reason === 'invalid_input') return renderForm(c, { ...state, errors: result.errors }, 400);
    if (!result.ok && result.reason === 'not_found') throw new NotFound();
    if (!result.ok && result.reason === 'forbidden') return requireEditor(c)!;
    if (!result.ok) {
      const suggestion = suggestFreeCredentialId(state.credentialId, await credentialIdsInUse(deps.store, ws));
      return renderForm(c, { ...state, conflict: { takenId: state.credentialId, suggestion }, errors: { credential_id: `Credential ID ${state.credentialId} is already in use in this workspace. Choose another one.` } }, 409);
    }
    return redirectTo(c, state.returnTo ?? `${base(ws)}?saved=${encodeURIComponent(state.credentialId)}`);
  });

  // Test a saved credential, or the edit form's values with blank secrets kept.
  app.post('/:cid/test', async (c) => {
    const cred = await findOr404(c);
    const ws = c.get('ws');
    const loaded = (await loadCredentialForUse(deps.store, ws, cred.credentialId))!;
    const type = getCredentialType(cred.type)!;
    const body = await c.req.parseBody();
    const fromForm = body.name !== undefined;
    if (fromForm && !canEdit(ws.role)) return requireEditor(c)!;
    let fields = loaded.fields;
    let secrets = loaded.secrets;
    let refused: ConnectionTest | null = null;
    if (fromForm) {
      const posted = splitTypeFields(type, body);
      const checked = validateCredentialInput(type, posted.fields, posted.secrets, 'update');
      if (checked.ok) {
        // A saved secret goes only to the service it was saved for (else an editor could send a
        // stored project secret to a server of their choosing, unsaved and unaudited).
        const retype = secretsNeededForNewOrigin(type, loaded.fields, checked.fields, checked.secrets);
        if (Object.keys(retype).length) refused = { ok: false, message: Object.values(retype)[0] };
        fields = checked.fields;
        secrets = { ...secrets, ...checked.secrets };
      }
    }
    const result = refused ?? (await testConnection(deps.outbound, type, fields, secrets));
    if (!fromForm) await recordConnectionTest(deps.store, ws, cred.rowId, result);
    if (fromForm) {
      if (isHtmx(c)) return c.html(<TestResult result={result} />);
      return renderForm(c, { ...stateFromBody(body, 'edit', cred), test: result });
    }
    if (isHtmx(c)) {
      const updated = (await getCredential(deps.store, ws, cred.credentialId))!;
      return c.html(<LastTestCell ws={ws} cred={updated} canEdit={canEdit(ws.role)} />);
    }
    return c.redirect(base(ws), 303);
  });

  app.get('/:cid/delete', async (c) => {
    const cred = await findOr404(c);
    const denied = requireEditor(c);
    if (denied) return denied;
    const ws = c.get('ws');
    const usedBy = await toolkitsUsingCredential(deps.store, ws, cred);
    if (isHtmx(c)) return c.html(<DeleteCredential ws={ws} cred={cred} usedBy={usedBy} asDialog />);
    return c.html(<DeleteCredentialPage frame={await loadFrame(deps, c, ws, 'credentials')} ws={ws} cred={cred} usedBy={usedBy} />);
  });

  app.post('/:cid/delete', async (c) => {
    const cred = await findOr404(c);
    const denied = requireEditor(c);
    if (denied) return denied;
    const ws = c.get('ws');
    const confirm = formString(await c.req.parseBody(), 'confirm').trim();
    if (confirm !== cred.credentialId) {
      const usedBy = await toolkitsUsingCredential(deps.store, ws, cred);
      return c.html(
        <DeleteCredentialPage frame={await loadFrame(deps, c, ws, 'credentials')} ws={ws} cred={cred} usedBy={usedBy} error={`Type ${cred.credentialId} exactly to confirm.`} />,
        400,
      );
    }
    const result = await saveCredential(deps, { actor: c.get('user')!, ws, requestId: c.get('requestId') }, { op: 'delete', existing: cred });
    if (!result.ok && result.reason === 'forbidden') return requireEditor(c)!;
    return c.redirect(`${base(ws)}?deleted=${encodeURIComponent(cred.credentialId)}`, 303);
  });

  return app;
}
