// "Never shown again" (SECURITY.md): canary secrets saved for several credential types, in Private
// and project workspaces, must afterwards appear in no page, fragment, API answer, test result,
// audit event, log line, or byte of the database files, whoever asks (owner, project editor,
// viewer, someone else). Connection tests run against a real local fake service, some of them
// against its /echo endpoint, which reflects the request headers (the secret) back.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCredentialForUse } from '../../src/store/credentials';
import { findWorkspace, getPrivateWorkspace } from '../../src/store/workspaces';
import { createTestApp, type TestApp } from '../helpers/app';
import { ENGINE } from '../helpers/database';
import { databaseBytes } from '../helpers/db-dump';
import { startFakeService, type FakeService } from '../helpers/fake-services';

const canary = (label: string) => `canary-${label}-${randomBytes(12).toString('hex')}`;
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** Each secret found in `bytes` in the clear (UTF-8), as base64 or as UTF-16LE, named with `where`. */
function encodedLeaks(bytes: Buffer, secrets: string[], where: string): string[] {
  const leaks: string[] = [];
  for (const secret of secrets) {
    for (const [how, needle] of [
      ['utf8', Buffer.from(secret, 'utf8')],
      ['base64', Buffer.from(b64(secret), 'utf8')],
      ['utf16le', Buffer.from(secret, 'utf16le')],
    ] as const) {
      if (bytes.includes(needle)) leaks.push(`${where} holds ${secret} as ${how}`);
    }
  }
  return leaks;
}

type User = Awaited<ReturnType<TestApp['user']>>;
type Spec = {
  owner: 'alice' | 'ed' | 'otto';
  ws: 'private' | 'team';
  name: string;
  type: string;
  fields: Record<string, string>;
  secret: [string, string];
  /** Extra strings that would reveal the secret (the base64 Basic pair). */
  derived?: string[];
  via: 'page' | 'api';
};

let t: TestApp;
let svc: FakeService;
let users: Record<'alice' | 'ed' | 'vera' | 'otto', User>;
let team: string;
const specs: Spec[] = [];
/** Every secret value that was ever typed, saved or not, and every string derived from one. */
const forbidden: string[] = [];
/** Every answer collected by the crawl: what was asked and what came back. */
const answers: { who: string; what: string; status: number; text: string }[] = [];

function forbid(...values: string[]) {
  forbidden.push(...values);
}

function collect(who: string, what: string, status: number, text: string, headers?: Headers) {
  const head: string[] = [];
  headers?.forEach((value, name) => head.push(`${name}: ${value}`));
  answers.push({ who, what, status, text: `${head.join('; ')}\n${text}` });
}

async function page(who: string, method: string, url: string, o: { form?: Record<string, string>; headers?: Record<string, string> } = {}) {
  const res = await t.browser(method, url, { cookie: users[who as keyof typeof users].cookie, ...o });
  const text = await res.text();
  collect(who, `${method} ${url} ${o.headers ? JSON.stringify(o.headers) : ''}`, res.status, text, res.headers);
  return { status: res.status, text, location: res.headers.get('location') };
}

async function api(who: string, method: string, url: string, body?: unknown) {
  const res = await t.api(method, url, users[who as keyof typeof users].token, body);
  collect(who, `API ${method} ${url}`, res.status, res.text, res.headers);
  return res;
}

/** The values a browser would post back for a form: every named input's value attribute, as rendered. */
function formValues(html: string, formId: string): Record<string, string> {
  const start = html.indexOf(`<form id="${formId}"`);
  expect(start, `form #${formId} in page`).toBeGreaterThanOrEqual(0);
  const form = html.slice(start, html.indexOf('</form>', start));
  const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const out: Record<string, string> = {};
  for (const tag of form.match(/<input\b[^>]*>/g) ?? []) {
    const name = tag.match(/\sname="([^"]*)"/)?.[1];
    const type = tag.match(/\stype="([^"]*)"/)?.[1];
    if (!name || type === 'submit' || type === 'button') continue;
    out[unescape(name)] = unescape(tag.match(/\svalue="([^"]*)"/)?.[1] ?? '');
  }
  for (const sel of form.match(/<select\b[\s\S]*?<\/select>/g) ?? []) {
    const name = sel.match(/\sname="([^"]*)"/)?.[1];
    const chosen = sel.match(/<option\b[^>]*\svalue="([^"]*)"[^>]*\sselected(?:="[^"]*")?[^>]*>/) ?? sel.match(/<option\b[^>]*\svalue="([^"]*)"/);
    if (name && chosen) out[name] = unescape(chosen[1]);
  }
  return out;
}

