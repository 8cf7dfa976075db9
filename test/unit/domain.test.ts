import { describe, expect, it } from 'vitest';
import {
  credentialIdFromName,
  isNearMiss,
  suggestFreeCredentialId,
  validateCredentialId,
} from '../../src/domain/credential-id';
import {
  CREDENTIAL_TYPES,
  getCredentialType,
  secretValuesForRedaction,
  validateCredentialInput,
  type CredentialType,
} from '../../src/domain/credential-types';
import {
  TOOLKIT_TYPES,
  getTool,
  getToolkitType,
  toolkitTypesForCredentialType,
  validateSettings,
  validateToolInput,
} from '../../src/toolkits/index';
import { httpPathProblem } from '../../src/toolkits/http';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const ct = (type: string): CredentialType => {
  const t = getCredentialType(type);
  if (!t) throw new Error(`no credential type ${type}`);
  return t;
};

// ---------------------------------------------------------------------------
describe('credentialIdFromName', () => {
  const long = 'abcdefghij '.repeat(10); // 110 chars, a space every 11th
  it.each<[string, string | null]>([
    ['GitHub Integration Token', 'github_integration_token'],
    ['  Café — Token!! ', 'cafe_token'],
    ['Café Token', 'cafe_token'],
    ['Cafe\u0301 Token', 'cafe_token'], // already decomposed
    ['straße', 'stra_e'],
    ['___', null],
    ['日本語', null],
    ['', null],
    ['   ', null],
    ['a__b', 'a_b'],
    ['a - b', 'a_b'],
    ['_leading and trailing_', 'leading_and_trailing'],
    ['ÅNGSTRÖM', 'angstrom'],
    ['ﬁle Ｔｏｋｅｎ', 'file_token'], // ligature, full-width
    ['Jira 2', 'jira_2'],
    ['123', '123'],
    ['x'.repeat(100), 'x'.repeat(64)],
    ['a'.repeat(63) + ' b', 'a'.repeat(63)], // cut lands on the _, trimmed again
    [long, 'abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefghij_abcdefghi'],
  ])('%j → %j', (name, expected) => {
    const id = credentialIdFromName(name);
    expect(id).toBe(expected);
    if (id !== null) {
      expect(validateCredentialId(id)).toBeNull();
      expect(id.length).toBeLessThanOrEqual(64);
      expect(id.endsWith('_')).toBe(false);
    }
  });
});

describe('validateCredentialId', () => {
  it.each<[string, boolean]>([
    ['github_token', true],
    ['a', true],
    ['0', true],
    ['9lives', true],
    ['a_', true],
    ['a__b', true],
    ['x'.repeat(64), true],
    ['x'.repeat(65), false],
    ['', false],
    ['_github', false],
    ['GitHub', false],
    ['github-token', false],
    ['github token', false],
    ['café', false],
    [' github', false],
    ['github\n', false],
  ])('%j valid=%s', (id, valid) => {
    const result = validateCredentialId(id);
    if (valid) expect(result).toBeNull();
    else {
      expect(typeof result).toBe('string');
      expect(result!.length).toBeGreaterThan(10);
      expect(result!.endsWith('.')).toBe(true);
    }
  });

  it.each<[string, RegExp]>([
    ['', /Enter a Credential ID/],
    ['x'.repeat(65), /at most 64/],
    ['GitHub', /lowercase.*"github"/],
    ['_x', /letter or digit/],
    ['a-b', /Use only lowercase letters, digits and _ \(1 to 64 characters\), starting with a letter or digit\./],
  ])('%j explains %s', (id, message) => {
    expect(validateCredentialId(id)).toMatch(message);
  });
});

describe('suggestFreeCredentialId', () => {
  const x64 = 'x'.repeat(64);
  it.each<[string, string[], string]>([
    ['github', ['github'], 'github_2'],
    ['github', ['github', 'github_2'], 'github_3'],
    ['github', ['github', 'github_2', 'github_3', 'github_4'], 'github_5'],
    ['github', ['github', 'github_3'], 'github_2'],
    ['github', [], 'github'],
    [x64, [x64], 'x'.repeat(62) + '_2'],
    [x64, [x64, 'x'.repeat(62) + '_2'], 'x'.repeat(62) + '_3'],
    ['a'.repeat(61) + '_bc', ['a'.repeat(61) + '_bc'], 'a'.repeat(61) + '_2'],
  ])('%j taken=%j → %j', (base, taken, expected) => {
    const id = suggestFreeCredentialId(base, new Set(taken));
    expect(id).toBe(expected);
    expect(validateCredentialId(id)).toBeNull();
    expect(taken).not.toContain(id);
  });

  it('reaches double digits', () => {
    const taken = new Set(['t', ...Array.from({ length: 10 }, (_, i) => `t_${i + 2}`)]);
    expect(suggestFreeCredentialId('t', taken)).toBe('t_12');
  });
});

