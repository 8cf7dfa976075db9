// Saving a toolkit: create, update (with the credential-change check and who would be left
// without a working credential) and delete. The pages and the API call these and only translate
// the typed results into their answers.
import { getCredential } from '../store/credentials';
import { createToolkit, credentialChanged, deleteToolkit, membersNotReady, updateToolkit } from '../store/toolkits';
import type { AuditActor } from '../store/audit';
import type { FallbackRef, Toolkit, ToolkitInput, Workspace } from '../domain/models';
import { canEdit } from '../domain/access';
import { CREDENTIAL_ID_MAX_LENGTH, validateCredentialId } from '../domain/credential-id';
import { getCredentialType } from '../domain/credential-types';
import type { Deps } from '../env';
import { getToolkitType, TOOLKIT_TYPES, validateSettings, type ToolkitType } from '../toolkits';
import { z } from 'zod';
import { parseInput, requiredText } from './input';
import { SETTING_MAX_LENGTH } from '../toolkits';


/** The longest toolkit name. */
export const TOOLKIT_NAME_MAX_LENGTH = 120;

const TOOLKIT_TYPE_ERROR = `Type must be one of ${TOOLKIT_TYPES.map((t) => t.type).join(', ')}.`;

/** The API's body to create a toolkit. */
export const ToolkitCreateBody = z.object({
  name: requiredText('Give the toolkit a name.', TOOLKIT_NAME_MAX_LENGTH),
  type: z.enum(TOOLKIT_TYPES.map((t) => t.type) as [string, ...string[]], { error: TOOLKIT_TYPE_ERROR }),
  settings: z
    .record(z.string(), z.string({ error: 'Enter text.' }).max(SETTING_MAX_LENGTH, `Use at most ${SETTING_MAX_LENGTH} characters.`), { error: 'settings must be an object.' }).optional().describe("The type's own options, never a secret."),
  credential: z.object(
    {
      scope: z.enum(['project', 'private'], { error: 'Scope must be "project" or "private".' }),
      credential_id: z
        .string({ error: 'Choose a credential.' })
        .trim()
        .max(CREDENTIAL_ID_MAX_LENGTH, `A Credential ID can be at most ${CREDENTIAL_ID_MAX_LENGTH} characters long.`)
        .describe('A project credential of this project, or the ID each member’s private credential has.'),
      fallback: z
        .string({ error: 'Give the Credential ID of a project credential, or null for none.' })
        .trim()
        .max(CREDENTIAL_ID_MAX_LENGTH, `A Credential ID can be at most ${CREDENTIAL_ID_MAX_LENGTH} characters long.`)
        .nullable()
        .optional()
        .describe('Private scope in a project only: the Credential ID of a project credential that members without their own private credential run with. null (the default): none. Left out when changing a private credential: kept.'),
    },
    { error: 'Choose the credential this toolkit uses.' },
  ),
});

/** The API's body to change a toolkit: any of the same parts. */
export const ToolkitUpdateBody = ToolkitCreateBody.partial();

/** Who in the project would not be ready with a credential configuration, and how many members there are. */
export type MembersNotReady = { affected: string[]; total: number };

/** The change dialog's content: who would not be ready after the change, and who was not before it either. */
export type CredentialChangePreview = MembersNotReady & { before: string[] };

export type ToolkitSaveFailure =
  | { ok: false; reason: 'forbidden' }
  | { ok: false; reason: 'invalid_input'; errors: Record<string, string> }
  | { ok: false; reason: 'not_found' };

export type ToolkitSave =
  | { ok: true; op: 'create'; toolkit: Toolkit }
  | {
      ok: true;
      op: 'update';
      toolkit: Toolkit;
      /** Set when the credential changed: members who cannot run it as now configured. */
      membersWithoutCredential?: string[];
    }
  | { ok: true; op: 'delete'; toolkit: Toolkit }
  /** A project toolkit's credential would change and the caller has not confirmed it yet. */
  | { ok: false; reason: 'confirmation_required'; input: ToolkitInput; change: CredentialChangePreview }
  | ToolkitSaveFailure;

export type ToolkitCommand =
  | { op: 'create'; body: Record<string, unknown> }
  /** `confirmed`: the caller saw the change dialog (the API never asks: it answers members_without_credential). */
  | { op: 'update'; existing: Toolkit; body: Record<string, unknown>; confirmed: boolean }
  | { op: 'delete'; existing: Toolkit };

/** Creates, updates or deletes a toolkit of `ws` as `actor`; expected failures come back as values. */
export async function saveToolkit(deps: Deps, actor: { id: string; username: string }, ws: Workspace, cmd: ToolkitCommand): Promise<ToolkitSave> {
  if (!canEdit(ws.role)) return { ok: false, reason: 'forbidden' };
  if (cmd.op === 'delete') {
    const gone = await deleteToolkit(deps.store, actor, ws, cmd.existing.id);
    return gone ? { ok: true, op: 'delete', toolkit: cmd.existing } : { ok: false, reason: 'not_found' };
  }
  const parsed = await parseToolkitInput(deps, ws, cmd.body, cmd.op === 'update' ? cmd.existing : null);
  if (!parsed.ok) return { ok: false, reason: 'invalid_input', errors: parsed.errors };
  if (cmd.op === 'create') return { ok: true, op: 'create', toolkit: await createToolkit(deps.store, actor, ws, parsed.input) };

  const changed = credentialChanged(cmd.existing.credential, parsed.input.credential);
  if (changed && ws.kind === 'project' && !cmd.confirmed) {
    // Who cannot run it after the change, and who could not before either (the dialog tells them apart).
    const [after, before] = await Promise.all([membersNotReady(deps.store, ws, parsed.input), membersNotReady(deps.store, ws, cmd.existing)]);
    return { ok: false, reason: 'confirmation_required', input: parsed.input, change: { ...after, before: before.affected } };
  }
  const updated = await updateToolkit(deps.store, actor as AuditActor, ws, cmd.existing.id, parsed.input);
  if (!updated) return { ok: false, reason: 'not_found' };
  if (!changed) return { ok: true, op: 'update', toolkit: updated };
  return { ok: true, op: 'update', toolkit: updated, membersWithoutCredential: (await membersNotReady(deps.store, ws, updated)).affected };
}

