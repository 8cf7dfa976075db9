// Rules for usernames, passwords, project names and slugs.
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

/** Returns null when the username is acceptable, else a sentence saying why not. */
export function validateUsername(username: string): string | null {
  if (!/^[a-z0-9][a-z0-9._-]{1,31}$/.test(username)) {
    return 'Use 2 to 32 characters: lowercase letters, digits, ".", "_" or "-", starting with a letter or digit.';
  }
  return null;
}

/** Lowercases and trims a typed username so lookups are case-insensitive. */
export function normalizeUsername(raw: unknown): string {
  return typeof raw === 'string' ? raw.trim().toLowerCase() : '';
}

/** Returns null when the password is acceptable, else a sentence saying why not. */
export function validatePassword(password: string): string | null {
  if (password.length < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters.`;
  if (password.length > PASSWORD_MAX) return `Use at most ${PASSWORD_MAX} characters.`;
  return null;
}

/** Returns null when the project name is acceptable, else a sentence saying why not. */
export function validateProjectName(name: string): string | null {
  if (!name) return 'Give the project a name.';
  if (name.length > 80) return 'Use at most 80 characters.';
  if (!slugFromName(name)) return 'Use at least one letter or digit.';
  return null;
}

const RESERVED_SLUGS = new Set(['private', 'new', 'api', 'admin', 'settings', 'login', 'logout', 'signup']);

/** Returns the slug of a project name: lowercase ASCII, `-` between words; '' if nothing is left. */
export function slugFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/g, '');
  return slug;
}

/** Returns the first of slug, slug-2, slug-3… that is neither reserved nor taken. */
export function pickFreeSlug(base: string, isTaken: (slug: string) => boolean): string {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    if (!RESERVED_SLUGS.has(candidate) && !isTaken(candidate)) return candidate;
  }
}
