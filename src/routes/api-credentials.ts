// JSON API for credentials and credential types. No answer ever holds a secret value.
import { Hono, type Context } from 'hono';
import { createCredential, deleteCredential, getCredential, listCredentials, loadCredentialForUse, recordConnectionTest, updateCredential, type CredentialMeta } from '../store/credentials';
import { canEdit } from '../domain/access';
import { credentialIdFromName, validateCredentialId, validateCredentialName } from '../domain/credential-id';
import { CREDENTIAL_TYPES, getCredentialType, secretsNeededForNewOrigin, validateCredentialInput } from '../domain/credential-types';
import type { AppEnv, Deps } from '../env';
import { testConnection } from '../http/service-call';
import { apiError, apiWorkspace, invalidInput, jsonBody } from './api-helpers';
import { NotFound } from './errors';

/** Returns the listing shape of the contract (plus last use and last test). */
export function credentialJson(c: CredentialMeta) {
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
  };
}

function prefixed(errors: Record<string, string>, type: { fields: { name: string; secret: boolean }[] }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(errors)) out[k.startsWith('_') ? k : type.fields.find((f) => f.name === k)?.secret ? `secrets.${k}` : `fields.${k}`] = v;
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

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
    return c.json(list.map(credentialJson));
  });

  app.get('/workspaces/:ws/credentials/:cid', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const cred = await getCredential(deps.store, ws, c.req.param('cid'));
    if (!cred) throw new NotFound();
    return c.json(credentialJson(cred));
  });

  app.post('/workspaces/:ws/credentials', async (c) => {
    const ws = await apiWorkspace(deps, c);
    if (!canEdit(ws.role)) return forbidden(c);
    const body = await jsonBody(c);
    if (!body) return invalidInput(c, { _body: 'Send a JSON object.' });
    const errors: Record<string, string> = {};
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    const nameError = validateCredentialName(name);
    if (nameError) errors.name = nameError;
    const type = typeof body.type === 'string' ? getCredentialType(body.type) : undefined;
    if (!type) errors.type = `Type must be one of ${CREDENTIAL_TYPES.map((t) => t.type).join(', ')}.`;
    let credentialId: string | null = null;
    if (body.credential_id !== undefined && body.credential_id !== null) {
      credentialId = typeof body.credential_id === 'string' ? body.credential_id : '';
      const idError = validateCredentialId(credentialId);
      if (idError) errors.credential_id = idError;
    } else if (name) {
      credentialId = credentialIdFromName(name);
      if (!credentialId) errors.credential_id = 'This name has no letters or digits to make a Credential ID from; send credential_id.';
    }
    if (body.fields !== undefined && !isObject(body.fields)) errors.fields = 'fields must be an object.';
    if (!isObject(body.secrets)) errors.secrets = 'secrets must be an object.';
    let input: { fields: Record<string, string>; secrets: Record<string, string> } | null = null;
    if (type && !errors.fields && !errors.secrets) {
      const checked = validateCredentialInput(type, (body.fields as Record<string, unknown>) ?? {}, body.secrets as Record<string, unknown>, 'create');
      if (checked.ok) input = checked;
      else Object.assign(errors, prefixed(checked.errors, type));
    }
    if (Object.keys(errors).length || !input || !type || !credentialId) return invalidInput(c, errors);
    const result = await createCredential(deps.store, c.get('user')!, ws, { name, credentialId, type: type.type, fields: input.fields, secrets: input.secrets });
    if (!result.ok) return apiError(c, 409, 'credential_id_taken', `Credential ID ${credentialId} is already in use in this workspace.`, { credential_id: credentialId });
    deps.log.info('credential created', { requestId: c.get('requestId'), user: c.get('user')!.username, workspace: ws.ref, credentialId, type: type.type });
    return c.json(credentialJson(result.credential), 201);
  });

  app.patch('/workspaces/:ws/credentials/:cid', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const cred = await getCredential(deps.store, ws, c.req.param('cid'));
    if (!cred) throw new NotFound();
    if (!canEdit(ws.role)) return forbidden(c);
    const body = await jsonBody(c);
    if (!body) return invalidInput(c, { _body: 'Send a JSON object.' });
    const type = getCredentialType(cred.type)!;
    const errors: Record<string, string> = {};
    let name: string | undefined;
    if (body.name !== undefined) {
      name = typeof body.name === 'string' ? body.name.trim() : '';
      const nameError = validateCredentialName(name);
      if (nameError) errors.name = nameError;
    }
    let credentialId: string | undefined;
    if (body.credential_id !== undefined) {
      credentialId = typeof body.credential_id === 'string' ? body.credential_id : '';
      const idError = validateCredentialId(credentialId);
      if (idError) errors.credential_id = idError;
    }
    if (body.fields !== undefined && !isObject(body.fields)) errors.fields = 'fields must be an object.';
    if (body.secrets !== undefined && !isObject(body.secrets)) errors.secrets = 'secrets must be an object.';
    let input: { fields: Record<string, string>; secrets: Record<string, string> } | null = null;
    if (!errors.fields && !errors.secrets) {
      const checked = validateCredentialInput(type, { ...cred.fields, ...((body.fields as object) ?? {}) }, (body.secrets as Record<string, unknown>) ?? {}, 'update');
      if (checked.ok) {
        input = checked;
        Object.assign(errors, prefixed(secretsNeededForNewOrigin(type, cred.fields, checked.fields, checked.secrets), type));
      } else Object.assign(errors, prefixed(checked.errors, type));
    }
    if (Object.keys(errors).length || !input) return invalidInput(c, errors);
    const result = await updateCredential(deps.store, c.get('user'), ws, cred.credentialId, { name, credentialId, fields: input.fields, secrets: input.secrets });
    if (!result.ok && result.reason === 'not_found') throw new NotFound();
    if (!result.ok) return apiError(c, 409, 'credential_id_taken', `Credential ID ${credentialId} is already in use in this workspace.`, { credential_id: credentialId });
    return c.json(credentialJson(result.credential));
  });

  app.delete('/workspaces/:ws/credentials/:cid', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const cred = await getCredential(deps.store, ws, c.req.param('cid'));
    if (!cred) throw new NotFound();
    if (!canEdit(ws.role)) return forbidden(c);
    await deleteCredential(deps.store, c.get('user'), ws, cred.credentialId);
    deps.log.info('credential deleted', { requestId: c.get('requestId'), user: c.get('user')!.username, workspace: ws.ref, credentialId: cred.credentialId });
    return c.body(null, 204);
  });

  app.post('/workspaces/:ws/credentials/:cid/test', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const loaded = await loadCredentialForUse(deps.store, ws, c.req.param('cid'));
    if (!loaded) throw new NotFound();
    const result = await testConnection(deps.outbound, getCredentialType(loaded.row.type)!, loaded.fields, loaded.secrets);
    await recordConnectionTest(deps.store, ws, loaded.row.id, result);
    return c.json({ ok: result.ok, message: result.message, account: result.account ?? null, status: result.status ?? null });
  });

  return app;
}