function wsPath(spec: Pick<Spec, 'ws'>) {
  return spec.ws === 'private' ? 'private' : team;
}
function cid(spec: Spec) {
  return spec.name.toLowerCase().replace(/[^a-z0-9]+/g, '_');
}

async function secretsOf(owner: User, ws: string, credentialId: string) {
  const w = ws === 'private' ? await getPrivateWorkspace(t.deps.store, owner.id) : (await findWorkspace(t.deps.store, owner.id, ws))!;
  return (await loadCredentialForUse(t.deps.store, w, credentialId))?.secrets;
}

beforeAll(async () => {
  t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
  const echo = (url: string) => `${url}/echo/401`;
  type Pending = Omit<Spec, 'fields' | 'derived'> & { fields: (url: string) => Record<string, string> };
  const pending: Pending[] = [];
  const add = (p: Pending) => pending.push(p);

  // Private credentials of alice (the first user: instance admin and the project's admin).
  add({ owner: 'alice', ws: 'private', via: 'page', name: 'GitHub Echo', type: 'github', fields: (u) => ({ base_url: echo(u) }), secret: ['token', canary('gh-echo')] });
  add({ owner: 'alice', ws: 'private', via: 'api', name: 'GitHub Live', type: 'github', fields: (u) => ({ base_url: u }), secret: ['token', canary('gh-live')] });
  add({ owner: 'alice', ws: 'private', via: 'page', name: 'Jira Echo', type: 'jira', fields: (u) => ({ base_url: echo(u), email: 'alice@example.com' }), secret: ['api_token', canary('jira-echo')] });
  add({ owner: 'alice', ws: 'private', via: 'api', name: 'Jira Live', type: 'jira', fields: (u) => ({ base_url: u, email: 'alice@example.com' }), secret: ['api_token', canary('jira-live')] });
  add({ owner: 'alice', ws: 'private', via: 'page', name: 'Basic Echo', type: 'http_basic', fields: (u) => ({ base_url: echo(u), username: 'svc-user' }), secret: ['password', canary('basic')] });
  add({ owner: 'alice', ws: 'private', via: 'api', name: 'Header Echo', type: 'http_header', fields: (u) => ({ base_url: echo(u), header_name: 'X-Api-Key' }), secret: ['value', canary('header')] });
  // Project credentials.
  add({ owner: 'alice', ws: 'team', via: 'page', name: 'Team GitHub', type: 'github', fields: (u) => ({ base_url: echo(u) }), secret: ['token', canary('team-gh')] });
  add({ owner: 'ed', ws: 'team', via: 'api', name: 'Team Jira', type: 'jira', fields: (u) => ({ base_url: u, email: 'team@example.com' }), secret: ['api_token', canary('team-jira')] });
  add({ owner: 'ed', ws: 'team', via: 'page', name: 'Team Basic', type: 'http_basic', fields: (u) => ({ base_url: echo(u), username: 'team-user' }), secret: ['password', canary('team-basic')] });
  add({ owner: 'alice', ws: 'team', via: 'api', name: 'Team Header', type: 'http_header', fields: (u) => ({ base_url: echo(u), header_name: 'X-Api-Key' }), secret: ['value', canary('team-header')] });
  add({ owner: 'ed', ws: 'team', via: 'page', name: 'Team Bearer', type: 'http_bearer', fields: (u) => ({ base_url: echo(u) }), secret: ['token', canary('team-bearer')] });
  // Private credentials of other people.
  add({ owner: 'ed', ws: 'private', via: 'page', name: 'Ed GitHub', type: 'github', fields: (u) => ({ base_url: echo(u) }), secret: ['token', canary('ed-gh')] });
  add({ owner: 'otto', ws: 'private', via: 'api', name: 'Otto Jira', type: 'jira', fields: (u) => ({ base_url: echo(u), email: 'otto@example.com' }), secret: ['api_token', canary('otto-jira')] });

  // The live ones are known to the fake service, so their tests succeed; the echo ones reflect.
  const known: Record<string, string> = {};
  for (const p of pending) if (p.name.includes('Live') || p.name === 'Team Jira') known[p.secret[1]] = `${p.owner}-account`;
  svc = await startFakeService({ tokens: known });

  users = { alice: await t.user('alice'), ed: await t.user('ed'), vera: await t.user('vera'), otto: await t.user('otto') };
  const p = await t.api('POST', '/projects', users.alice.token, { name: 'Team' });
  team = p.json.slug;
  expect((await t.api('POST', `/projects/${team}/members`, users.alice.token, { username: 'ed', role: 'editor' })).status).toBe(201);
  expect((await t.api('POST', `/projects/${team}/members`, users.alice.token, { username: 'vera', role: 'viewer' })).status).toBe(201);

  for (const raw of pending) {
    const spec: Spec = { ...raw, fields: raw.fields(svc.url) };
    const [secretName, secret] = spec.secret;
    const login = spec.fields.email ?? spec.fields.username;
    spec.derived = login ? [b64(`${login}:${secret}`)] : [];
    forbid(secret, ...spec.derived);
    specs.push(spec);
    if (spec.via === 'api') {
      const res = await api(spec.owner, 'POST', `/workspaces/${wsPath(spec)}/credentials`, { name: spec.name, type: spec.type, fields: spec.fields, secrets: { [secretName]: secret } });
      expect(res.status, res.text).toBe(201);
    } else {
      const form: Record<string, string> = { name: spec.name, type: spec.type, id_mode: 'auto', credential_id: '', return: '', required_by: '', [`secret_${secretName}`]: secret };
      for (const [k, v] of Object.entries(spec.fields)) form[`field_${k}`] = v;
      const res = await page(spec.owner, 'POST', `/w/${wsPath(spec)}/credentials`, { form });
      expect(res.status, res.text).toBe(303);
    }
  }
}, 60_000);

