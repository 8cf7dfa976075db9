// The catalog of credential types. Adding a type = adding one entry to
// CREDENTIAL_TYPES.

export type FieldDef = {
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
  default?: string;
  placeholder?: string;
  help?: string;
};

export type CredentialType = {
  type: string;
  label: string;
  fields: FieldDef[];
  /** HTTP headers that authenticate a request made with this credential. */
  auth(fields: Record<string, string>, secrets: Record<string, string>): Record<string, string>;
  whoami: {
    method: 'GET' | 'POST';
    /** Appended to base_url; '' means a GET of the base URL itself. */
    path: string;
    /** The account name shown to the member (e.g. the GitHub login), if any. */
    account(body: unknown): string | undefined;
    /**
     * For APIs that answer 200 on failure (Slack): the API's error code when
     * the body says the call failed, undefined when it succeeded.
     */
    failed?(body: unknown): string | undefined;
  };
};

export const FIELD_MAX_LENGTH = 2000;
export const SECRET_MAX_LENGTH = 10000;

// ---------------------------------------------------------------------------
// Helpers

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function basic(user: string, password: string): string {
  return `Basic ${base64(`${user}:${password}`)}`;
}

function bearer(token: string): string {
  return `Bearer ${token}`;
}

function str(body: unknown, key: string): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const value = (body as Record<string, unknown>)[key];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function baseUrlField(defaultUrl: string | undefined, placeholder: string, help?: string): FieldDef {
  return defaultUrl === undefined
    ? { name: 'base_url', label: 'Base URL', secret: false, required: true, placeholder, help }
    : {
        name: 'base_url',
        label: 'Base URL',
        secret: false,
        required: false,
        default: defaultUrl,
        placeholder,
        help,
      };
}

const tokenField = (label: string, help?: string): FieldDef => ({
  name: 'token',
  label,
  secret: true,
  required: true,
  help,
});

const atlassianFields = (placeholder: string): FieldDef[] => [
  baseUrlField(undefined, placeholder, 'Your Atlassian site, e.g. https://your-domain.atlassian.net.'),
  {
    name: 'email',
    label: 'Email',
    secret: false,
    required: true,
    placeholder: 'you@example.com',
    help: 'The email address of your Atlassian account.',
  },
  {
    name: 'api_token',
    label: 'API token',
    secret: true,
    required: true,
    help: 'Create one at https://id.atlassian.com/manage-profile/security/api-tokens.',
  },
];

// ---------------------------------------------------------------------------
// The catalog

