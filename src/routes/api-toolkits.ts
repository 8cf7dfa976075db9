// JSON API for toolkit types, toolkits and execution.
import { Hono, type Context } from 'hono';
import { createToolkit, credentialChanged, deleteToolkit, getToolkit, listToolkits, membersNotReady, toolkitStatuses, type Toolkit } from '../store/toolkits';
import type { Workspace } from '../store/workspaces';
import { canEdit } from '../domain/access';
import { parseId } from '../domain/ids';
import type { AppEnv, Deps } from '../env';
import { TOOLKIT_TYPES } from '../toolkits';
import { runTool, type RunResult } from '../toolkits/execute';
import { apiError, apiWorkspace, invalidInput, jsonBody } from './api-helpers';
import { NotFound } from './errors';
import { parseToolkitInput, updateToolkitChecked } from './toolkit-input';

/** Returns a toolkit in the contract's listing shape, with the caller's status. */
export async function toolkitJson(deps: Deps, ws: Workspace, t: Toolkit, userId: string) {
  return (await toolkitsJson(deps, ws, [t], userId))[0];
}

/** Returns toolkits in the contract's listing shape, their statuses resolved for the whole list at once. */
export async function toolkitsJson(deps: Deps, ws: Workspace, list: Toolkit[], userId: string) {
  const statuses = await toolkitStatuses(deps.store, ws, userId, list);
  return list.map((t) => ({ id: t.id, name: t.name, type: t.type, settings: t.settings, credential: { scope: t.credential.scope, credential_id: t.credential.credentialId }, status: statuses.get(t.id)! }));
}

/** Returns the contract's answer to a successful run (the API's 200 body, MCP's structuredContent). */
export function executeAnswer(r: Extract<RunResult, { ok: true }>) {
  return { ok: true as const, tool: r.tool, result: r.result, credential: { scope: r.credential.scope, credential_id: r.credential.credentialId, owner: r.credential.owner } };
}

/** Turns a failed run into the contract's status code and body. */
export function runFailureAnswer(r: Exclude<RunResult, { ok: true }>): { status: 400 | 403 | 404 | 422 | 502; body: Record<string, unknown> } {
  switch (r.reason) {
    case 'unknown_tool':
      return { status: 400, body: { error: 'invalid_input', message: 'This toolkit has no such tool.', fields: { tool: 'Unknown tool.' } } };
    case 'invalid_input':
      return { status: 400, body: { error: 'invalid_input', message: 'Some inputs are not valid.', fields: r.errors } };
    case 'setup_required':
      return {
        status: 422,
        body: {
          error: 'credential_setup_required',
          message: `Create a private credential with Credential ID ${r.credentialId} (type ${r.credentialType}) in your Private workspace to run this toolkit.`,
          credential_id: r.credentialId,
          credential_type: r.credentialType,
          accepted_types: r.acceptedTypes,
        },
      };
    case 'type_mismatch':
      return {
        status: 422,
        body: {
          error: 'credential_type_mismatch',
          message: `Your credential ${r.credentialId} is of type ${r.actualType}, but this toolkit needs ${r.acceptedTypes.join(' or ')}.`,
          credential_id: r.credentialId,
          expected_type: r.expectedType,
          actual_type: r.actualType,
          accepted_types: r.acceptedTypes,
        },
      };
    case 'credential_missing':
      return { status: 422, body: { error: 'credential_missing', message: `The project credential ${r.credentialId} this toolkit uses was deleted.`, credential_id: r.credentialId } };
    case 'destination_not_allowed':
      return { status: 403, body: { error: 'destination_not_allowed', message: `Latchkey may not call ${r.host}. An administrator can allow it with OUTBOUND_ALLOW_HOSTS.`, host: r.host } };
    case 'upstream_error':
      return { status: 502, body: { error: 'upstream_error', message: `The service failed with status ${r.status}.`, status: r.status } };
    case 'upstream_unreachable':
      return { status: 502, body: { error: 'upstream_unreachable', message: `Could not reach the service: ${r.message}` } };
  }
}