describe('isNearMiss', () => {
  it.each<[string, string, string, boolean]>([
    // requiredId, candidate id, candidate name, expected
    ['github_token', 'github_token', 'GitHub Token', false], // exact match is not a miss
    ['github_token', 'gh', 'GitHub Token', true], // name derives to the ID
    ['github_token', 'gh', 'github token!', true],
    ['github_token', 'github_token_2', 'Mine', true],
    ['github_token', 'github_token_copy', 'Mine', true],
    ['github_token', 'github_token2', 'Mine', true],
    ['github_token_2', 'github_token', 'Mine', true], // the other way round
    ['github_token_copy', 'github_token', 'Mine', true],
    ['github_token', 'github_token_old_2', 'Mine', true],
    ['github_token', 'gitlab_token', 'GitLab token', false],
    ['github_token', 'github', 'Mine', true], // required = candidate + _token
    ['github_token', 'my_github_token', 'Mine', false], // differs at the start
    ['github', 'github_enterprise_token', 'Mine', true],
    ['github_token', 'github_tokens', 'Mine', false],
    ['', 'x', 'Mine', false],
    ['jira', 'jira2', 'x', true],
    ['jira', 'jirax', 'x', false],
  ])('%j vs {%j, %j} → %s', (requiredId, credentialId, name, expected) => {
    expect(isNearMiss(requiredId, { credentialId, name })).toBe(expected);
  });
});

// ---------------------------------------------------------------------------
describe('credential type catalog', () => {
  it('has every contract type with a base_url field', () => {
    expect(CREDENTIAL_TYPES.map((t) => t.type)).toEqual([
      'github',
      'gitlab',
      'jira',
      'confluence',
      'slack',
      'http_bearer',
      'http_basic',
      'http_header',
    ]);
    for (const t of CREDENTIAL_TYPES) {
      const base = t.fields.find((f) => f.name === 'base_url');
      expect(base?.secret).toBe(false);
    }
    expect(getCredentialType('nope')).toBeUndefined();
  });

  it.each<[string, string | undefined, boolean, string[], string[]]>([
    ['github', 'https://api.github.com', false, [], ['token']],
    ['gitlab', 'https://gitlab.com', false, [], ['token']],
    ['slack', 'https://slack.com', false, [], ['token']],
    ['jira', undefined, true, ['email'], ['api_token']],
    ['confluence', undefined, true, ['email'], ['api_token']],
    ['http_bearer', undefined, true, [], ['token']],
    ['http_basic', undefined, true, ['username'], ['password']],
    ['http_header', undefined, true, ['header_name'], ['value']],
  ])('%s fields', (type, defaultUrl, baseRequired, plain, secret) => {
    const t = ct(type);
    const base = t.fields.find((f) => f.name === 'base_url')!;
    expect(base.default).toBe(defaultUrl);
    expect(base.required).toBe(baseRequired);
    expect(t.fields.filter((f) => !f.secret && f.name !== 'base_url').map((f) => f.name)).toEqual(plain);
    expect(t.fields.filter((f) => f.secret).map((f) => f.name)).toEqual(secret);
    for (const f of t.fields) if (f.name !== 'base_url') expect(f.required).toBe(true);
  });
});

describe('auth headers', () => {
  it.each<[string, Record<string, string>, Record<string, string>, Record<string, string>]>([
    ['github', {}, { token: 'ghp_abc' }, { Authorization: 'Bearer ghp_abc' }],
    ['gitlab', {}, { token: 'glpat-abc' }, { 'PRIVATE-TOKEN': 'glpat-abc' }],
    ['jira', { email: 'a@b.c' }, { api_token: 'tok' }, { Authorization: `Basic ${b64('a@b.c:tok')}` }],
    ['confluence', { email: 'a@b.c' }, { api_token: 'tok' }, { Authorization: `Basic ${b64('a@b.c:tok')}` }],
    ['slack', {}, { token: 'xoxb-1' }, { Authorization: 'Bearer xoxb-1' }],
    ['http_bearer', {}, { token: 't' }, { Authorization: 'Bearer t' }],
    ['http_basic', { username: 'u' }, { password: 'pä:ss' }, { Authorization: `Basic ${b64('u:pä:ss')}` }],
    ['http_header', { header_name: 'X-API-Key' }, { value: 'k' }, { 'X-API-Key': 'k' }],
  ])('%s', (type, fields, secrets, headers) => {
    expect(ct(type).auth({ base_url: 'https://x.test', ...fields }, secrets)).toEqual(headers);
  });
});

