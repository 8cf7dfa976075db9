// JSON API for credentials and credential types. No answer ever holds a secret value.
import { Hono, type Context } from 'hono';
import { getCredential, listCredentials, loadCredentialForUse, recordConnectionTest, toolkitsUsingCredential, type CredentialMeta } from '../store/credentials';
import type { Workspace } from '../domain/models';
import { saveCredential, type CredentialSave } from '../services/save-credential';
import { canEdit } from '../domain/access';
import { CREDENTIAL_TYPES, getCredentialType } from '../domain/credential-types';
import type { AppEnv, Deps } from '../env';
import { testConnection } from '../http/service-call';
import { apiError, apiWorkspace, invalidInput, jsonBody } from './api-helpers';
import { NotFound } from './errors';
import { expiryOf } from '../domain/expiry';

/** Returns the listing shape of the contract (plus last use, last test and expiry at `now`). */
export function credentialJson(c: CredentialMeta, now: number) {
  return {
    credential_id: c.credentialId,
    name: c.name,
    type: c.type,
    scope: c.scope,
    fields: c.fields,
    created_by: c.createdBy,
    updated_at: new Date(c.updatedAt).toISOString(),
    last_used_at: c.lastUsedAt ? new Date(c.lastUsedAt).toISOString() : null,
    last_test: c.lastTest ? { at: new Date(c.lastTest.at).toISOString(), ok: c.lastTest.ok, message: c.lastTest.message } : null,
    expires_at: c.expiresAt === null ? null : new Date(c.expiresAt).toISOString(),
    expiry: expiryOf(c.expiresAt, now),
    ...(c.connection ? { connected: true, status: c.connection.status, account: c.connection.account, app: c.connection.app } : {}),
  };
}

/** Returns the API sub-app for /credential-types and /workspaces/:ws/credentials. */
export function credentialApiRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const forbidden = (c: Context) => apiError(c, 403, 'forbidden', 'Only project editors and admins can change project credentials.');

  app.get('/credential-types', (c) =>
    c.json(
      CREDENTIAL_TYPES.map((t) => ({
        type: t.type,
        label: t.label,
        fields: t.fields.map((f) => ({ name: f.name, label: f.label, secret: f.secret, required: f.required, ...(f.default ? { default: f.default } : {}) })),
      })),
    ),
  );

  app.get('/workspaces/:ws/credentials', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const list = await listCredentials(deps.store, ws, { type: c.req.query('type') || undefined, q: c.req.query('q') || undefined });
    return c.json(list.map((cred) => credentialJson(cred, deps.store.clock.now())));
  });

  app.get('/workspaces/:ws/credentials/:cid', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const cred = await getCredential(deps.store, ws, c.req.param('cid'));
    if (!cred) throw new NotFound();
    return c.json(credentialJson(cred, deps.store.clock.now()));
  });

  /** Translates a failed save into the contract's answer. */
  const saveFailure = (c: Context, r: Exclude<CredentialSave, { ok: true }>) => {
    if (r.reason === 'forbidden') return forbidden(c);
    if (r.reason === 'invalid_input') return invalidInput(c, r.errors);
    if (r.reason === 'credential_id_taken') return apiError(c, 409, 'credential_id_taken', `Credential ID ${r.credentialId} is already in use in this workspace.`, { credential_id: r.credentialId });
    throw new NotFound();
  };
  const context = (c: Context<AppEnv>, ws: Workspace) => ({ actor: c.get('user')!, ws, requestId: c.get('requestId') });

  app.post('/workspaces/:ws/credentials', async (c) => {
    const ws = await apiWorkspace(deps, c);
    if (!canEdit(ws.role)) return forbidden(c);
    const body = await jsonBody(c);
    if (!body) return invalidInput(c, { _body: 'Send a JSON object.' });
    const r = await saveCredential(deps, context(c, ws), { op: 'create', name: body.name, type: body.type, credentialId: body.credential_id, fields: body.fields, secrets: body.secrets, expiresAt: body.expires_at });
    if (!r.ok) return saveFailure(c, r);
    return c.json(credentialJson(r.credential, deps.store.clock.now()), 201);
  });

  app.patch('/workspaces/:ws/credentials/:cid', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const existing = await getCredential(deps.store, ws, c.req.param('cid'));
    if (!existing) throw new NotFound();
    if (!canEdit(ws.role)) return forbidden(c);
    const body = await jsonBody(c);
    if (!body) return invalidInput(c, { _body: 'Send a JSON object.' });
    const r = await saveCredential(deps, context(c, ws), { op: 'update', existing, name: body.name, credentialId: body.credential_id, fields: body.fields, secrets: body.secrets, expiresAt: body.expires_at });
    if (!r.ok) return saveFailure(c, r);
    return c.json(credentialJson(r.credential, deps.store.clock.now()));
  });

  app.delete('/workspaces/:ws/credentials/:cid', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const existing = await getCredential(deps.store, ws, c.req.param('cid'));
    if (!existing) throw new NotFound();
    const r = await saveCredential(deps, context(c, ws), { op: 'delete', existing });
    if (!r.ok) return saveFailure(c, r);
    return c.body(null, 204);
  });

  // What would run with this credential: only a credential the caller has (their own private one,
  // or one of a project they belong to); anything else is the same 404 as a credential that does
  // not exist. last_used_at: a private credential is only ever used by its owner's runs.
  app.get('/workspaces/:ws/credentials/:cid/usage', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const cred = await getCredential(deps.store, ws, c.req.param('cid'));
    if (!cred) throw new NotFound();
    const used = await toolkitsUsingCredential(deps.store, ws, cred);
    return c.json({
      toolkits: used.map((t) => ({ workspace: t.workspace, id: t.id, name: t.name })),
      last_used_at: cred.lastUsedAt ? new Date(cred.lastUsedAt).toISOString() : null,
    });
  });

  app.post('/workspaces/:ws/credentials/:cid/test', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const loaded = await loadCredentialForUse(deps.store, ws, c.req.param('cid'));
    if (!loaded) throw new NotFound();
    const result = await testConnection(deps.outbound, getCredentialType(loaded.row.type)!, loaded.fields, loaded.secrets);
    await recordConnectionTest(deps.store, ws, loaded.row.id, result);
    return c.json({
      ok: result.ok,
      message: result.message,
      account: result.account ?? null,
      status: result.status ?? null,
      ...(result.expiresAt !== undefined ? { expires_at: new Date(result.expiresAt).toISOString() } : {}),
    });
  });

  return app;
}
