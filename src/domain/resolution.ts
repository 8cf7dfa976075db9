// Which credential a toolkit run uses. Pure: the caller looks the candidates up by the only
// keys allowed (this project's credential row, or the executing user's own Private credential
// with the agreed Credential ID) and hands them in; nothing here can reach anyone else's.
import { isNearMiss } from './credential-id';

export type CredentialScope = 'project' | 'private';
export type ToolkitCredential = { scope: CredentialScope; credentialId: string };
export type Candidate = {
  rowId: number;
  credentialId: string;
  name: string;
  type: string;
  /** Set for a connected account (src/connect): its OAuth app, the provider's account name, its status. */
  connectedApp?: string | null;
  connectedAccount?: string | null;
  connectionStatus?: 'active' | 'reconnect_required' | null;
};

export type Resolution =
  | { ok: true; scope: CredentialScope; credential: Candidate }
  | { ok: false; reason: 'setup_required'; credentialId: string; credentialType: string; acceptedTypes: string[] }
  | { ok: false; reason: 'type_mismatch'; credentialId: string; expectedType: string; actualType: string; acceptedTypes: string[] }
  | { ok: false; reason: 'credential_missing'; credentialId: string }
  | { ok: false; reason: 'reconnect_required'; credentialId: string; connectedApp: string };

export type ToolkitStatus = 'ready' | 'setup_required' | 'type_mismatch' | 'credential_missing' | 'reconnect_required';

/**
 * Resolves a toolkit's credential for one executing user. `projectCredential` is the project's
 * credential row the toolkit points at (null when deleted); `privateCredential` is the user's own
 * Private credential with the toolkit's Credential ID (null when they have none).
 */
export function resolveCredential(
  ref: ToolkitCredential,
  acceptedTypes: string[],
  found: { projectCredential?: Candidate | null; privateCredential?: Candidate | null },
): Resolution {
  const candidate = ref.scope === 'project' ? found.projectCredential : found.privateCredential;
  if (!candidate) {
    return ref.scope === 'project'
      ? { ok: false, reason: 'credential_missing', credentialId: ref.credentialId }
      : { ok: false, reason: 'setup_required', credentialId: ref.credentialId, credentialType: acceptedTypes[0], acceptedTypes };
  }
  if (!acceptedTypes.includes(candidate.type)) {
    return { ok: false, reason: 'type_mismatch', credentialId: candidate.credentialId, expectedType: acceptedTypes[0], actualType: candidate.type, acceptedTypes };
  }
  // A connected account whose refresh was refused for good: runs must not contact the provider.
  if (candidate.connectionStatus === 'reconnect_required') return { ok: false, reason: 'reconnect_required', credentialId: candidate.credentialId, connectedApp: candidate.connectedApp ?? '' };
  return { ok: true, scope: ref.scope, credential: candidate };
}

/** Returns the status word of a resolution ('ready' when it resolved). */
export function statusOf(r: Resolution): ToolkitStatus {
  return r.ok ? 'ready' : r.reason;
}

/**
 * The readiness rule, the one place it is written: a member's status for a toolkit, given the
 * credential resolution would find for them (their own private credential with the toolkit's
 * Credential ID, or the project's credential row). Lists, the API, the team readiness panel and
 * the change dialog all ask this.
 */
export function memberStatus(ref: ToolkitCredential, acceptedTypes: string[], found: { projectCredential?: Candidate | null; privateCredential?: Candidate | null }): ToolkitStatus {
  return statusOf(resolveCredential(ref, acceptedTypes, found));
}

/**
 * Returns the user's private credentials that look meant for this toolkit but carry another ID:
 * an accepted type, and a name that makes the required ID or an ID that differs by a suffix
 * (the "toolkit not recognizing private credentials" case).
 */
export function findNearMisses(requiredId: string, acceptedTypes: string[], own: Candidate[]): Candidate[] {
  return own.filter((c) => c.credentialId !== requiredId && acceptedTypes.includes(c.type) && isNearMiss(requiredId, { credentialId: c.credentialId, name: c.name }));
}

export const STATUS_LABELS: Record<ToolkitStatus, string> = {
  ready: 'Ready',
  setup_required: 'Credential setup required',
  type_mismatch: 'Type mismatch',
  credential_missing: 'Credential missing',
  reconnect_required: 'Reconnect required',
};