describe('whoami', () => {
  it.each<[string, 'GET' | 'POST', string, unknown, string | undefined]>([
    ['github', 'GET', '/user', { login: 'octocat' }, 'octocat'],
    ['github', 'GET', '/user', 'nope', undefined],
    ['gitlab', 'GET', '/api/v4/user', { username: 'gl' }, 'gl'],
    ['jira', 'GET', '/rest/api/3/myself', { emailAddress: 'a@b.c', displayName: 'A' }, 'a@b.c'],
    ['jira', 'GET', '/rest/api/3/myself', { displayName: 'A' }, 'A'],
    ['confluence', 'GET', '/wiki/rest/api/user/current', { email: 'a@b.c' }, 'a@b.c'],
    ['confluence', 'GET', '/wiki/rest/api/user/current', { displayName: 'D', publicName: 'P' }, 'D'],
    ['confluence', 'GET', '/wiki/rest/api/user/current', { publicName: 'P' }, 'P'],
    ['slack', 'POST', '/api/auth.test', { ok: true, user: 'bot' }, 'bot'],
    ['slack', 'POST', '/api/auth.test', { ok: false, error: 'invalid_auth', user: 'x' }, undefined],
    ['http_bearer', 'GET', '', { anything: 1 }, undefined],
    ['http_basic', 'GET', '', {}, undefined],
    ['http_header', 'GET', '', null, undefined],
  ])('%s %s %j account(%j) = %j', (type, method, path, body, account) => {
    const w = ct(type).whoami;
    expect(w.method).toBe(method);
    expect(w.path).toBe(path);
    expect(w.account(body)).toBe(account);
  });

  it.each<[unknown, string | undefined]>([
    [{ ok: true, user: 'bot' }, undefined],
    [{ ok: false, error: 'invalid_auth' }, 'invalid_auth'],
    [{ ok: false }, 'unknown_error'],
    ['<html>', 'unknown_error'],
  ])('slack failed(%j) = %j', (body, expected) => {
    expect(ct('slack').whoami.failed!(body)).toBe(expected);
  });
});

describe('secretValuesForRedaction', () => {
  it.each<[string, Record<string, string>, Record<string, string>, string[]]>([
    ['github', {}, { token: 'ghp_abc' }, ['ghp_abc', 'Bearer ghp_abc']],
    ['gitlab', {}, { token: 'glpat' }, ['glpat']],
    [
      'jira',
      { email: 'a@b.c' },
      { api_token: 'tok' },
      ['tok', `Basic ${b64('a@b.c:tok')}`, b64('a@b.c:tok')],
    ],
    ['http_basic', { username: 'u' }, { password: 'p w' }, ['p w', `Basic ${b64('u:p w')}`, b64('u:p w')]],
    ['http_header', { header_name: 'X-Key' }, { value: 'v1' }, ['v1']],
    ['github', {}, {}, []],
  ])('%s', (type, fields, secrets, expected) => {
    const values = secretValuesForRedaction(type, { base_url: 'https://x.test', ...fields }, secrets);
    expect([...values].sort()).toEqual([...expected].sort());
    // longest first, so that redaction replaces "Bearer x" before "x"
    expect(values).toEqual([...values].sort((a, b) => b.length - a.length));
    expect(values).not.toContain('https://x.test');
    for (const f of Object.values(fields)) expect(values).not.toContain(f);
  });
});

