// Runs one tool of a toolkit for one executing user: validate the input, resolve the credential
// (inline, on every run), call the service with it, record the run. Expected failures come back
// as values (src/domain/failures.ts) that the pages, the API and the MCP endpoint translate.
//
// Call shape: runToolkit(deps, { user, ws, toolkit, tool, input, origin? }).
// `origin` says where the run came from when it was not a page or the JSON API, e.g.
// { via: 'mcp', client: 'Claude Desktop' }: it is written into the toolkit.execute audit event's
// details as "via" and "client".
import { findRunCandidates, openRunCandidate, recordExecution, type RunCandidate } from '../store/toolkits';
import type { Toolkit, Workspace } from '../domain/models';
import { getCredentialType } from '../domain/credential-types';
import { resolveCredential } from '../domain/resolution';
import type { Deps } from '../env';
import { callService } from '../http/service-call';
import { freshSecrets, type FreshToken } from '../connect/refresh';
import { outboundFailureMessage, type RunFailure } from '../domain/failures';
import { getTool, getToolkitType, isPlanError, validateToolInput } from '../toolkits';
import { z } from 'zod';
import { parseRateLimit, type RateLimit } from '../domain/rate-limit';


/** The API's body to run a tool (the input's own schema is the tool's: see toolInputJsonSchema). */
export const ExecuteBody = z.object({
  tool: z.string({ error: 'Name the tool to run.' }).max(100, 'Name the tool to run.'),
  input: z.record(z.string(), z.unknown(), { error: 'input must be an object.' }).optional(),
});

/** The credential a run used; `fallback` when a member without their own ran with the toolkit's fallback. */
export type RunCredential = { scope: 'project' | 'private'; credentialId: string; owner: string; fallback?: true };

/** Where a run was asked for, when not a page or the JSON API. */
export type RunOrigin = { via: 'mcp'; client: string };

export type RunRequest = { user: { id: string; username: string }; ws: Workspace; toolkit: Toolkit; tool: string; input: unknown; origin?: RunOrigin };

export type RunResult =
  | { ok: true; tool: string; result: { status: number; body: unknown }; credential: RunCredential; durationMs: number; rateLimit?: RateLimit }
  | ({ ok: false; tool: string; credential?: RunCredential } & RunFailure);

/** The outcome label of a run, for metrics and the log: `success`, `service_error` (the service
 *  answered below 500 but reported a failure) or the failure reason. */
export function runOutcome(r: RunResult, serviceFailed = false): string {
  if (r.ok) return r.result.status < 400 && !serviceFailed ? 'success' : 'service_error';
  return r.reason;
}

/** Runs `req.tool` of `req.toolkit` as `req.user`; never throws for expected failures. Every run is
 *  counted in the metrics and leaves one log line (ids, outcome and timings only). */
export async function runToolkit(deps: Deps, req: RunRequest): Promise<RunResult> {
  const { user, ws, toolkit, tool: toolName } = req;
  const started = performance.now();
  const timing: RunTiming = { upstreamMs: null, serviceFailed: false };
  let result: RunResult | undefined;
  try {
    result = await run(deps, req, timing);
    return result;
  } finally {
    const ms = performance.now() - started;
    const outcome = result ? runOutcome(result, timing.serviceFailed) : 'error';
    deps.metrics.toolkitExecution(toolkit.type, outcome, ms / 1000, timing.upstreamMs === null ? null : timing.upstreamMs / 1000);
    const known = !!getTool(toolkit.type, toolName);
    const status = result && 'result' in result ? result.result.status : result && result.reason === 'upstream_error' ? result.status : null;
    deps.log.info('toolkit executed', {
      user: user.username,
      workspace: ws.ref,
      toolkitId: toolkit.id,
      toolkitType: toolkit.type,
      tool: known ? toolName : null,
      outcome,
      status,
      durationMs: Math.round(ms),
      upstreamMs: timing.upstreamMs === null ? null : Math.round(timing.upstreamMs),
      ...(req.origin ? { via: req.origin.via } : {}),
    });
  }
}

type RunTiming = { upstreamMs: number | null; serviceFailed: boolean };

