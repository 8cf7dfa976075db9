// Saving a credential: create, update and delete. Checks the name, the Credential ID, the type's
// fields and secrets (and that a saved secret never follows a changed base_url unless it is typed
// again), writes the change and its audit event in one transaction, and logs it. The pages and
// the API translate the typed results; no result ever holds a secret value.
import { createCredential, deleteCredential, updateCredential } from '../store/credentials';
import type { CredentialMeta, Workspace } from '../domain/models';
import { canEdit } from '../domain/access';
import { credentialIdFromName, validateCredentialId, validateCredentialName } from '../domain/credential-id';
import { CREDENTIAL_TYPES, getCredentialType, secretsNeededForNewOrigin, validateCredentialInput, type CredentialType } from '../domain/credential-types';
import type { Deps } from '../env';
import { z } from 'zod';
import { parseExpiry } from '../domain/expiry';
import { CREDENTIAL_ID_MAX_LENGTH, CREDENTIAL_NAME_MAX_LENGTH } from '../domain/credential-id';
import { FIELD_MAX_LENGTH, SECRET_MAX_LENGTH } from '../domain/credential-types';


/** The API's body to create a credential (secret values at most 10,000 characters each). */
export const CredentialCreateBody = z.object({
  name: z.string().max(CREDENTIAL_NAME_MAX_LENGTH),
  type: z.enum(CREDENTIAL_TYPES.map((t) => t.type) as [string, ...string[]]),
  credential_id: z.string().max(CREDENTIAL_ID_MAX_LENGTH).optional().describe('Made from the name when left out.'),
  fields: z.record(z.string(), z.string().max(FIELD_MAX_LENGTH)).optional().describe('Non-secret fields, e.g. base_url.'),
  secrets: z.record(z.string(), z.string().max(SECRET_MAX_LENGTH)).describe('Secret fields; never shown again.'),
  expires_at: z.string().max(40).nullable().optional().describe('When the credential stops working (ISO 8601, e.g. 2026-12-31 or 2026-12-31T08:00:00Z); null clears it. Test connection replaces it with what the service reports.'),
});

/** The API's body to change a credential: any of the same parts; secrets left out keep their value. */
export const CredentialUpdateBody = CredentialCreateBody.omit({ type: true }).partial();

/** Who asks, where, and the request id their log lines carry. */
export type CredentialContext = { actor: { id: string; username: string }; ws: Workspace; requestId?: string };

export type CredentialCommand =
  /** `credentialId` null: made from the name. */
  | { op: 'create'; name: unknown; type: unknown; credentialId: unknown; fields: unknown; secrets: unknown; expiresAt?: unknown }
  /** Absent parts keep their value; secrets not given keep theirs; `expiresAt` null clears it. */
  | { op: 'update'; existing: CredentialMeta; name?: unknown; credentialId?: unknown; fields?: unknown; secrets?: unknown; expiresAt?: unknown }
  | { op: 'delete'; existing: CredentialMeta };

export type CredentialSave =
  | { ok: true; credential: CredentialMeta }
  | { ok: false; reason: 'forbidden' }
  | { ok: false; reason: 'invalid_input'; errors: Record<string, string> }
  | { ok: false; reason: 'credential_id_taken'; credentialId: string }
  | { ok: false; reason: 'not_found' };

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Names an error by where the value was sent: `fields.x` or `secrets.x` (or `_…` as is). */
function prefixed(errors: Record<string, string>, type: CredentialType): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(errors)) out[k.startsWith('_') ? k : type.fields.find((f) => f.name === k)?.secret ? `secrets.${k}` : `fields.${k}`] = v;
  return out;
}