export type ParsedToolkit = { ok: true; input: ToolkitInput } | { ok: false; errors: Record<string, string> };

/**
 * Returns the checked toolkit input. With `existing` (an update) missing parts keep their value.
 * A project credential must be this project's and of a type the toolkit accepts; a private one
 * is an agreed Credential ID (each member's own credential is looked up when they run it).
 */
async function parseToolkitInput(deps: Deps, ws: Workspace, body: Record<string, unknown>, existing: Toolkit | null): Promise<ParsedToolkit> {
  const parsed = parseInput(existing ? ToolkitUpdateBody : ToolkitCreateBody, body);
  const errors: Record<string, string> = parsed.ok ? {} : { ...parsed.errors };
  const data: z.output<typeof ToolkitUpdateBody> = parsed.data;
  const name = data.name ?? existing?.name ?? '';
  const kind = getToolkitType(data.type ?? existing?.type ?? '');

  let settings: Record<string, string> = existing?.settings ?? {};
  if (kind && (body.settings !== undefined || !existing) && !errors.settings) {
    const checked = validateSettings(kind, body.settings ?? {});
    if (checked.ok) settings = checked.settings;
    else for (const [k, v] of Object.entries(checked.errors)) errors[`settings.${k}`] = v;
  }

  // What the schema cannot know: the workspace's kind, and this project's credentials.
  let credential: ToolkitInput['credential'] | null = existing && !data.credential ? existing.credential : null;
  if (data.credential) {
    const { scope, credential_id: credentialId, fallback: rawFallback } = data.credential;
    if (scope === 'project' && ws.kind !== 'project') errors['credential.scope'] = 'A toolkit in your Private workspace uses private credentials only.';
    else if (!credentialId) errors['credential.credential_id'] = scope === 'project' ? 'Choose a project credential.' : 'Enter the Credential ID every member’s private credential will have.';
    else if (scope === 'private') {
      const idError = validateCredentialId(credentialId);
      if (idError) errors['credential.credential_id'] = idError;
      else {
        // Left out: an update keeps the fallback it had (a private toolkit stays private).
        const keep = rawFallback === undefined && existing?.credential.scope === 'private' ? existing.credential.fallback : null;
        const fallback = rawFallback === undefined ? { ok: true as const, fallback: keep } : await parseFallback(deps, ws, kind, rawFallback);
        if (!fallback.ok) errors['credential.fallback'] = fallback.error;
        else credential = { scope, credentialId, rowId: null, fallback: fallback.fallback };
      }
    } else if (rawFallback !== undefined && rawFallback !== null) {
      errors['credential.fallback'] = 'Only a toolkit with a private credential takes a fallback; a project credential already runs everyone as one account.';
    } else {
      const found = await getCredential(deps.store, ws, credentialId);
      if (!found) errors['credential.credential_id'] = `This project has no credential with Credential ID ${credentialId}.`;
      else if (kind && !kind.credentialTypes.includes(found.type)) {
        errors['credential.credential_id'] = `${credentialId} is a ${getCredentialType(found.type)?.label ?? found.type} credential; ${kind.label} toolkits need ${kind.credentialTypes.map((t) => getCredentialType(t)?.label ?? t).join(' or ')}.`;
      } else credential = { scope, credentialId, rowId: found.rowId, fallback: null };
    }
  }
  if (Object.keys(errors).length || !kind || !credential) return { ok: false, errors };
  return { ok: true, input: { name, type: kind.type, settings, credential } };
}


/** Returns the checked fallback of a private-scope toolkit: null, or a project credential of this project of an accepted type. */
async function parseFallback(deps: Deps, ws: Workspace, kind: ToolkitType | undefined, raw: string | null): Promise<{ ok: true; fallback: FallbackRef | null } | { ok: false; error: string }> {
  if (raw === null || raw === '') return { ok: true, fallback: null };
  if (ws.kind !== 'project') return { ok: false, error: 'Only toolkits in a project take a fallback: a Private workspace has no project credentials.' };
  const found = await getCredential(deps.store, ws, raw.trim());
  if (!found) return { ok: false, error: `This project has no credential with Credential ID ${raw.trim()}.` };
  if (kind && !kind.credentialTypes.includes(found.type)) {
    return { ok: false, error: `${found.credentialId} is a ${getCredentialType(found.type)?.label ?? found.type} credential; ${kind.label} toolkits need ${kind.credentialTypes.map((t) => getCredentialType(t)?.label ?? t).join(' or ')}.` };
  }
  return { ok: true, fallback: { credentialId: found.credentialId, rowId: found.rowId } };
}