async function run(deps: Deps, req: RunRequest, timing: RunTiming): Promise<RunResult> {
  const { user, ws, toolkit, tool: toolName, input: rawInput, origin } = req;
  const started = performance.now();
  const kind = getToolkitType(toolkit.type);
  const tool = kind && getTool(kind, toolName);
  if (!kind || !tool) return { ok: false, reason: 'unknown_tool', tool: toolName };
  const checked = validateToolInput(tool, rawInput ?? {});
  if (!checked.ok) return { ok: false, reason: 'invalid_input', errors: checked.errors, tool: toolName };
  const planned = tool.plan(checked.input, toolkit.settings);
  if (isPlanError(planned)) return { ok: false, reason: 'invalid_input', errors: { [planned.field ?? '_form']: planned.error }, tool: toolName };

  const record = (outcome: 'success' | 'failure', details: Record<string, unknown>, credentialRowId: number | null) =>
    recordExecution(deps.store, ws, {
      actor: user,
      toolkit,
      tool: toolName,
      outcome,
      credentialRowId,
      details: { ...details, ...(origin ? { via: origin.via, client: origin.client } : {}), duration_ms: Math.round(performance.now() - started), input_keys: Object.keys(checked.input) },
    });

  // Resolution decides, with the app clock, before anything is opened or sent: an expired
  // credential fails here, so the service never sees it.
  const found = await findRunCandidates(deps.store, ws, toolkit, user.id);
  const resolution = resolveCredential(toolkit.credential, kind.credentialTypes, found, deps.store.clock.now());
  if (!resolution.ok) {
    await record('failure', { error: resolution.reason, credential: { scope: toolkit.credential.scope, credential_id: toolkit.credential.credentialId } }, null);
    return { ...resolution, tool: toolName };
  }
  const owner = resolution.scope === 'private' ? user.username : ws.ref;
  const credential: RunCredential = { scope: resolution.scope, credentialId: resolution.credential.credentialId, owner, ...(resolution.runsWith === 'fallback' ? { fallback: true as const } : {}) };
  const auditCredential = { scope: credential.scope, credential_id: credential.credentialId, owner };
  // The row resolution picked was read with its sealed columns in the same statement: opening it
  // needs no second read, so nothing can change between choosing a credential and using it.
  const opened = openRunCandidate(deps.store, ws, resolution.scope, pickedRow(found, resolution.credential.rowId), user.id);
  const type = getCredentialType(opened.type)!;

  // A connected account: refresh ahead of expiry, and once after a 401 (then retry the call once).
  const rowId = resolution.credential.rowId;
  const connected = !!resolution.credential.connectedApp;
  const refreshFailed = async (f: Exclude<FreshToken, { ok: true }>): Promise<RunResult> => {
    await record('failure', { error: f.reason, credential: auditCredential }, rowId);
    if (f.reason === 'reconnect_required') return { ok: false, reason: 'reconnect_required', credentialId: credential.credentialId, credential, tool: toolName };
    return { ok: false, reason: 'upstream_unreachable', message: f.message, credential, tool: toolName };
  };
  let secrets = opened.secrets;
  if (connected) {
    const fresh = await freshSecrets(deps, rowId);
    if (!fresh.ok) return refreshFailed(fresh);
    secrets = fresh.secrets;
  }
  const calledAt = performance.now();
  let result = await callService(deps.outbound, type, opened.fields, secrets, planned);
  if (connected && result.ok && result.status === 401) {
    const fresh = await freshSecrets(deps, rowId, secrets.access_token);
    if (!fresh.ok) return refreshFailed(fresh);
    result = await callService(deps.outbound, type, opened.fields, fresh.secrets, planned);
  }
  timing.upstreamMs = performance.now() - calledAt;
  const rateLimit = result.ok ? parseRateLimit(result.headers, deps.store.clock.now()) : null;
  if (!result.ok) {
    const reason = result.reason === 'destination_not_allowed' ? 'destination_not_allowed' : 'upstream_unreachable';
    await record('failure', { error: reason, credential: auditCredential }, resolution.credential.rowId);
    if (result.reason === 'destination_not_allowed') return { ok: false, reason: 'destination_not_allowed', host: result.host, credential, tool: toolName };
    return { ok: false, reason: 'upstream_unreachable', message: outboundFailureMessage(result), credential, tool: toolName };
  }
  if (result.status >= 500) {
    await record('failure', { error: 'upstream_error', status: result.status, credential: auditCredential }, resolution.credential.rowId);
    return { ok: false, reason: 'upstream_error', status: result.status, credential, tool: toolName, ...(rateLimit ? { rateLimit } : {}) };
  }
  const failed = tool.failed?.(result.body);
  timing.serviceFailed = !!failed;
  await record(result.status < 400 && !failed ? 'success' : 'failure', { status: result.status, ...(failed ? { service_error: failed } : {}), credential: auditCredential }, resolution.credential.rowId);
  return { ok: true, tool: toolName, result: { status: result.status, body: result.body }, credential, durationMs: Math.round(performance.now() - started), ...(rateLimit ? { rateLimit } : {}) };
}

/** The found row resolution picked (by row id: one of the at most three looked up). */
function pickedRow(found: Awaited<ReturnType<typeof findRunCandidates>>, rowId: number): RunCandidate {
  const row = [found.privateCredential, found.projectCredential, found.fallbackCredential].find((c) => c?.rowId === rowId);
  if (!row) throw new Error(`resolution picked credential row ${rowId}, which was not looked up`);
  return row;
}