export const CREDENTIAL_TYPES: CredentialType[] = [
  {
    type: 'github',
    label: 'GitHub',
    fields: [
      baseUrlField(
        'https://api.github.com',
        'https://api.github.com',
        'Change only for GitHub Enterprise Server, e.g. https://github.example.com/api/v3.',
      ),
      tokenField('Personal access token', 'A fine-grained or classic personal access token.'),
    ],
    auth: (_fields, secrets) => ({ Authorization: bearer(secrets.token) }),
    whoami: { method: 'GET', path: '/user', account: (body) => str(body, 'login') },
  },
  {
    type: 'gitlab',
    label: 'GitLab',
    fields: [
      baseUrlField('https://gitlab.com', 'https://gitlab.com', 'Change only for a self-managed GitLab.'),
      tokenField('Personal access token', 'A personal, project or group access token.'),
    ],
    auth: (_fields, secrets) => ({ 'PRIVATE-TOKEN': secrets.token }),
    whoami: { method: 'GET', path: '/api/v4/user', account: (body) => str(body, 'username') },
  },
  {
    type: 'jira',
    label: 'Jira',
    fields: atlassianFields('https://your-domain.atlassian.net'),
    auth: (fields, secrets) => ({ Authorization: basic(fields.email, secrets.api_token) }),
    whoami: {
      method: 'GET',
      path: '/rest/api/3/myself',
      account: (body) => str(body, 'emailAddress') ?? str(body, 'displayName'),
    },
  },
  {
    type: 'confluence',
    label: 'Confluence',
    fields: atlassianFields('https://your-domain.atlassian.net'),
    auth: (fields, secrets) => ({ Authorization: basic(fields.email, secrets.api_token) }),
    whoami: {
      method: 'GET',
      path: '/wiki/rest/api/user/current',
      account: (body) => str(body, 'email') ?? str(body, 'displayName') ?? str(body, 'publicName'),
    },
  },
  {
    type: 'slack',
    label: 'Slack',
    fields: [
      baseUrlField('https://slack.com', 'https://slack.com'),
      tokenField('Token', 'A bot (xoxb-) or user (xoxp-) token.'),
    ],
    auth: (_fields, secrets) => ({ Authorization: bearer(secrets.token) }),
    whoami: {
      method: 'POST',
      path: '/api/auth.test',
      account: (body) => (slackOk(body) ? str(body, 'user') : undefined),
      failed: (body) => slackFailure(body),
    },
  },
  {
    type: 'http_bearer',
    label: 'HTTP API (bearer token)',
    fields: [
      baseUrlField(undefined, 'https://api.example.com'),
      tokenField('Token', 'Sent as "Authorization: Bearer <token>".'),
    ],
    auth: (_fields, secrets) => ({ Authorization: bearer(secrets.token) }),
    whoami: { method: 'GET', path: '', account: () => undefined },
  },
  {
    type: 'http_basic',
    label: 'HTTP API (username and password)',
    fields: [
      baseUrlField(undefined, 'https://api.example.com'),
      { name: 'username', label: 'Username', secret: false, required: true },
      { name: 'password', label: 'Password', secret: true, required: true },
    ],
    auth: (fields, secrets) => ({ Authorization: basic(fields.username, secrets.password) }),
    whoami: { method: 'GET', path: '', account: () => undefined },
  },
  {
    type: 'http_header',
    label: 'HTTP API (custom header)',
    fields: [
      baseUrlField(undefined, 'https://api.example.com'),
      {
        name: 'header_name',
        label: 'Header name',
        secret: false,
        required: true,
        placeholder: 'X-API-Key',
      },
      { name: 'value', label: 'Header value', secret: true, required: true },
    ],
    auth: (fields, secrets) => ({ [fields.header_name]: secrets.value }),
    whoami: { method: 'GET', path: '', account: () => undefined },
  },
];

/** Slack answers 200 with `ok: false` on bad tokens. */
function slackOk(body: unknown): boolean {
  return body !== null && typeof body === 'object' && (body as { ok?: unknown }).ok === true;
}

function slackFailure(body: unknown): string | undefined {
  if (slackOk(body)) return undefined;
  return str(body, 'error') ?? 'unknown_error';
}

const BY_TYPE = new Map(CREDENTIAL_TYPES.map((t) => [t.type, t]));

export function getCredentialType(type: string): CredentialType | undefined {
  return BY_TYPE.get(type);
}

// ---------------------------------------------------------------------------
// Redaction

/**
 * Every string that would reveal a secret if it showed up in a response, a
 * log line or an error: the secret values themselves and the header values
 * built from them (the full "Bearer x" value, the "Basic …" value and its
 * base64 pair). Their encoded forms (URL-encoding, base64) are matched by
 * redactSecrets. Longest first, no duplicates, no empty strings.
 */
export function secretValuesForRedaction(
  type: string | CredentialType,
  fields: Record<string, string>,
  secrets: Record<string, string>,
): string[] {
  const def = typeof type === 'string' ? getCredentialType(type) : type;
  const out = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === 'string' && value !== '') out.add(value);
  };
  const secretNames = def
    ? def.fields.filter((f) => f.secret).map((f) => f.name)
    : Object.keys(secrets ?? {});
  for (const name of secretNames) {
    const value = secrets?.[name];
    if (typeof value !== 'string' || value === '') continue;
    add(value);
    if (value.trim() !== '' && value.trim() !== value) add(value.trim());
  }
  if (def && secretNames.some((n) => typeof secrets?.[n] === 'string' && secrets[n] !== '')) {
    try {
      const headers = def.auth(fields ?? {}, secrets ?? {});
      for (const value of Object.values(headers)) {
        if (typeof value !== 'string') continue;
        add(value);
        const m = /^(?:Basic|Bearer)\s+(.+)$/i.exec(value);
        if (m) add(m[1]);
      }
    } catch {
      // Incomplete credential: the raw values above are all we can offer.
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

// ---------------------------------------------------------------------------
// Input validation

export type CredentialInputResult =
  | { ok: true; fields: Record<string, string>; secrets: Record<string, string> }
  | { ok: false; errors: Record<string, string> };

// Header names we never let a credential set: they would change how the
// request is routed or framed rather than authenticate it.
const FORBIDDEN_HEADER_NAMES = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
  'cookie2',
]);