// ---------------------------------------------------------------------------
describe('validateCredentialInput', () => {
  type Case = [
    string, // description
    string, // type
    'create' | 'update',
    Record<string, unknown>,
    Record<string, unknown>,
    { fields: Record<string, string>; secrets: Record<string, string> } | { errors: string[] },
  ];
  it.each<Case>([
    [
      'github create applies the default base_url',
      'github',
      'create',
      {},
      { token: 'ghp_x' },
      { fields: { base_url: 'https://api.github.com' }, secrets: { token: 'ghp_x' } },
    ],
    [
      'blank base_url falls back to the default',
      'github',
      'create',
      { base_url: '   ' },
      { token: 'ghp_x' },
      { fields: { base_url: 'https://api.github.com' }, secrets: { token: 'ghp_x' } },
    ],
    [
      'secrets are not trimmed, fields are; trailing slash removed',
      'github',
      'create',
      { base_url: ' https://ghe.example.com/api/v3/ ' },
      { token: ' ghp_x ' },
      { fields: { base_url: 'https://ghe.example.com/api/v3' }, secrets: { token: ' ghp_x ' } },
    ],
    [
      'github create without a token',
      'github',
      'create',
      {},
      {},
      { errors: ['token'] },
    ],
    [
      'blank secret on create is missing',
      'github',
      'create',
      {},
      { token: '   ' },
      { errors: ['token'] },
    ],
    [
      'blank secret on update keeps the stored one',
      'github',
      'update',
      { base_url: 'https://api.github.com' },
      { token: '' },
      { fields: { base_url: 'https://api.github.com' }, secrets: {} },
    ],
    [
      'missing secret on update keeps the stored one',
      'jira',
      'update',
      { base_url: 'https://acme.atlassian.net', email: 'a@acme.com' },
      {},
      { fields: { base_url: 'https://acme.atlassian.net', email: 'a@acme.com' }, secrets: {} },
    ],
    [
      'new secret on update replaces',
      'jira',
      'update',
      { base_url: 'https://acme.atlassian.net', email: 'a@acme.com' },
      { api_token: 'new' },
      { fields: { base_url: 'https://acme.atlassian.net', email: 'a@acme.com' }, secrets: { api_token: 'new' } },
    ],
    [
      'required plain fields are still required on update',
      'jira',
      'update',
      { base_url: 'https://acme.atlassian.net', email: ' ' },
      {},
      { errors: ['email'] },
    ],
    [
      'jira create needs base_url, email and api_token',
      'jira',
      'create',
      {},
      {},
      { errors: ['base_url', 'email', 'api_token'] },
    ],
    [
      'jira create ok',
      'jira',
      'create',
      { base_url: 'https://acme.atlassian.net/', email: ' a@acme.com ' },
      { api_token: 'tok' },
      { fields: { base_url: 'https://acme.atlassian.net', email: 'a@acme.com' }, secrets: { api_token: 'tok' } },
    ],
    ['email must look like one', 'jira', 'create', { base_url: 'https://a.test', email: 'nope' }, { api_token: 't' }, { errors: ['email'] }],
    ['unknown field', 'github', 'create', { colour: 'red' }, { token: 't' }, { errors: ['_unknown_field'] }],
    ['unknown secret', 'github', 'create', {}, { token: 't', extra: 'x' }, { errors: ['_unknown_secret'] }],
    ['secret sent as a field', 'github', 'create', { token: 't' }, {}, { errors: ['token'] }],
    ['field sent as a secret', 'github', 'create', {}, { token: 't', base_url: 'https://x.test' }, { errors: ['base_url'] }],
    ['non-string field', 'http_basic', 'create', { base_url: 'https://x.test', username: 5 }, { password: 'p' }, { errors: ['username'] }],
    ['non-string secret', 'http_bearer', 'create', { base_url: 'https://x.test' }, { token: 5 }, { errors: ['token'] }],
    ['field too long', 'http_basic', 'create', { base_url: 'https://x.test', username: 'u'.repeat(2001) }, { password: 'p' }, { errors: ['username'] }],
    ['secret too long', 'http_bearer', 'create', { base_url: 'https://x.test' }, { token: 't'.repeat(10001) }, { errors: ['token'] }],
    [
      'secret at the limit',
      'http_bearer',
      'create',
      { base_url: 'https://x.test' },
      { token: 't'.repeat(10000) },
      { fields: { base_url: 'https://x.test' }, secrets: { token: 't'.repeat(10000) } },
    ],
    ['secret with a line break', 'http_bearer', 'create', { base_url: 'https://x.test' }, { token: 'a\nb' }, { errors: ['token'] }],
    ['username with a colon', 'http_basic', 'create', { base_url: 'https://x.test', username: 'a:b' }, { password: 'p' }, { errors: ['username'] }],
    ['bad header name', 'http_header', 'create', { base_url: 'https://x.test', header_name: 'X Key' }, { value: 'v' }, { errors: ['header_name'] }],
    ['Host header refused', 'http_header', 'create', { base_url: 'https://x.test', header_name: 'Host' }, { value: 'v' }, { errors: ['header_name'] }],
    [
      'http_header ok',
      'http_header',
      'create',
      { base_url: 'http://localhost:8080/api', header_name: 'X-API-Key' },
      { value: 'v' },
      { fields: { base_url: 'http://localhost:8080/api', header_name: 'X-API-Key' }, secrets: { value: 'v' } },
    ],
    ['null inputs', 'github', 'create', null as never, null as never, { errors: ['token'] }],
  ])('%s', (_title, type, mode, fields, secrets, expected) => {
    const result = validateCredentialInput(ct(type), fields, secrets, mode);
    if ('errors' in expected) {
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(Object.keys(result.errors).sort()).toEqual([...expected.errors].sort());
        for (const message of Object.values(result.errors)) expect(message).toMatch(/^[A-Z"].*\.$/);
      }
    } else {
      expect(result).toEqual({ ok: true, ...expected });
    }
  });

  it.each<[string, string | null]>([
    ['https://x.test', 'https://x.test'],
    ['https://x.test/', 'https://x.test'],
    ['https://x.test/a/b//', 'https://x.test/a/b'],
    ['HTTPS://X.TEST', 'https://x.test'],
    ['http://127.0.0.1:3000', 'http://127.0.0.1:3000'],
    ['ftp://x.test', null],
    ['x.test', null],
    ['/relative', null],
    ['javascript:alert(1)', null],
    ['https://user:pass@x.test', null],
    ['https://user@x.test', null],
    ['https://x.test/?a=1', null],
    ['https://x.test/?', null],
    ['https://x.test/#frag', null],
    ['https:/x.test', null],
    ['not a url', null],
  ])('base_url %j → %j', (baseUrl, expected) => {
    const result = validateCredentialInput(ct('http_bearer'), { base_url: baseUrl }, { token: 't' }, 'create');
    if (expected === null) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(Object.keys(result.errors)).toEqual(['base_url']);
    } else {
      expect(result).toMatchObject({ ok: true, fields: { base_url: expected } });
    }
  });

  it('never puts a secret value in an error message', () => {
    const secret = 'SUPERSECRET-value';
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      ['github', { token: secret }, {}],
      ['github', {}, { token: secret + '\n' }],
      ['github', {}, { token: secret.repeat(1000) }],
      ['http_basic', { base_url: secret, username: secret + ':' }, { password: secret }],
    ];
    for (const [type, fields, secrets] of cases) {
      const result = validateCredentialInput(ct(type), fields, secrets, 'create');
      expect(result.ok).toBe(false);
      if (!result.ok) expect(JSON.stringify(result.errors)).not.toContain('SUPERSECRET');
    }
  });

  it('is safe with __proto__ keys', () => {
    const fields = JSON.parse('{"__proto__": {"polluted": "yes"}}');
    const result = validateCredentialInput(ct('github'), fields, { token: 't' }, 'create');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(Object.keys(result.errors)).toEqual(['_unknown_field']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------
describe('toolkit catalog', () => {
  it('has the contract toolkits and tools', () => {
    expect(Object.fromEntries(TOOLKIT_TYPES.map((t) => [t.type, t.tools.map((x) => x.name)]))).toMatchObject({
      github: expect.arrayContaining(['get_authenticated_user', 'list_repositories', 'create_issue']),
      gitlab: expect.arrayContaining(['get_current_user', 'list_projects']),
      jira: expect.arrayContaining(['get_myself', 'search_issues', 'create_issue']),
      confluence: expect.arrayContaining(['get_current_user', 'search_pages']),
      slack: expect.arrayContaining(['auth_test', 'post_message']),
      http: expect.arrayContaining(['request']),
    });
    expect(getToolkitType('http')?.credentialTypes).toEqual(['http_bearer', 'http_basic', 'http_header']);
    expect(getToolkitType('nope')).toBeUndefined();
    expect(toolkitTypesForCredentialType('http_basic').map((t) => t.type)).toEqual(['http']);
    // every credential type a toolkit accepts exists
    for (const t of TOOLKIT_TYPES) for (const c of t.credentialTypes) expect(getCredentialType(c)).toBeDefined();
  });
});

describe('tool plans', () => {
  type Case = [string, string, Record<string, unknown>, Record<string, string>, unknown];
  const adf = (...content: unknown[]) => ({ type: 'doc', version: 1, content: [{ type: 'paragraph', content }] });
  it.each<Case>([
    ['github', 'get_authenticated_user', {}, {}, { method: 'GET', path: '/user' }],
    ['github', 'list_repositories', {}, {}, { method: 'GET', path: '/user/repos' }],
    ['github', 'list_repositories', { per_page: 50 }, {}, { method: 'GET', path: '/user/repos', query: { per_page: '50' } }],
    ['github', 'list_repositories', { per_page: 500 }, {}, { error: expect.any(String), field: 'per_page' }],
    [
      'github',
      'create_issue',
      { repository: 'acme/web', title: 'Bug', body: 'It broke' },
      {},
      { method: 'POST', path: '/repos/acme/web/issues', body: { title: 'Bug', body: 'It broke' } },
    ],
    [
      'github',
      'create_issue',
      { title: 'Bug' },
      { default_repository: 'acme/api' },
      { method: 'POST', path: '/repos/acme/api/issues', body: { title: 'Bug' } },
    ],
    [
      'github',
      'create_issue',
      { repository: ' acme/web ', title: 'Bug' },
      { default_repository: 'acme/api' },
      { method: 'POST', path: '/repos/acme/web/issues', body: { title: 'Bug' } },
    ],
    ['github', 'create_issue', { title: 'Bug' }, {}, { error: expect.stringMatching(/repository/), field: 'repository' }],
    ['github', 'create_issue', { repository: 'acme', title: 'Bug' }, {}, { error: expect.stringMatching(/owner\/repo/), field: 'repository' }],
    ['github', 'create_issue', { repository: 'acme/web/x', title: 'Bug' }, {}, { error: expect.any(String), field: 'repository' }],
    ['github', 'create_issue', { repository: '../web', title: 'Bug' }, {}, { error: expect.any(String), field: 'repository' }],
    ['github', 'create_issue', { repository: 'acme/w eb', title: 'Bug' }, {}, { error: expect.any(String), field: 'repository' }],
    ['github', 'create_issue', { repository: 'acme/web' }, {}, { error: expect.any(String), field: 'title' }],
    ['gitlab', 'get_current_user', {}, {}, { method: 'GET', path: '/api/v4/user' }],
    ['gitlab', 'list_projects', {}, {}, { method: 'GET', path: '/api/v4/projects', query: { membership: 'true' } }],
    ['jira', 'get_myself', {}, {}, { method: 'GET', path: '/rest/api/3/myself' }],
    [
      'jira',
      'search_issues',
      { jql: 'project = X' },
      {},
      { method: 'GET', path: '/rest/api/3/search/jql', query: { jql: 'project = X' } },
    ],
    [
      'jira',
      'search_issues',
      { jql: 'project = X', fields: 'summary,status', max_results: '10' },
      {},
      { method: 'GET', path: '/rest/api/3/search/jql', query: { jql: 'project = X', fields: 'summary,status', maxResults: '10' } },
    ],
    ['jira', 'search_issues', {}, {}, { error: expect.any(String), field: 'jql' }],
    [
      'jira',
      'create_issue',
      { project: 'PROJ', summary: 'Do it', description: 'Details' },
      {},
      {
        method: 'POST',
        path: '/rest/api/3/issue',
        body: {
          fields: {
            project: { key: 'PROJ' },
            summary: 'Do it',
            issuetype: { name: 'Task' },
            description: adf({ type: 'text', text: 'Details' }),
          },
        },
      },
    ],
    [
      'jira',
      'create_issue',
      { summary: 'Do it', description: 'a\nb', issue_type: 'Bug' },
      { default_project: 'OPS' },
      {
        method: 'POST',
        path: '/rest/api/3/issue',
        body: {
          fields: {
            project: { key: 'OPS' },
            summary: 'Do it',
            issuetype: { name: 'Bug' },
            description: adf({ type: 'text', text: 'a' }, { type: 'hardBreak' }, { type: 'text', text: 'b' }),
          },
        },
      },
    ],
    [
      'jira',
      'create_issue',
      { project: 'PROJ', summary: 'Do it' },
      {},
      {
        method: 'POST',
        path: '/rest/api/3/issue',
        body: { fields: { project: { key: 'PROJ' }, summary: 'Do it', issuetype: { name: 'Task' } } },
      },
    ],
    ['jira', 'create_issue', { summary: 'Do it' }, {}, { error: expect.any(String), field: 'project' }],
    ['jira', 'create_issue', { project: 'P/../X', summary: 'Do it' }, {}, { error: expect.any(String), field: 'project' }],
    ['jira', 'create_issue', { project: 'PROJ' }, {}, { error: expect.any(String), field: 'summary' }],
    ['confluence', 'get_current_user', {}, {}, { method: 'GET', path: '/wiki/rest/api/user/current' }],
    [
      'confluence',
      'search_pages',
      { cql: 'type = page' },
      {},
      { method: 'GET', path: '/wiki/rest/api/search', query: { cql: 'type = page' } },
    ],
    ['confluence', 'search_pages', { cql: ' ' }, {}, { error: expect.any(String), field: 'cql' }],
    ['slack', 'auth_test', {}, {}, { method: 'POST', path: '/api/auth.test' }],
    [
      'slack',
      'post_message',
      { channel: '#dev', text: 'hi' },
      {},
      { method: 'POST', path: '/api/chat.postMessage', body: { channel: '#dev', text: 'hi' } },
    ],
    [
      'slack',
      'post_message',
      { text: 'hi' },
      { default_channel: 'C123' },
      { method: 'POST', path: '/api/chat.postMessage', body: { channel: 'C123', text: 'hi' } },
    ],
    ['slack', 'post_message', { text: 'hi' }, {}, { error: expect.any(String), field: 'channel' }],
    ['slack', 'post_message', { channel: 'C1' }, {}, { error: expect.any(String), field: 'text' }],
    ['http', 'request', { method: 'GET', path: '/v1/items' }, {}, { method: 'GET', path: '/v1/items' }],
    ['http', 'request', { method: 'get', path: '/v1/items' }, {}, { method: 'GET', path: '/v1/items' }],
    [
      'http',
      'request',
      { method: 'GET', path: '/v1/items', query: { page: '2', all: true, n: 3 } },
      {},
      { method: 'GET', path: '/v1/items', query: { page: '2', all: 'true', n: '3' } },
    ],
    [
      'http',
      'request',
      { method: 'POST', path: '/v1/items', body: { name: 'x' } },
      {},
      { method: 'POST', path: '/v1/items', body: { name: 'x' } },
    ],
    ['http', 'request', { method: 'PUT', path: '/v1/items/1', body: [1, 2] }, {}, { method: 'PUT', path: '/v1/items/1', body: [1, 2] }],
    ['http', 'request', { method: 'DELETE', path: '/v1/items/1' }, {}, { method: 'DELETE', path: '/v1/items/1' }],
    ['http', 'request', { method: 'HEAD', path: '/' }, {}, { method: 'HEAD', path: '/' }],
    ['http', 'request', { method: 'TRACE', path: '/' }, {}, { error: expect.any(String), field: 'method' }],
    ['http', 'request', { method: 'GET', path: '/x', body: { a: 1 } }, {}, { error: expect.any(String), field: 'body' }],
    ['http', 'request', { method: 'GET', path: '/x', query: { a: { b: 1 } } }, {}, { error: expect.any(String), field: 'query' }],
    ['http', 'request', { method: 'GET', path: '/x', query: ['a'] }, {}, { error: expect.any(String), field: 'query' }],
  ])('%s.%s(%j, %j)', (toolkit, toolName, input, settings, expected) => {
    const tool = getTool(toolkit, toolName);
    expect(tool).toBeDefined();
    expect(tool!.plan(input, settings)).toEqual(expected);
  });

  it.each<string>([
    'v1/items',
    '//evil.example/x',
    '/https://evil.example',
    '/a/http://evil.example',
    '/\\evil.example',
    '/a/../admin',
    '/..',
    '/./x',
    '/%2e%2e/admin',
    '/.%2E/admin',
    '/x?y=1',
    '/x#frag',
    '/a b',
    '/café',
    '/a%zz',
    '/a\nb',
    '/a\u0000',
    '',
  ])('http.request rejects path %j', (path) => {
    expect(httpPathProblem(path)).toEqual(expect.any(String));
    expect(getTool('http', 'request')!.plan({ method: 'GET', path }, {})).toEqual({
      error: expect.any(String),
      field: 'path',
    });
  });

  it.each<string>(['/', '/v1/items', '/a/b.json', '/users/%40me', '/a:b@c', "/a/~x-y_z!$&'()*+,;=", '/a//b', '/...'])(
    'http.request accepts path %j',
    (path) => {
      expect(httpPathProblem(path)).toBeNull();
    },
  );

  it('slack tools expose failed()', () => {
    const tool = getTool('slack', 'post_message')!;
    expect(tool.failed!({ ok: false, error: 'channel_not_found' })).toBe('channel_not_found');
    expect(tool.failed!({ ok: true })).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------
describe('validateToolInput', () => {
  const issue = getTool('github', 'create_issue')!;
  const repos = getTool('github', 'list_repositories')!;
  const request = getTool('http', 'request')!;
  const tool = {
    ...issue,
    input: [
      { name: 's', label: 'Text', type: 'string' as const, required: true },
      { name: 'n', label: 'Count', type: 'number' as const, required: false },
      { name: 'b', label: 'Flag', type: 'boolean' as const, required: false },
      { name: 'o', label: 'Data', type: 'object' as const, required: false },
    ],
  };

  type Case = [string, typeof tool | typeof issue, unknown, { input: Record<string, unknown> } | { errors: string[] }];
  it.each<Case>([
    ['string ok', tool, { s: 'x' }, { input: { s: 'x' } }],
    ['missing required', tool, {}, { errors: ['s'] }],
    ['blank required', tool, { s: '  ' }, { errors: ['s'] }],
    ['undefined input', tool, undefined, { errors: ['s'] }],
    ['string wrong type', tool, { s: 5 }, { errors: ['s'] }],
    ['number from number', tool, { s: 'x', n: 3 }, { input: { s: 'x', n: 3 } }],
    ['number from string', tool, { s: 'x', n: ' 3.5 ' }, { input: { s: 'x', n: 3.5 } }],
    ['negative number from string', tool, { s: 'x', n: '-2' }, { input: { s: 'x', n: -2 } }],
    ['number from junk', tool, { s: 'x', n: '3a' }, { errors: ['n'] }],
    ['number from Infinity', tool, { s: 'x', n: 'Infinity' }, { errors: ['n'] }],
    ['number NaN', tool, { s: 'x', n: NaN }, { errors: ['n'] }],
    ['blank optional number is absent', tool, { s: 'x', n: '' }, { input: { s: 'x' } }],
    ['boolean true', tool, { s: 'x', b: true }, { input: { s: 'x', b: true } }],
    ['boolean "true"', tool, { s: 'x', b: 'true' }, { input: { s: 'x', b: true } }],
    ['boolean "on"', tool, { s: 'x', b: 'on' }, { input: { s: 'x', b: true } }],
    ['boolean "false"', tool, { s: 'x', b: 'false' }, { input: { s: 'x', b: false } }],
    ['boolean junk', tool, { s: 'x', b: 'yes' }, { errors: ['b'] }],
    ['boolean from number', tool, { s: 'x', b: 1 }, { errors: ['b'] }],
    ['object from object', tool, { s: 'x', o: { a: 1 } }, { input: { s: 'x', o: { a: 1 } } }],
    ['object from JSON', tool, { s: 'x', o: '{"a":[1]}' }, { input: { s: 'x', o: { a: [1] } } }],
    ['object from bad JSON', tool, { s: 'x', o: '{a:1}' }, { errors: ['o'] }],
    ['object from number', tool, { s: 'x', o: 5 }, { errors: ['o'] }],
    ['unknown key', tool, { s: 'x', zzz: 1 }, { errors: ['zzz'] }],
    ['several errors', tool, { n: 'x', zzz: 1 }, { errors: ['s', 'n', 'zzz'] }],
    ['not an object', tool, 'hello', { errors: ['_form'] }],
    ['array', tool, ['s'], { errors: ['_form'] }],
    ['real tool: optional repository', issue, { title: 'T' }, { input: { title: 'T' } }],
    ['real tool: no inputs', repos, {}, { input: {} }],
    ['http method normalised', request, { method: 'post', path: '/x' }, { input: { method: 'POST', path: '/x' } }],
    ['http method not allowed', request, { method: 'TRACE', path: '/x' }, { errors: ['method'] }],
    [
      'http body from JSON text',
      request,
      { method: 'POST', path: '/x', body: '[1,"a"]', query: '{"q":"1"}' },
      { input: { method: 'POST', path: '/x', body: [1, 'a'], query: { q: '1' } } },
    ],
  ])('%s', (_title, t, input, expected) => {
    const result = validateToolInput(t, input);
    if ('errors' in expected) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(Object.keys(result.errors).sort()).toEqual([...expected.errors].sort());
    } else {
      expect(result).toEqual({ ok: true, input: expected.input });
    }
  });
});

describe('validateSettings', () => {
  it.each<[string, unknown, { settings: Record<string, string> } | { errors: string[] }]>([
    ['github', {}, { settings: {} }],
    ['github', undefined, { settings: {} }],
    ['github', { default_repository: ' acme/web ' }, { settings: { default_repository: 'acme/web' } }],
    ['github', { default_repository: '' }, { settings: {} }],
    ['github', { default_repository: 'acme' }, { errors: ['default_repository'] }],
    ['github', { default_repository: 3 }, { errors: ['default_repository'] }],
    ['github', { other: 'x' }, { errors: ['other'] }],
    ['jira', { default_project: 'OPS' }, { settings: { default_project: 'OPS' } }],
    ['jira', { default_project: 'O P' }, { errors: ['default_project'] }],
    ['slack', { default_channel: '#dev' }, { settings: { default_channel: '#dev' } }],
    ['http', { anything: 'x' }, { errors: ['anything'] }],
    ['slack', 'nope', { errors: ['_form'] }],
  ])('%s %j', (type, settings, expected) => {
    const result = validateSettings(getToolkitType(type)!, settings);
    if ('errors' in expected) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(Object.keys(result.errors).sort()).toEqual([...expected.errors].sort());
    } else {
      expect(result).toEqual({ ok: true, settings: expected.settings });
    }
  });
});
