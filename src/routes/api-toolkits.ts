// JSON API for toolkit types, toolkits and execution.
import { Hono, type Context } from 'hono';
import { getToolkit, listToolkits, toolkitStatuses, type Toolkit } from '../store/toolkits';
import type { Workspace } from '../store/workspaces';
import { canEdit } from '../domain/access';
import { parseId } from '../domain/ids';
import type { AppEnv, Deps } from '../env';
import { TOOLKIT_TYPES, toolInputJsonSchema } from '../toolkits';
import { ExecuteBody, runToolkit, type RunResult } from '../services/run-toolkit';
import { runFailureAnswer } from '../domain/failures';
import { rateLimitJson } from '../domain/rate-limit';
import { apiError, apiWorkspace, fieldErrors, invalidInput, jsonBody } from './api-helpers';
import { NotFound } from './errors';
import { saveToolkit, type ToolkitSave } from '../services/save-toolkit';

/** Returns a toolkit in the contract's listing shape, with the caller's status. */
export async function toolkitJson(deps: Deps, ws: Workspace, t: Toolkit, userId: string) {
  return (await toolkitsJson(deps, ws, [t], userId))[0];
}

/** Returns toolkits in the contract's listing shape, their statuses resolved for the whole list at once. */
export async function toolkitsJson(deps: Deps, ws: Workspace, list: Toolkit[], userId: string) {
  const runs = await toolkitStatuses(deps.store, ws, userId, list);
  return list.map((t) => {
    const run = runs.get(t.id)!;
    return {
      id: t.id,
      name: t.name,
      type: t.type,
      settings: t.settings,
      credential: { scope: t.credential.scope, credential_id: t.credential.credentialId, fallback: t.credential.fallback?.credentialId ?? null },
      status: run.status,
      ...(run.runsWith ? { runs_with: run.runsWith } : {}),
      ...(run.expiry === 'soon' ? { expires_soon: true } : {}),
    };
  });
}

/** Returns the contract's answer to a successful run (the API's 200 body, MCP's structuredContent). */
export function executeAnswer(r: Extract<RunResult, { ok: true }>) {
  return {
    ok: true as const,
    tool: r.tool,
    result: r.result,
    credential: { scope: r.credential.scope, credential_id: r.credential.credentialId, owner: r.credential.owner },
    ...(r.rateLimit ? { rate_limit: rateLimitJson(r.rateLimit) } : {}),
  };
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
          input_schema: toolInputJsonSchema(t, tool.name),
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

  /** Translates a failed save into the contract's answer. */
  const saveFailure = (c: Context, r: Exclude<ToolkitSave, { ok: true }>) => {
    if (r.reason === 'forbidden') return forbidden(c);
    if (r.reason === 'invalid_input') return invalidInput(c, r.errors);
    throw new NotFound();
  };

  app.post('/workspaces/:ws/toolkits', async (c) => {
    const ws = await apiWorkspace(deps, c);
    if (!canEdit(ws.role)) return forbidden(c);
    const body = await jsonBody(c);
    if (!body) return invalidInput(c, { _body: 'Send a JSON object.' });
    const r = await saveToolkit(deps, c.get('user')!, ws, { op: 'create', body });
    if (!r.ok) return saveFailure(c, r);
    return c.json(await toolkitJson(deps, ws, r.toolkit, c.get('user')!.id), 201);
  });

  app.patch('/workspaces/:ws/toolkits/:id', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const existing = await toolkitOr404(c, ws);
    if (!canEdit(ws.role)) return forbidden(c);
    const body = await jsonBody(c);
    if (!body) return invalidInput(c, { _body: 'Send a JSON object.' });
    const r = await saveToolkit(deps, c.get('user')!, ws, { op: 'update', existing, body, confirmed: true });
    if (!r.ok) return saveFailure(c, r);
    const answer: Record<string, unknown> = await toolkitJson(deps, ws, r.toolkit, c.get('user')!.id);
    if (r.op === 'update' && r.membersWithoutCredential) answer.members_without_credential = r.membersWithoutCredential;
    return c.json(answer);
  });

  app.delete('/workspaces/:ws/toolkits/:id', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const existing = await toolkitOr404(c, ws);
    const r = await saveToolkit(deps, c.get('user')!, ws, { op: 'delete', existing });
    if (!r.ok) return saveFailure(c, r);
    return c.body(null, 204);
  });

  app.post('/workspaces/:ws/toolkits/:id/execute', async (c) => {
    const ws = await apiWorkspace(deps, c);
    const t = await toolkitOr404(c, ws);
    const body = ExecuteBody.safeParse((await jsonBody(c)) ?? {});
    if (!body.success) return invalidInput(c, fieldErrors(body.error));
    const r = await runToolkit(deps, { user: c.get('user')!, ws, toolkit: t, tool: body.data.tool, input: body.data.input ?? {} });
    if (r.ok) return c.json(executeAnswer(r));
    const { status, body: answer } = runFailureAnswer(r);
    return c.json(answer, status);
  });

  return app;
}