const HEADER_TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function put(obj: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** "Personal access token" → "personal access token", but "API token" stays. */
function lowerFirst(label: string): string {
  return /^[A-Z][a-z]/.test(label) ? label[0].toLowerCase() + label.slice(1) : label;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks and normalises a base URL; returns the URL or an error sentence. */
export function normalizeBaseUrl(raw: string): { url: string } | { error: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { error: 'Enter a full URL starting with https:// or http://.' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { error: 'The base URL must start with https:// or http://.' };
  }
  if (!/^https?:\/\//i.test(raw)) {
    return { error: 'Enter a full URL starting with https:// or http://.' };
  }
  if (url.username !== '' || url.password !== '' || /^https?:\/\/[^/]*@/i.test(raw)) {
    return {
      error: 'Remove the user name and password from the base URL; enter them in their own fields.',
    };
  }
  if (raw.includes('?')) return { error: 'Remove the query (the part from ?) from the base URL.' };
  if (raw.includes('#')) return { error: 'Remove the fragment (the part from #) from the base URL.' };
  if (url.hostname === '') return { error: 'The base URL needs a host name.' };
  const path = url.pathname.replace(/\/+$/, '');
  return { url: `${url.origin}${path}` };
}

function fieldSpecificError(def: FieldDef, value: string): string | null {
  switch (def.name) {
    case 'base_url': {
      const r = normalizeBaseUrl(value);
      return 'error' in r ? r.error : null;
    }
    case 'email':
      return /^[^\s@]+@[^\s@]+$/.test(value) ? null : 'Enter an email address, like you@example.com.';
    case 'username':
      return value.includes(':') ? 'The username cannot contain a colon (:).' : null;
    case 'header_name':
      if (!HEADER_TOKEN_RE.test(value)) {
        return 'Enter a header name made of letters, digits and - (for example X-API-Key).';
      }
      if (FORBIDDEN_HEADER_NAMES.has(value.toLowerCase())) {
        return `The ${value} header cannot be used to authenticate; choose another header.`;
      }
      return null;
    default:
      return null;
  }
}

/**
 * Validates what a member typed for a credential of `type`.
 *
 * - create: every required field (secret or not) must be present and non-blank;
 *   defaults are applied to blank optional fields.
 * - update: the same for non-secret fields (the result is the complete set of
 *   fields), but a blank or missing secret means "keep the stored one" and is
 *   left out of the returned secrets.
 *
 * Non-secret values are trimmed, secrets are kept exactly as typed. Unknown
 * names (including a secret sent as a field or the other way round) are
 * errors. Messages are keyed by field name and never contain secret values.
 */
export function validateCredentialInput(
  type: CredentialType,
  fields: Record<string, unknown>,
  secrets: Record<string, unknown>,
  mode: 'create' | 'update',
): CredentialInputResult {
  const errors: Record<string, string> = {};
  const outFields: Record<string, string> = {};
  const outSecrets: Record<string, string> = {};
  const fieldIn: Record<string, unknown> = isRecord(fields) ? fields : {};
  const secretIn: Record<string, unknown> = isRecord(secrets) ? secrets : {};

  const plain = new Map(type.fields.filter((f) => !f.secret).map((f) => [f.name, f]));
  const secret = new Map(type.fields.filter((f) => f.secret).map((f) => [f.name, f]));

  for (const key of Object.keys(fieldIn)) {
    if (plain.has(key)) continue;
    put(
      errors,
      // An unknown name may be a pasted secret: never echo it back as a key.
      secret.has(key) ? key : '_unknown_field',
      secret.has(key)
        ? `${secret.get(key)!.label} is a secret and must be entered as one.`
        : `${type.label} credentials have no such field. Fields: ${[...plain.keys()].join(', ')}.`,
    );
  }
  for (const key of Object.keys(secretIn)) {
    if (secret.has(key)) continue;
    put(
      errors,
      plain.has(key) ? key : '_unknown_secret',
      plain.has(key)
        ? `${plain.get(key)!.label} is not a secret and must be entered as a plain field.`
        : `${type.label} credentials have no such secret. Secrets: ${[...secret.keys()].join(', ')}.`,
    );
  }

  for (const def of plain.values()) {
    if (Object.hasOwn(errors, def.name)) continue;
    const raw = Object.hasOwn(fieldIn, def.name) ? fieldIn[def.name] : undefined;
    if (raw !== undefined && raw !== null && typeof raw !== 'string') {
      put(errors, def.name, `${def.label} must be text.`);
      continue;
    }
    let value = (raw ?? '').trim();
    if (value === '' && def.default !== undefined) value = def.default;
    if (value === '') {
      if (def.required) put(errors, def.name, `Enter the ${lowerFirst(def.label)}.`);
      continue;
    }
    if (value.length > FIELD_MAX_LENGTH) {
      put(errors, def.name, `${def.label} can be at most ${FIELD_MAX_LENGTH} characters long.`);
      continue;
    }
    if (/[\u0000-\u001f\u007f]/.test(value)) {
      put(errors, def.name, `${def.label} cannot contain line breaks or control characters.`);
      continue;
    }
    const problem = fieldSpecificError(def, value);
    if (problem) {
      put(errors, def.name, problem);
      continue;
    }
    if (def.name === 'base_url') {
      const r = normalizeBaseUrl(value);
      if ('url' in r) value = r.url;
    }
    put(outFields, def.name, value);
  }

  for (const def of secret.values()) {
    if (Object.hasOwn(errors, def.name)) continue;
    const raw = Object.hasOwn(secretIn, def.name) ? secretIn[def.name] : undefined;
    if (raw !== undefined && raw !== null && typeof raw !== 'string') {
      put(errors, def.name, `${def.label} must be text.`);
      continue;
    }
    const value = raw ?? '';
    if (value.trim() === '') {
      if (mode === 'create' && def.required) {
        put(errors, def.name, `Enter the ${lowerFirst(def.label)}.`);
      }
      // On update a blank secret means "keep the stored one".
      continue;
    }
    if (value.length > SECRET_MAX_LENGTH) {
      put(errors, def.name, `${def.label} can be at most ${SECRET_MAX_LENGTH} characters long.`);
      continue;
    }
    if (/[\r\n\u0000]/.test(value)) {
      put(errors, def.name, `${def.label} cannot contain line breaks; check that it was pasted whole.`);
      continue;
    }
    put(outSecrets, def.name, value);
  }

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, fields: outFields, secrets: outSecrets };
}

function originOf(url: string | undefined): string | null {
  try {
    return url ? new URL(url).origin : null;
  } catch {
    return null;
  }
}

/**
 * Returns an error per saved secret that must be typed again because the base URL moves to
 * another origin: a saved secret is only ever sent to the service it was saved for, so nobody
 * who may edit a credential can redirect its stored token to a server of their choosing.
 */
export function secretsNeededForNewOrigin(
  type: CredentialType,
  before: Record<string, string>,
  after: Record<string, string>,
  newSecrets: Record<string, string>,
): Record<string, string> {
  if (originOf(before.base_url) === originOf(after.base_url)) return {};
  const errors: Record<string, string> = {};
  for (const f of type.fields) {
    if (f.secret && !newSecrets[f.name]) {
      errors[f.name] = `Enter the ${lowerFirst(f.label)} again: the base URL moves to another address, and a saved secret is only sent to the address it was saved for.`;
    }
  }
  return errors;
}