/** Creates, updates or deletes a credential of `ctx.ws`; expected failures come back as values. */
export async function saveCredential(deps: Deps, ctx: CredentialContext, cmd: CredentialCommand): Promise<CredentialSave> {
  const { actor, ws } = ctx;
  if (!canEdit(ws.role)) return { ok: false, reason: 'forbidden' };
  if (cmd.op === 'delete') {
    if (!(await deleteCredential(deps.store, actor, ws, cmd.existing.credentialId))) return { ok: false, reason: 'not_found' };
    deps.log.info('credential deleted', { requestId: ctx.requestId, user: actor.username, workspace: ws.ref, credentialId: cmd.existing.credentialId });
    return { ok: true, credential: cmd.existing };
  }

  const errors: Record<string, string> = {};
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  let name: string | undefined;
  if (cmd.op === 'create' || cmd.name !== undefined) {
    name = text(cmd.name).trim();
    const nameError = validateCredentialName(name);
    if (nameError) errors.name = nameError;
  }
  const type = cmd.op === 'create' ? (typeof cmd.type === 'string' ? getCredentialType(cmd.type) : undefined) : getCredentialType(cmd.existing.type);
  if (!type) errors.type = `Type must be one of ${CREDENTIAL_TYPES.map((t) => t.type).join(', ')}.`;

  let credentialId: string | undefined;
  if (cmd.credentialId !== undefined && cmd.credentialId !== null) {
    credentialId = text(cmd.credentialId);
    const idError = validateCredentialId(credentialId);
    if (idError) errors.credential_id = idError;
  } else if (cmd.op === 'create' && name) {
    credentialId = credentialIdFromName(name) ?? undefined;
    if (!credentialId) errors.credential_id = 'This name has no letters or digits to make a Credential ID from. Enter a Credential ID.';
  }

  let expiresAt: number | null | undefined;
  if (cmd.expiresAt === null || cmd.expiresAt === '') expiresAt = null;
  else if (cmd.expiresAt !== undefined) {
    expiresAt = typeof cmd.expiresAt === 'string' ? parseExpiry(cmd.expiresAt) : null;
    if (expiresAt === null) errors.expires_at = 'Give a date and time in ISO 8601, e.g. 2026-12-31 or 2026-12-31T08:00:00Z.';
  }

  if (cmd.fields !== undefined && cmd.fields !== null && !isObject(cmd.fields)) errors.fields = 'fields must be an object.';
  const secretsRequired = cmd.op === 'create';
  if ((secretsRequired || (cmd.secrets !== undefined && cmd.secrets !== null)) && !isObject(cmd.secrets)) errors.secrets = 'secrets must be an object.';
  let input: { fields: Record<string, string>; secrets: Record<string, string> } | null = null;
  if (type && !errors.fields && !errors.secrets) {
    const fields = cmd.op === 'create' ? ((cmd.fields as Record<string, unknown>) ?? {}) : { ...cmd.existing.fields, ...((cmd.fields as Record<string, unknown>) ?? {}) };
    const checked = validateCredentialInput(type, fields, (cmd.secrets as Record<string, unknown>) ?? {}, cmd.op);
    if (!checked.ok) Object.assign(errors, prefixed(checked.errors, type));
    else {
      input = checked;
      if (cmd.op === 'update') Object.assign(errors, prefixed(secretsNeededForNewOrigin(type, cmd.existing.fields, checked.fields, checked.secrets), type));
    }
  }
  if (Object.keys(errors).length || !input || !type) return { ok: false, reason: 'invalid_input', errors };

  if (cmd.op === 'create') {
    const result = await createCredential(deps.store, actor, ws, { name: name!, credentialId: credentialId!, type: type.type, fields: input.fields, secrets: input.secrets, expiresAt });
    if (!result.ok) return { ok: false, reason: 'credential_id_taken', credentialId: credentialId! };
    deps.log.info('credential created', { requestId: ctx.requestId, user: actor.username, workspace: ws.ref, credentialId, type: type.type });
    return result;
  }
  const result = await updateCredential(deps.store, actor, ws, cmd.existing.credentialId, { name, credentialId, fields: input.fields, secrets: input.secrets, expiresAt });
  if (result.ok) return result;
  return result.reason === 'not_found' ? { ok: false, reason: 'not_found' } : { ok: false, reason: 'credential_id_taken', credentialId: credentialId! };
}
