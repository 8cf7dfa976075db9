// The one table of expected failures: each code's message for a person, and how the JSON API
// answers it (status, contract error code, extra fields). The pages, the API and the MCP endpoint
// all read it, so a run that fails says the same thing everywhere.
import { getCredentialType } from './credential-types';
import { rateLimitJson, type RateLimit } from './rate-limit';

const typeLabel = (t: string) => getCredentialType(t)?.label ?? t;
const typesText = (types: string[]) => types.map(typeLabel).join(' or ');

/** Why a run did not produce a result. */
export type RunFailure =
  | { reason: 'invalid_input'; errors: Record<string, string> }
  | { reason: 'unknown_tool' }
  | { reason: 'setup_required'; credentialId: string; credentialType: string; acceptedTypes: string[] }
  | { reason: 'type_mismatch'; credentialId: string; expectedType: string; actualType: string; acceptedTypes: string[] }
  | { reason: 'credential_missing'; credentialId: string; scope?: 'project' | 'private' }
  | { reason: 'expired'; credentialId: string; expiresAt: number }
  | { reason: 'reconnect_required'; credentialId: string }
  | { reason: 'destination_not_allowed'; host: string }
  | { reason: 'upstream_error'; status: number; rateLimit?: RateLimit }
  | { reason: 'upstream_unreachable'; message: string };

type Entry<R> = {
  /** The JSON API's status code. */
  status: 400 | 403 | 422 | 502;
  /** The JSON API's `error` code (CONTRACT.md §4). */
  error: string;
  /** The sentence for a person (pages, API `message`, MCP tool errors). */
  message(r: R): string;
  /** The fields the API adds next to `error` and `message`. */
  fields(r: R): Record<string, unknown>;
};

type Table = { [K in RunFailure['reason']]: Entry<Extract<RunFailure, { reason: K }>> };

export const RUN_FAILURES: Table = {
  unknown_tool: {
    status: 400,
    error: 'invalid_input',
    message: () => 'This toolkit has no such tool.',
    fields: () => ({ fields: { tool: 'Unknown tool.' } }),
  },
  invalid_input: {
    status: 400,
    error: 'invalid_input',
    message: () => 'Some inputs are not valid.',
    fields: (r) => ({ fields: r.errors }),
  },
  setup_required: {
    status: 422,
    error: 'credential_setup_required',
    message: (r) =>
      `Credential setup required: create a private credential with Credential ID ${r.credentialId} (type ${typeLabel(r.credentialType)}) in your Private workspace to run this toolkit.`,
    fields: (r) => ({ credential_id: r.credentialId, credential_type: r.credentialType, accepted_types: r.acceptedTypes }),
  },
  type_mismatch: {
    status: 422,
    error: 'credential_type_mismatch',
    message: (r) => `Your credential ${r.credentialId} is a ${typeLabel(r.actualType)} credential, but this toolkit needs ${typesText(r.acceptedTypes)}.`,
    fields: (r) => ({ credential_id: r.credentialId, expected_type: r.expectedType, actual_type: r.actualType, accepted_types: r.acceptedTypes }),
  },
  credential_missing: {
    status: 422,
    error: 'credential_missing',
    message: (r) => `The ${r.scope === 'private' ? 'private' : 'project'} credential ${r.credentialId} was deleted.`,
    fields: (r) => ({ credential_id: r.credentialId }),
  },
  expired: {
    status: 422,
    error: 'credential_expired',
    message: (r) => `The credential ${r.credentialId} expired on ${new Date(r.expiresAt).toISOString().slice(0, 10)}; its owner must renew it. Nothing was sent to the service.`,
    fields: (r) => ({ credential_id: r.credentialId }),
  },
  reconnect_required: {
    status: 422,
    error: 'credential_reconnect_required',
    message: (r) => `Reconnect required: the service no longer accepts your connected account ${r.credentialId}. Reconnect it to run this toolkit.`,
    fields: (r) => ({ credential_id: r.credentialId }),
  },
  destination_not_allowed: {
    status: 403,
    error: 'destination_not_allowed',
    message: (r) => `Latchkey may not call ${r.host}: it is a private, loopback or link-local address. An administrator can allow it with OUTBOUND_ALLOW_HOSTS.`,
    fields: (r) => ({ host: r.host }),
  },
  upstream_error: {
    status: 502,
    error: 'upstream_error',
    message: (r) => `The service failed with HTTP ${r.status}.`,
    fields: (r) => ({ status: r.status, ...(r.rateLimit ? { rate_limit: rateLimitJson(r.rateLimit) } : {}) }),
  },
  upstream_unreachable: {
    status: 502,
    error: 'upstream_unreachable',
    message: (r) => r.message,
    fields: () => ({}),
  },
};

/** Returns the table entry of a failure (typed by its reason). */
function entry<R extends RunFailure>(r: R): Entry<R> {
  return RUN_FAILURES[r.reason] as unknown as Entry<R>;
}

/** Returns the sentence for a person that says why a run failed. */
export function runFailureMessage(r: RunFailure): string {
  return entry(r).message(r);
}

/** Returns the JSON API's status code and body for a failed run (CONTRACT.md §4). */
export function runFailureAnswer(r: RunFailure): { status: 400 | 403 | 422 | 502; body: Record<string, unknown> } {
  const e = entry(r);
  return { status: e.status, body: { error: e.error, message: e.message(r), ...e.fields(r) } };
}

/** Why an outbound call produced no answer, as the outbound client reports it. */
export type OutboundFailure = { reason: 'destination_not_allowed'; host: string } | { reason: 'unreachable'; message: string } | { reason: 'too_large' } | { reason: 'timeout' };

/** Returns the sentence for a person for an outbound call that got no usable answer (runs and Test connection). */
export function outboundFailureMessage(r: OutboundFailure): string {
  switch (r.reason) {
    case 'destination_not_allowed':
      return runFailureMessage(r);
    case 'timeout':
      return 'The service did not answer within 15 seconds.';
    case 'too_large':
      return 'The service answered with more than 1 MiB; the answer was not kept.';
    case 'unreachable':
      return `Could not reach the service: ${r.message}.`;
  }
}

/** Why a membership change was refused: the sentence, and the API's status and error code. */
export const MEMBER_FAILURES = {
  no_such_user: { status: 404, error: 'user_not_found', message: 'There is no user with that username.' },
  already_member: { status: 409, error: 'already_member', message: 'That user is already a member of this project.' },
  not_member: { status: 404, error: 'not_found', message: 'That user is not a member of this project.' },
  last_admin: { status: 409, error: 'last_admin', message: 'A project needs at least one admin. Make someone else admin first.' },
} as const;

/** Why an instance admin's change to a user (deactivate, remove admin) was refused. */
export const USER_FAILURES = {
  forbidden: { status: 403, error: 'forbidden', message: 'Only instance admins can do this.' },
  not_found: { status: 404, error: 'not_found', message: 'There is no user with that username.' },
  last_admin: { status: 409, error: 'last_admin', message: 'This is the last active instance admin. Make someone else an instance admin first.' },
  self: { status: 409, error: 'self', message: 'You cannot disable yourself or remove your own admin rights. Ask another instance admin.' },
} as const;