afterAll(async () => {
  await svc?.close();
  await t?.close();
});

describe('canary secrets', () => {
  it('are never shown: every page, fragment, API answer and test result, as every role', async () => {
    const who = ['alice', 'ed', 'vera', 'otto'] as const;
    const allIds = [...new Set(specs.map(cid))];
    const types = ['github', 'gitlab', 'jira', 'confluence', 'slack', 'http_bearer', 'http_basic', 'http_header'];

    // Connection tests first, so their kept results are part of every later listing.
    for (const u of who) {
      for (const ws of ['private', team]) {
        for (const id of allIds) {
          await page(u, 'POST', `/w/${ws}/credentials/${id}/test`);
          await page(u, 'POST', `/w/${ws}/credentials/${id}/test`, { headers: { 'HX-Request': 'true' } });
          await api(u, 'POST', `/workspaces/${ws}/credentials/${id}/test`, {});
        }
      }
    }
    // Sanity: the secrets really went out, and the echo really reflected them (redacted).
    const sent = JSON.stringify(svc.requests.map((r) => r.headers));
    for (const s of specs) expect(sent, `${s.name} was used`).toContain(s.derived?.[0] ?? s.secret[1]);
    for (const s of specs.filter((x) => x.fields.base_url.endsWith('/echo/401'))) {
      const res = answers.find((a) => a.who === s.owner && a.what === `API POST /workspaces/${wsPath(s)}/credentials/${cid(s)}/test`);
      expect(res?.text, `${s.name}: the echoed header comes back redacted`).toMatch(/The service answered 401: .*\[REDACTED\]/);
    }

    // The listed sweeps must really reach their pages: a URL that answers 404 (a moved route) would
    // check nothing, so it fails the test. Only otto, who is no member of the project, gets 404
    // for the project's pages, and that is asserted too.
    const sweep = async (u: string, urls: string[], send: (url: string) => Promise<{ status: number }>) => {
      for (const url of urls) expect((await send(url)).status, `${u} ${url}`).not.toBe(404);
    };
    const teamPages = [`/w/${team}/toolkits`, `/w/${team}/members`, `/w/${team}/credentials`];
    const auditPages = ['/admin/audit', '/admin/audit?actor=alice', '/admin/audit?action=credential.create', '/admin/audit/events/1', '/admin/audit/events/2', '/admin/users'];
    for (const u of who) {
      await sweep(u, ['/', '/w/private/toolkits', '/w/private/credentials', '/settings', ...auditPages], (url) => page(u, 'GET', url));
      await sweep(u, ['/admin/audit/export.csv', '/admin/audit/export.jsonl'], (url) => page(u, 'POST', url));
      if (u === 'otto') for (const url of teamPages) expect((await page(u, 'GET', url)).status, `${u} ${url}`).toBe(404);
      else await sweep(u, teamPages, (url) => page(u, 'GET', url));
      await sweep(u, ['/me', '/projects', '/credential-types', '/audit?limit=500', '/workspaces/private/toolkits'], (url) => api(u, 'GET', url));
      for (const ws of ['private', team]) {
        const base = `/w/${ws}/credentials`;
        await page(u, 'GET', base);
        await page(u, 'GET', `${base}?q=echo`);
        await page(u, 'GET', `${base}?q=team`, { headers: { 'HX-Request': 'true', 'HX-Target': 'credential-list' } });
        for (const ty of types) {
          await page(u, 'GET', `${base}?type=${ty}`);
          await page(u, 'GET', `${base}/new?type=${ty}`);
          await page(u, 'GET', `${base}/new/fields?type=${ty}`, { headers: { 'HX-Request': 'true' } });
        }
        await page(u, 'POST', `${base}/id-preview`, { form: { name: 'Jira Echo', id_mode: 'auto' }, headers: { 'HX-Request': 'true' } });
        await api(u, 'GET', `/workspaces/${ws}/credentials`);
        for (const ty of types) await api(u, 'GET', `/workspaces/${ws}/credentials?type=${ty}`);

        // A secret typed into a create form that fails (conflict, invalid) or is only tested is not echoed.
        const typed = canary(`typed-${u}`);
        forbid(typed, b64(`alice@example.com:${typed}`));
        await page(u, 'POST', base, { form: { name: 'GitHub Echo', type: 'github', id_mode: 'auto', credential_id: '', field_base_url: `${svc.url}/echo/401`, secret_token: typed } });
        await page(u, 'POST', base, { form: { name: 'Team GitHub', type: 'github', id_mode: 'auto', credential_id: '', field_base_url: `${svc.url}/echo/401`, secret_token: typed }, headers: { 'HX-Request': 'true' } });
        await page(u, 'POST', base, { form: { name: 'Broken', type: 'jira', id_mode: 'auto', credential_id: '', field_base_url: 'not a url', field_email: 'alice@example.com', secret_api_token: typed } });
        await page(u, 'POST', `${base}/test`, { form: { name: 'Try', type: 'jira', field_base_url: `${svc.url}/echo/401`, field_email: 'alice@example.com', secret_api_token: typed } });
        await page(u, 'POST', `${base}/test`, { form: { name: 'Try', type: 'http_header', field_base_url: `${svc.url}/echo/401`, field_header_name: 'X-Api-Key', secret_value: typed }, headers: { 'HX-Request': 'true' } });
        await api(u, 'POST', `/workspaces/${ws}/credentials`, { name: 'GitHub Echo', type: 'github', secrets: { token: typed } });
        await api(u, 'POST', `/workspaces/${ws}/credentials`, { name: 'Broken', type: 'jira', fields: { base_url: 'nope' }, secrets: { api_token: typed } });
        await api(u, 'POST', `/workspaces/${ws}/credentials`, { name: 'Wrong', type: 'github', secrets: { token: typed, extra: typed } });

        for (const id of allIds) {
          await page(u, 'GET', `${base}/${id}`);
          const edit = await page(u, 'GET', `${base}/${id}`, { headers: { 'HX-Request': 'true' } });
          await page(u, 'GET', `${base}/${id}/delete`);
          await page(u, 'GET', `${base}/${id}/delete`, { headers: { 'HX-Request': 'true' } });
          await page(u, 'POST', `${base}/${id}/delete`, { form: { confirm: 'not-the-id' } });
          // The edit form's own values, tested and then sent back with an error and a newly typed secret.
          const values = edit.status === 200 ? formValues(edit.text, 'credential-form') : { name: 'X', type: 'github', secret_token: '' };
          await page(u, 'POST', `${base}/${id}/test`, { form: values });
          await page(u, 'POST', `${base}/${id}/test`, { form: values, headers: { 'HX-Request': 'true' } });
          const secretKey = Object.keys(values).find((k) => k.startsWith('secret_')) ?? 'secret_token';
          await page(u, 'POST', `${base}/${id}`, { form: { ...values, name: '', [secretKey]: typed } });
          await page(u, 'POST', `${base}/${id}/test`, { form: { ...values, [secretKey]: typed } });
          await api(u, 'GET', `/workspaces/${ws}/credentials/${id}`);
          await api(u, 'PATCH', `/workspaces/${ws}/credentials/${id}`, { fields: { base_url: 'not a url' }, secrets: { token: typed, api_token: typed, password: typed, value: typed } });
        }
      }
    }

    // Edits that send the form back unchanged (owner in Private, editor in the project), and API
    // patches that send the listing back: answers collected, secrets still the canaries.
    for (const spec of specs) {
      const u = spec.ws === 'team' ? 'ed' : spec.owner;
      const base = `/w/${wsPath(spec)}/credentials/${cid(spec)}`;
      const edit = await page(u, 'GET', `${base}/edit`);
      expect(edit.status).toBe(200);
      const values = formValues(edit.text, 'credential-form');
      expect(values[`secret_${spec.secret[0]}`], 'the secret input is empty').toBe('');
      const saved = await page(u, 'POST', `${base}/edit`, { form: values });
      expect(saved.status, saved.text).toBe(303);
      const listing = await api(u, 'GET', `/workspaces/${wsPath(spec)}/credentials/${cid(spec)}`);
      const patched = await api(u, 'PATCH', `/workspaces/${wsPath(spec)}/credentials/${cid(spec)}`, { name: listing.json.name, fields: listing.json.fields });
      expect(patched.status).toBe(200);
      expect(await secretsOf(users[spec.owner], wsPath(spec), cid(spec))).toEqual({ [spec.secret[0]]: spec.secret[1] });
    }

    expect(answers.length).toBeGreaterThan(1000);
    const statuses = new Set(answers.map((a) => a.status));
    for (const s of [200, 303, 400, 403, 404, 409]) expect(statuses, `some answer had status ${s}`).toContain(s);
    const leaks: string[] = [];
    for (const a of answers) for (const f of forbidden) if (a.text.includes(f)) leaks.push(`${a.who} ${a.what} → ${a.status} holds ${f.slice(0, 20)}…`);
    expect(leaks).toEqual([]);
  }, 120_000);

  it('are in no audit event and no log line', async () => {
    expect(forbidden.length).toBeGreaterThan(specs.length);
    const rows = await t.sql('SELECT * FROM audit_events ORDER BY id');
    expect(rows.length).toBeGreaterThan(10);
    const audit = JSON.stringify(rows);
    expect(t.logs.length).toBeGreaterThan(100);
    const leaks: string[] = [];
    for (const f of forbidden) {
      if (audit.includes(f)) leaks.push(`audit_events holds ${f}`);
      t.logs.forEach((line, i) => {
        if (line.includes(f)) leaks.push(`log line ${i} holds ${f}: ${line.slice(0, 200)}`);
      });
    }
    expect(leaks).toEqual([]);
  });

  it.skipIf(ENGINE === 'pg')('are not in the raw bytes of the database files', () => {
    t.db.$client.pragma('wal_checkpoint(PASSIVE)');
    const files = fs.readdirSync(t.dir).filter((f) => f.startsWith('latchkey.db'));
    expect(files).toContain('latchkey.db');
    expect(files.flatMap((f) => encodedLeaks(fs.readFileSync(path.join(t.dir, f)), forbidden, f))).toEqual([]);
    // The credentials really are in the file (so the search above looked at real data).
    const dbBytes = fs.readFileSync(path.join(t.dir, 'latchkey.db'));
    expect(dbBytes.includes(Buffer.from('github_echo'))).toBe(true);
  });

  // PostgreSQL's files belong to the server: the same search over every stored value, blobs as their bytes.
  it('are in no value of any table, in the clear or encoded', async () => {
    const bytes = await databaseBytes(t);
    expect(encodedLeaks(bytes, forbidden, 'the database')).toEqual([]);
    // The credentials really are in the tables (so the search above looked at real data).
    expect(bytes.includes(Buffer.from('github_echo'))).toBe(true);
  });
});