/** Returns the API sub-app for /toolkit-types and /workspaces/:ws/toolkits. */
export function toolkitApiRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const forbidden = (c: Context) => apiError(c, 403, 'forbidden', 'Only project editors and admins can change toolkits.');
  const toolkitOr404 = async (c: Context<AppEnv>, ws: Workspace) => {
    const id = parseId(c.req.param('id'));
    const t = id ? await getToolkit(deps.store, ws, id) : null;
    if (!t) throw new NotFound();
    return t;
  };

  app.get('/toolkit-types', (c) =>
    c.json(
      TOOLKIT_TYPES.map((t) => ({
        type: t.type,
        label: t.label,
        description: t.description,
        credential_types: t.credentialTypes,
        settings: t.settings.map((s) => ({ name: s.name, label: s.label, required: s.required })),
        tools: t.tools.map((tool) => ({
          name: tool.name,
          label: tool.label,
          description: tool.description,
          input: tool.input.map((i) => ({ name: i.name, label: i.label, type: i.type, required: i.required })),
        })),
      })),
    ),
  );

  app.get('/workspaces/:ws/toolkits', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const userId = c.get('user')!.id;
    return c.json(await toolkitsJson(deps, ws, await listToolkits(deps.store, ws), userId));
  });

  app.get('/workspaces/:ws/toolkits/:id', async (c) => {
    const ws = await apiWorkspace(deps, c);
    return c.json(await toolkitJson(deps, ws, await toolkitOr404(c, ws), c.get('user')!.id));
  });

  app.post('/workspaces/:ws/toolkits', async (c) => {
    const ws = await apiWorkspace(deps, c);
    if (!canEdit(ws.role)) return forbidden(c);
    const body = await jsonBody(c);
    if (!body) return invalidInput(c, { _body: 'Send a JSON object.' });
    const parsed = await parseToolkitInput(deps, ws, body, null);
    if (!parsed.ok) return invalidInput(c, parsed.errors);
    const t = await createToolkit(deps.store, c.get('user')!, ws, parsed.input);
    return c.json(await toolkitJson(deps, ws, t, c.get('user')!.id), 201);
  });

  app.patch('/workspaces/:ws/toolkits/:id', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const existing = await toolkitOr404(c, ws);
    if (!canEdit(ws.role)) return forbidden(c);
    const body = await jsonBody(c);
    if (!body) return invalidInput(c, { _body: 'Send a JSON object.' });
    const parsed = await parseToolkitInput(deps, ws, body, existing);
    if (!parsed.ok) return invalidInput(c, parsed.errors);
    const updated = await updateToolkitChecked(deps, c.get('user'), ws, existing, parsed.input);
    const answer: Record<string, unknown> = await toolkitJson(deps, ws, updated, c.get('user')!.id);
    if (credentialChanged(existing.credential, parsed.input.credential)) {
      answer.members_without_credential = (await membersNotReady(deps.store, ws, updated)).affected;
    }
    return c.json(answer);
  });

  app.delete('/workspaces/:ws/toolkits/:id', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const t = await toolkitOr404(c, ws);
    if (!canEdit(ws.role)) return forbidden(c);
    await deleteToolkit(deps.store, c.get('user'), ws, t.id);
    return c.body(null, 204);
  });

  app.post('/workspaces/:ws/toolkits/:id/execute', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const t = await toolkitOr404(c, ws);
    const body = await jsonBody(c);
    if (!body || typeof body.tool !== 'string') return invalidInput(c, { tool: 'Name the tool to run.' });
    if (body.input !== undefined && (typeof body.input !== 'object' || body.input === null || Array.isArray(body.input))) return invalidInput(c, { input: 'input must be an object.' });
    const r = await runTool(deps, c.get('user')!, ws, t, body.tool, body.input ?? {});
    if (r.ok) return c.json(executeAnswer(r));
    const { status, body: answer } = runFailureAnswer(r);
    return c.json(answer, status);
  });

  return app;
}
