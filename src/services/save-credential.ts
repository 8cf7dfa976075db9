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
import { parseInput, requiredText, rule } from './input';
import { CREDENTIAL_ID_MAX_LENGTH, CREDENTIAL_NAME_MAX_LENGTH } from '../domain/credential-id';
import { FIELD_MAX_LENGTH, SECRET_MAX_LENGTH } from '../domain/credential-types';


const TYPE_ERROR = `Type must be one of ${CREDENTIAL_TYPES.map((t) => t.type).join(', ')}.`;
const KNOWN_NAMES = new Set(CREDENTIAL_TYPES.flatMap((t) => t.fields.map((f) => f.name)));
const textRecord = (max: number, notObject: string) =>
  z.record(z.string(), z.string({ error: 'Enter text.' }).max(max, `Use at most ${max} characters.`), { error: notObject });

const CredentialIdField = z
  .string({ error: 'Enter a Credential ID.' })
  .superRefine(rule(validateCredentialId))
  .max(CREDENTIAL_ID_MAX_LENGTH, `A Credential ID can be at most ${CREDENTIAL_ID_MAX_LENGTH} characters long.`)
  .meta({ pattern: '^[a-z0-9][a-z0-9_]{0,63}$' });

/** The API's body to create a credential (secret values at most 10,000 characters each). */
export const CredentialCreateBody = z.object({
  name: requiredText('Give the credential a name.', CREDENTIAL_NAME_MAX_LENGTH).superRefine(rule(validateCredentialName)),
  type: z.enum(CREDENTIAL_TYPES.map((t) => t.type) as [string, ...string[]], { error: TYPE_ERROR }),
  credential_id: CredentialIdField.optional().describe('Made from the name when left out.'),
  fields: textRecord(FIELD_MAX_LENGTH, 'fields must be an object.').optional().describe('Non-secret fields, e.g. base_url.'),
  secrets: textRecord(SECRET_MAX_LENGTH, 'secrets must be an object.').describe('Secret fields; never shown again.'),
  expires_at: z
    .string({ error: 'Give a date and time in ISO 8601, e.g. 2026-12-31 or 2026-12-31T08:00:00Z.' })
    .refine((v) => parseExpiry(v) !== null, 'Give a date and time in ISO 8601, e.g. 2026-12-31 or 2026-12-31T08:00:00Z.')
    .nullable()
    .optional()
    .describe('When the credential stops working (ISO 8601, e.g. 2026-12-31 or 2026-12-31T08:00:00Z); null clears it. Test connection replaces it with what the service reports.'),
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

/** Renames errors on `fields.X` / `secrets.X` whose X no credential type has. */
function hideUnknownKeys(errors: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(errors)) {
    const m = /^(fields|secrets)\.(.+)$/.exec(k);
    out[m && !KNOWN_NAMES.has(m[2]) ? (m[1] === 'fields' ? '_unknown_field' : '_unknown_secret') : k] = v;
  }
  return out;
}


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

  // null means "not given" (JSON clients send it for "keep" or "make it from the name").
  const body = {
    name: cmd.name ?? undefined,
    credential_id: cmd.credentialId ?? undefined,
    fields: cmd.fields ?? undefined,
    secrets: cmd.secrets ?? undefined,
    expires_at: cmd.expiresAt === '' ? null : cmd.expiresAt,
  };
  const parsed = cmd.op === 'create' ? parseInput(CredentialCreateBody, { ...body, type: cmd.type }) : parseInput(CredentialUpdateBody, body);
  // An unknown key may be a pasted secret: never echo it back in an error's name.
  const errors = parsed.ok ? {} : hideUnknownKeys(parsed.errors);
  const name = parsed.data.name;
  const type = cmd.op === 'create' ? getCredentialType((parsed.data as { type?: string }).type ?? '') : getCredentialType(cmd.existing.type);
  let credentialId = parsed.data.credential_id;
  if (cmd.op === 'create' && !credentialId && !errors.credential_id && name) {
    credentialId = credentialIdFromName(name) ?? undefined;
    if (!credentialId) errors.credential_id = 'This name has no letters or digits to make a Credential ID from. Enter a Credential ID.';
  }
  // expires_at: null (or a cleared form field) removes it; left out keeps it.
  const rawExpiry = parsed.data.expires_at;
  const expiresAt = rawExpiry === undefined ? undefined : rawExpiry === null ? null : (parseExpiry(rawExpiry) ?? undefined);
  let input: { fields: Record<string, string>; secrets: Record<string, string> } | null = null;
  if (type && !errors.fields && !errors.secrets) {
    const given = (cmd.fields as Record<string, unknown>) ?? {};
    const fields = cmd.op === 'create' ? given : { ...cmd.existing.fields, ...given };
    // The type's own fields are checked against the catalog (which fields a type has is data).
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
