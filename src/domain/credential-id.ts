// Credential IDs: the agreed, shareable name under which every member keeps
// their own credential for a toolkit.
//
// Contract: lowercase ASCII letters, digits and `_`, 1 to 64 characters,
// starting with a letter or digit.

export const CREDENTIAL_ID_MAX_LENGTH = 64;

const CREDENTIAL_ID_RE = /^[a-z0-9][a-z0-9_]{0,63}$/;

const GENERAL_RULE =
  'Use only lowercase letters, digits and _ (1 to 64 characters), starting with a letter or digit.';

/** Null when `id` is a valid Credential ID, otherwise a sentence for a person. */
export function validateCredentialId(id: string): string | null {
  if (typeof id !== 'string' || id.length === 0) {
    return `Enter a Credential ID. ${GENERAL_RULE}`;
  }
  if (CREDENTIAL_ID_RE.test(id)) return null;
  if (id.length > CREDENTIAL_ID_MAX_LENGTH) {
    return `A Credential ID can be at most ${CREDENTIAL_ID_MAX_LENGTH} characters long (this one has ${id.length}).`;
  }
  if (/^[A-Za-z0-9][A-Za-z0-9_]*$/.test(id)) {
    // Only uppercase letters are wrong.
    return `Use lowercase letters only, for example "${id.toLowerCase()}".`;
  }
  if (/^[a-z0-9_]+$/.test(id) && id.startsWith('_')) {
    return 'Start the Credential ID with a letter or digit, not _.';
  }
  return GENERAL_RULE;
}

function fold(text: string): string {
  // NFKD splits accented letters into letter + combining mark and expands
  // compatibility forms (ligatures, full-width letters...). Lowercasing can
  // itself produce marks (e.g. "İ"), so fold again afterwards.
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '');
}

function trimUnderscores(text: string): string {
  return text.replace(/^_+|_+$/g, '');
}

/**
 * Derives a Credential ID from a human name ("GitHub Integration Token" →
 * "github_integration_token"). Null when nothing usable is left.
 */
export function credentialIdFromName(name: string): string | null {
  if (typeof name !== 'string') return null;
  let id = trimUnderscores(fold(name).replace(/[^a-z0-9]+/g, '_'));
  if (id.length > CREDENTIAL_ID_MAX_LENGTH) {
    id = trimUnderscores(id.slice(0, CREDENTIAL_ID_MAX_LENGTH));
  }
  return id.length > 0 ? id : null;
}

/**
 * A Credential ID not in `taken`: `base` itself when it is valid and free,
 * otherwise `base_2`, `base_3`, … (cutting `base` so the result stays within
 * 64 characters). An invalid `base` is first turned into an ID via
 * credentialIdFromName (falling back to "credential").
 */
export function suggestFreeCredentialId(base: string, taken: Set<string>): string {
  let root =
    validateCredentialId(base) === null ? base : (credentialIdFromName(base) ?? 'credential');
  if (!taken.has(root)) return root;
  root = trimUnderscores(root) || 'credential';
  for (let n = 2; ; n++) {
    const suffix = `_${n}`;
    const cut = trimUnderscores(root.slice(0, CREDENTIAL_ID_MAX_LENGTH - suffix.length)) || 'c';
    const candidate = `${cut}${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
}

// What may trail one ID for it to count as a variant of the other:
// `_<anything>` (`_2`, `_copy`, `_old_2`, …) or digits (`2`).
const VARIANT_SUFFIX_RE = /^(?:_[a-z0-9_]*|[0-9]+)$/;

function isVariantOf(longer: string, shorter: string): boolean {
  return (
    longer.length > shorter.length &&
    longer.startsWith(shorter) &&
    VARIANT_SUFFIX_RE.test(longer.slice(shorter.length))
  );
}

/**
 * True when `candidate` looks like it was meant to be `requiredId` but isn't:
 * its name derives to `requiredId`, or the two IDs differ only by a trailing
 * trailing `_<something>` or digits (`github_token` vs `github_token_2`,
 * `github_token_copy`, `github_token2`, or the other way round). A mere
 * prefix without `_` or digits (`jira` vs `jirax`) does not count.
 */
export function isNearMiss(
  requiredId: string,
  candidate: { credentialId: string; name: string },
): boolean {
  if (typeof requiredId !== 'string' || requiredId.length === 0) return false;
  const id = candidate.credentialId;
  if (id === requiredId) return false;
  if (credentialIdFromName(candidate.name) === requiredId) return true;
  if (typeof id !== 'string' || id.length === 0) return false;
  return isVariantOf(id, requiredId) || isVariantOf(requiredId, id);
}

export const CREDENTIAL_NAME_MAX_LENGTH = 120;

/** Returns null when the credential's display name is acceptable, else a sentence saying why not. */
export function validateCredentialName(name: string): string | null {
  if (!name) return 'Give the credential a name.';
  if (name.length > CREDENTIAL_NAME_MAX_LENGTH) return `Use at most ${CREDENTIAL_NAME_MAX_LENGTH} characters.`;
  return null;
}
