// Runs one tool of a toolkit for one executing user: validate the input, resolve the credential
// (inline, on every run), call the service with it, record the run. Expected failures come back
// as values that the page and the API turn into their own answers.
import { findResolutionCandidates, openResolvedCredential, recordExecution, type Toolkit } from '../store/toolkits';
import type { Workspace } from '../store/workspaces';
import { getCredentialType } from '../domain/credential-types';
import { resolveCredential, type Resolution } from '../domain/resolution';
import type { Deps } from '../env';
import { callService } from '../http/service-call';
import { getToolkitType, isPlanError, validateToolInput } from './index';

export type RunCredential = { scope: 'project' | 'private'; credentialId: string; owner: string };

/** Where a run was asked for, when not the pages or the API: goes into the audit event's details. */
export type RunOrigin = { via: 'mcp'; client: string };

export type RunResult =
  | { ok: true; tool: string; result: { status: number; body: unknown }; credential: RunCredential; durationMs: number }
  | { ok: false; reason: 'invalid_input'; errors: Record<string, string> }
  | { ok: false; reason: 'unknown_tool' }
  | (Extract<Resolution, { ok: false }> & { tool: string })
  | { ok: false; reason: 'destination_not_allowed'; host: string; credential: RunCredential }
  | { ok: false; reason: 'upstream_error'; status: number; body: unknown; credential: RunCredential }
  | { ok: false; reason: 'upstream_unreachable'; message: string; credential: RunCredential };

/** The outcome label of a run, for metrics and the log: `success`, `service_error` (the service
 *  answered below 500 but reported a failure) or the failure reason. */
export function runOutcome(r: RunResult, serviceFailed = false): string {
  if (r.ok) return r.result.status < 400 && !serviceFailed ? 'success' : 'service_error';
  return r.reason;
}

/** Runs `toolName` of `toolkit` as `user`; never throws for expected failures. Every run is counted
 *  in the metrics and leaves one log line (ids, outcome and timings only). */
export async function runTool(deps: Deps, user: { id: string; username: string }, ws: Workspace, toolkit: Toolkit, toolName: string, rawInput: unknown, origin?: RunOrigin): Promise<RunResult> {
  const started = performance.now();
  const timing: RunTiming = { upstreamMs: null, serviceFailed: false };
  let result: RunResult | undefined;
  try {
    result = await run(deps, user, ws, toolkit, toolName, rawInput, timing, origin);
    return result;
  } finally {
    const ms = performance.now() - started;
    const outcome = result ? runOutcome(result, timing.serviceFailed) : 'error';
    deps.metrics.toolkitExecution(toolkit.type, outcome, ms / 1000, timing.upstreamMs === null ? null : timing.upstreamMs / 1000);
    const known = !!getToolkitType(toolkit.type)?.tools.some((t) => t.name === toolName);
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
    });
  }
}

type RunTiming = { upstreamMs: number | null; serviceFailed: boolean };

async function run(
  deps: Deps,
  user: { id: string; username: string },
  ws: Workspace,
  toolkit: Toolkit,
  toolName: string,
  rawInput: unknown,
  timing: RunTiming,
  origin: RunOrigin | undefined,
): Promise<RunResult> {
  const started = performance.now();
  const kind = getToolkitType(toolkit.type);
  const tool = kind?.tools.find((t) => t.name === toolName);
  if (!kind || !tool) return { ok: false, reason: 'unknown_tool' };
  const checked = validateToolInput(tool, rawInput ?? {});
  if (!checked.ok) return { ok: false, reason: 'invalid_input', errors: checked.errors };
  const planned = tool.plan(checked.input, toolkit.settings);
  if (isPlanError(planned)) return { ok: false, reason: 'invalid_input', errors: { [planned.field ?? '_form']: planned.error } };

  const record = (outcome: 'success' | 'failure', details: Record<string, unknown>, credentialRowId: number | null) =>
    recordExecution(deps.store, ws, {
      actor: user,
      toolkit,
      tool: toolName,
      outcome,
      credentialRowId,
      details: { ...details, ...(origin ? { via: origin.via, client: origin.client } : {}), duration_ms: Math.round(performance.now() - started), input_keys: Object.keys(checked.input) },
    });

  const resolution = resolveCredential(toolkit.credential, kind.credentialTypes, await findResolutionCandidates(deps.store, ws, toolkit, user.id));
  if (!resolution.ok) {
    await record('failure', { error: resolution.reason, credential: { scope: toolkit.credential.scope, credential_id: toolkit.credential.credentialId } }, null);
    return { ...resolution, tool: toolName };
  }
  const owner = resolution.scope === 'private' ? user.username : ws.ref;
  const credential: RunCredential = { scope: resolution.scope, credentialId: resolution.credential.credentialId, owner };
  const auditCredential = { scope: credential.scope, credential_id: credential.credentialId, owner };
  const opened = await openResolvedCredential(deps.store, ws, resolution.scope, resolution.credential.rowId, user.id);
  if (!opened) return { ok: false, reason: 'credential_missing', credentialId: toolkit.credential.credentialId, tool: toolName };
  const type = getCredentialType(opened.type)!;

  const calledAt = performance.now();
  const result = await callService(deps.outbound, type, opened.fields, opened.secrets, planned);
  timing.upstreamMs = performance.now() - calledAt;
  if (!result.ok) {
    const reason = result.reason === 'destination_not_allowed' ? 'destination_not_allowed' : 'upstream_unreachable';
    await record('failure', { error: reason, credential: auditCredential }, resolution.credential.rowId);
    if (result.reason === 'destination_not_allowed') return { ok: false, reason: 'destination_not_allowed', host: result.host, credential };
    const message = result.reason === 'timeout' ? 'The service did not answer within 15 seconds.' : result.reason === 'too_large' ? 'The answer was larger than 1 MiB.' : result.message;
    return { ok: false, reason: 'upstream_unreachable', message, credential };
  }
  if (result.status >= 500) {
    await record('failure', { error: 'upstream_error', status: result.status, credential: auditCredential }, resolution.credential.rowId);
    return { ok: false, reason: 'upstream_error', status: result.status, body: result.body, credential };
  }
  const failed = tool.failed?.(result.body);
  timing.serviceFailed = !!failed;
  await record(result.status < 400 && !failed ? 'success' : 'failure', { status: result.status, ...(failed ? { service_error: failed } : {}), credential: auditCredential }, resolution.credential.rowId);
  return { ok: true, tool: toolName, result: { status: result.status, body: result.body }, credential, durationMs: Math.round(performance.now() - started) };
}
