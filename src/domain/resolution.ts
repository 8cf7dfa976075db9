// Which credential a toolkit run uses. Pure: the caller looks the candidates up by the only
// keys allowed (this project's credential row, or the executing user's own Private credential
// with the agreed Credential ID) and hands them in; nothing here can reach anyone else's.
import { isNearMiss } from './credential-id';
import { expiryOf } from './expiry';

export type CredentialScope = 'project' | 'private';
/** A toolkit's credential: with scope private, `fallback` names the project credential members without their own run with. */
export type ToolkitCredential = { scope: CredentialScope; credentialId: string; fallback?: { credentialId: string } | null };
/** A credential resolution may pick; `expiresAt` (ms) when its end is known. */
export type Candidate = {
  rowId: number;
  credentialId: string;
  name: string;
  type: string;
  expiresAt?: number | null;
  /** Set for a connected account (src/connect): its OAuth app, the provider's account name, its status. */
  connectedApp?: string | null;
  connectedAccount?: string | null;
  connectionStatus?: 'active' | 'reconnect_required' | null;
};

/** Whose credential a ready private-scope toolkit runs with: the member's own, or the project's fallback. */
export type RunsWith = 'own' | 'fallback';

export type Resolution =
  | { ok: true; scope: CredentialScope; credential: Candidate; runsWith?: RunsWith }
  | { ok: false; reason: 'setup_required'; credentialId: string; credentialType: string; acceptedTypes: string[] }
  | { ok: false; reason: 'type_mismatch'; credentialId: string; expectedType: string; actualType: string; acceptedTypes: string[] }
  | { ok: false; reason: 'credential_missing'; credentialId: string }
  | { ok: false; reason: 'expired'; credentialId: string; expiresAt: number; connectedApp?: string }
  | { ok: false; reason: 'reconnect_required'; credentialId: string; connectedApp: string };

export type ToolkitStatus = 'ready' | 'setup_required' | 'type_mismatch' | 'credential_missing' | 'expired' | 'reconnect_required';

/** What the caller looked up: the project's row, the member's own private credential, the toolkit's fallback row (null when gone). */
export type Found = { projectCredential?: Candidate | null; privateCredential?: Candidate | null; fallbackCredential?: Candidate | null };

/**
 * Resolves a toolkit's credential for one executing user at time `now` (the app clock).
 * `projectCredential` is the project's credential row the toolkit points at (null when deleted);
 * `privateCredential` is the user's own Private credential with the toolkit's Credential ID (null
 * when they have none); `fallbackCredential` is the project credential a private-scope toolkit
 * falls back to (null when it was deleted).
 *
 * Why the fallback is used only when the member has no credential of their own: a member who saved
 * their own credential means to act as themselves, with their own permissions and their own name in
 * the service's records. If that credential is expired or of the wrong type, quietly running as the
 * team's shared account instead would do the work under another identity, hide the broken
 * credential from its owner, and spend the team's budget; so it fails closed (`expired`,
 * `type_mismatch`) and the owner fixes their credential. A deleted fallback is the same as none:
 * the member is asked to set up their own credential, which they can do themselves.
 */
export function resolveCredential(ref: ToolkitCredential, acceptedTypes: string[], found: Found, now: number): Resolution {
  if (ref.scope === 'project') {
    const candidate = found.projectCredential;
    if (!candidate) return { ok: false, reason: 'credential_missing', credentialId: ref.credentialId };
    return usable(candidate, acceptedTypes, now) ?? { ok: true, scope: 'project', credential: candidate };
  }
  const own = found.privateCredential;
  if (own) return usable(own, acceptedTypes, now) ?? { ok: true, scope: 'private', credential: own, runsWith: 'own' };
  const fallback = ref.fallback ? found.fallbackCredential : null;
  if (fallback) return usable(fallback, acceptedTypes, now) ?? { ok: true, scope: 'project', credential: fallback, runsWith: 'fallback' };
  return { ok: false, reason: 'setup_required', credentialId: ref.credentialId, credentialType: acceptedTypes[0], acceptedTypes };
}

/** Why a found credential cannot run the toolkit (wrong type, expired, reconnect required), or null when it can. */
function usable(c: Candidate, acceptedTypes: string[], now: number): Resolution | null {
  if (!acceptedTypes.includes(c.type)) return { ok: false, reason: 'type_mismatch', credentialId: c.credentialId, expectedType: acceptedTypes[0], actualType: c.type, acceptedTypes };
  if (expiryOf(c.expiresAt, now) === 'expired') return { ok: false, reason: 'expired', credentialId: c.credentialId, expiresAt: c.expiresAt!, ...(c.connectedApp ? { connectedApp: c.connectedApp } : {}) };
  // A connected account whose refresh was refused for good: runs must not contact the provider.
  if (c.connectionStatus === 'reconnect_required') return { ok: false, reason: 'reconnect_required', credentialId: c.credentialId, connectedApp: c.connectedApp ?? '' };
  return null;
}

/** Returns the status word of a resolution ('ready' when it resolved). */
export function statusOf(r: Resolution): ToolkitStatus {
  return r.ok ? 'ready' : r.reason;
}

/**
 * The readiness rule, the one place it is written: a member's status for a toolkit, given the
 * credential resolution would find for them (their own private credential with the toolkit's
 * Credential ID, the toolkit's fallback, or the project's credential row). Lists, the API, the
 * team readiness panel and the change dialog all ask this.
 */
export function memberStatus(ref: ToolkitCredential, acceptedTypes: string[], found: Found, now: number): ToolkitStatus {
  return statusOf(resolveCredential(ref, acceptedTypes, found, now));
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
  expired: 'Credential expired',
  reconnect_required: 'Reconnect required',
};
