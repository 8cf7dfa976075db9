// Checks a toolkit's name, type, settings and credential reference; shared by the pages and the API.
import { getCredential } from '../store/credentials';
import { updateToolkit, type Toolkit, type ToolkitInput } from '../store/toolkits';
import type { Workspace } from '../store/workspaces';
import type { AuditActor } from '../store/audit';
import { validateCredentialId } from '../domain/credential-id';
import { getCredentialType } from '../domain/credential-types';
import type { Deps } from '../env';
import { getToolkitType, TOOLKIT_TYPES, validateSettings } from '../toolkits';
import { NotFound } from './errors';

export type ParsedToolkit = { ok: true; input: ToolkitInput } | { ok: false; errors: Record<string, string> };

/**
 * Returns the checked toolkit input. With `existing` (an update) missing parts keep their value.
 * A project credential must be this project's and of a type the toolkit accepts; a private one
 * is an agreed Credential ID (each member's own credential is looked up when they run it).
 */
export async function parseToolkitInput(deps: Deps, ws: Workspace, body: Record<string, unknown>, existing: Toolkit | null): Promise<ParsedToolkit> {
  const errors: Record<string, string> = {};
  const name = body.name === undefined && existing ? existing.name : typeof body.name === 'string' ? body.name.trim() : '';
  if (!name) errors.name = 'Give the toolkit a name.';
  else if (name.length > 120) errors.name = 'Use at most 120 characters.';

  const typeName = body.type === undefined && existing ? existing.type : typeof body.type === 'string' ? body.type : '';
  const kind = getToolkitType(typeName);
  if (!kind) errors.type = `Type must be one of ${TOOLKIT_TYPES.map((t) => t.type).join(', ')}.`;

  let settings: Record<string, string> = existing?.settings ?? {};
  if (kind && (body.settings !== undefined || !existing)) {
    const checked = validateSettings(kind, body.settings ?? {});
    if (checked.ok) settings = checked.settings;
    else for (const [k, v] of Object.entries(checked.errors)) errors[`settings.${k}`] = v;
  }

  let credential: ToolkitInput['credential'] | null = existing ? existing.credential : null;
  const ref = body.credential;
  if (ref !== undefined || !existing) {
    credential = null;
    if (!ref || typeof ref !== 'object' || Array.isArray(ref)) {
      errors.credential = 'Choose the credential this toolkit uses.';
    } else {
      const { scope, credential_id: rawId } = ref as Record<string, unknown>;
      const credentialId = typeof rawId === 'string' ? rawId.trim() : '';
      if (scope !== 'project' && scope !== 'private') errors['credential.scope'] = 'Scope must be "project" or "private".';
      else if (scope === 'project' && ws.kind !== 'project') errors['credential.scope'] = 'A toolkit in your Private workspace uses private credentials only.';
      else if (!credentialId) errors['credential.credential_id'] = scope === 'project' ? 'Choose a project credential.' : 'Enter the Credential ID every member’s private credential will have.';
      else if (scope === 'private') {
        const idError = validateCredentialId(credentialId);
        if (idError) errors['credential.credential_id'] = idError;
        else credential = { scope, credentialId, rowId: null };
      } else {
        const found = await getCredential(deps.store, ws, credentialId);
        if (!found) errors['credential.credential_id'] = `This project has no credential with Credential ID ${credentialId}.`;
        else if (kind && !kind.credentialTypes.includes(found.type)) {
          errors['credential.credential_id'] = `${credentialId} is a ${getCredentialType(found.type)?.label ?? found.type} credential; ${kind.label} toolkits need ${kind.credentialTypes.map((t) => getCredentialType(t)?.label ?? t).join(' or ')}.`;
        } else credential = { scope, credentialId, rowId: found.rowId };
      }
    }
  }
  if (Object.keys(errors).length || !kind || !credential) return { ok: false, errors };
  return { ok: true, input: { name, type: kind.type, settings, credential } };
}

/** Updates a toolkit that was loaded in this workspace; throws NotFound if it vanished meanwhile. */
export async function updateToolkitChecked(deps: Deps, actor: AuditActor, ws: Workspace, existing: Toolkit, input: ToolkitInput): Promise<Toolkit> {
  const updated = await updateToolkit(deps.store, actor, ws, existing.id, input);
  if (!updated) throw new NotFound();
  return updated;
}
