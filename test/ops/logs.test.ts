// Logs (SECURITY.md, Never shown again): the real server's standard output and error over a full
// run — sign-up, a failed and a good sign-in, a token made on the settings page, credentials with
// canary secrets made through the page and the API, a toolkit run against a local service that
// echoes what it received, bad tokens and cookies, /metrics, a delete — hold one JSON object per
// line with the request fields and the notable events, and never a secret, a session cookie
// value, a token, a password or an Authorization header value.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { credentials } from '../../db/schema';
import { errorHandler } from '../../src/routes/errors';
import { createTestApp, PASSWORD } from '../helpers/app';
import { ENGINE } from '../helpers/database';
import { jsonLines, killChildren, request, startServer, tempDir, type Answer } from './helpers';

const dir = tempDir('latchkey-logs-');
let upstream: http.Server | undefined;
afterAll(async () => {
  await killChildren();
  await new Promise((r) => (upstream ? upstream.close(r) : r(undefined)));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A service that answers with the headers it received (so the credential comes back, to be redacted). */
async function startEcho(): Promise<string> {
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Set-Cookie': 'upstream_session=abc' });
      res.end(JSON.stringify({ received: req.headers }));
    });
  });
  await new Promise<void>((r) => upstream!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(upstream!.address() as AddressInfo).port}`;
}

function sessionCookie(res: Answer): string {
  const line = [res.headers['set-cookie'] ?? []].flat().find((l) => /session=[^;]/.test(l));
  if (!line) throw new Error(`no session cookie: ${res.status}`);
  return line.split(';')[0];
}

describe('logs of a full run', () => {
  it(
    'are JSON lines with the request fields and notable events, and hold no secret, cookie, token or Authorization value',
    async () => {
      const echo = await startEcho();
      const metricsToken = `metrics-canary-${Math.random().toString(36).slice(2)}`;
      const s = await startServer(dir, { LOG_LEVEL: 'debug', METRICS_TOKEN: metricsToken, OUTBOUND_ALLOW_HOSTS: '127.0.0.1' });
      const forbidden: string[] = [PASSWORD, metricsToken];

      // Sign-up, a wrong password, a good sign-in.
      const signup = await request(s, 'POST', '/signup', { form: { username: 'alice', password: PASSWORD } });
      expect(signup.status).toBe(303);
      const firstCookie = sessionCookie(signup);
      const wrongPassword = 'wrong-password-canary-123';
      forbidden.push(wrongPassword);
      expect((await request(s, 'POST', '/login', { form: { username: 'alice', password: wrongPassword } })).status).toBe(401);
      const mistypedName = 'passwordtypedasname99';
      expect((await request(s, 'POST', '/login', { form: { username: mistypedName, password: wrongPassword } })).status).toBe(401);
      const login = await request(s, 'POST', '/login', { form: { username: 'alice', password: PASSWORD } });
      expect(login.status).toBe(303);
      const cookie = sessionCookie(login);
      forbidden.push(firstCookie.split('=')[1], cookie.split('=')[1]);

      // A token made on the settings page.
      const made = await request(s, 'POST', '/settings/tokens', { headers: { Cookie: cookie }, form: { name: 'logs' } });
      expect(made.status).toBe(201);
      const token = /lk_[A-Za-z0-9_-]{20,}/.exec(made.body)![0];
      forbidden.push(token);
      const auth = { Authorization: `Bearer ${token}` };

      // Credentials with canary secrets, through the page and the API.
      const pageCanary = `page-canary-${Math.random().toString(36).slice(2)}`;
      const apiCanary = `api-canary-${Math.random().toString(36).slice(2)}`;
      forbidden.push(pageCanary, apiCanary);
      const page = await request(s, 'POST', '/w/private/credentials', {
        headers: { Cookie: cookie },
        form: { name: 'Page Token', type: 'http_bearer', field_base_url: echo, secret_token: pageCanary },
      });
      expect(page.status, page.body.slice(0, 500)).toBe(303);
      const created = await request(s, 'POST', '/api/v1/workspaces/private/credentials', {
        headers: auth,
        body: { name: 'Echo', type: 'http_bearer', fields: { base_url: echo }, secrets: { token: apiCanary } },
      });
      expect(created.status, created.body).toBe(201);

      // A toolkit run: the service sends the secret back; the answer is redacted.
      const toolkit = await request(s, 'POST', '/api/v1/workspaces/private/toolkits', {
        headers: auth,
        body: { name: 'Echo', type: 'http', settings: {}, credential: { scope: 'private', credential_id: 'echo' } },
      });
      expect(toolkit.status, toolkit.body).toBe(201);
      const run = await request(s, 'POST', `/api/v1/workspaces/private/toolkits/${toolkit.json.id}/execute`, { headers: auth, body: { tool: 'request', input: { method: 'GET', path: '/whoami' } } });
      expect(run.status, run.body).toBe(200);
      expect(run.body).toContain('[REDACTED]');
      expect(run.body).not.toContain(apiCanary);

      // Bad credentials of every kind; /metrics; a page with the cookie; a delete.
      const badToken = `lk_bogus-token-canary-${Math.random().toString(36).slice(2)}`;
      const badCookie = `bogus-cookie-canary-${Math.random().toString(36).slice(2)}`;
      forbidden.push(badToken, badCookie);
      expect((await request(s, 'GET', '/api/v1/me', { headers: { Authorization: `Bearer ${badToken}` } })).status).toBe(401);
      expect((await request(s, 'GET', '/api/v1/me', { headers: { Authorization: `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}` } })).status).toBe(401);
      forbidden.push(Buffer.from(`alice:${PASSWORD}`).toString('base64'));
      expect((await request(s, 'GET', '/w/private/credentials', { headers: { Cookie: `latchkey_session=${badCookie}` } })).status).toBe(303);
      expect((await request(s, 'GET', '/metrics', { headers: { Authorization: `Bearer ${metricsToken}` } })).status).toBe(200);
      expect((await request(s, 'GET', '/metrics', { headers: { Authorization: `Bearer ${badToken}` } })).status).toBe(401);
      expect((await request(s, 'GET', '/w/private/credentials', { headers: { Cookie: cookie } })).status).toBe(200);
      expect((await request(s, 'DELETE', '/api/v1/workspaces/private/credentials/page_token', { headers: auth })).status).toBe(204);

      expect((await s.kill('SIGTERM')).code).toBe(0);
      const key = fs.readFileSync(`${dir}/secret.key`, 'utf8').trim();
      forbidden.push(key);
      const output = s.stdout() + s.stderr();

      for (const value of forbidden) expect(output.includes(value), `log holds ${value.slice(0, 12)}…`).toBe(false);
      expect(output).not.toMatch(/"(authorization|cookie|set-cookie|password|secret|token)"/i); // no such field, whatever its value
      expect(s.stderr()).toBe('');

      const lines = jsonLines(s.stdout());
      expect(lines.length).toBe(s.stdout().trim().split('\n').length); // every line is JSON
      for (const l of lines) expect(l).toMatchObject({ time: expect.any(String), level: expect.any(String), msg: expect.any(String) });

      const requests = lines.filter((l) => l.msg === 'request');
      for (const r of requests) expect(Object.keys(r).sort()).toEqual(['durationMs', 'level', 'method', 'msg', 'requestId', 'route', 'status', 'time', 'user']);
      expect(requests).toContainEqual(expect.objectContaining({ method: 'POST', route: '/api/v1/workspaces/:ws/toolkits/:id/execute', status: 200, user: 'alice' }));
      expect(requests).toContainEqual(expect.objectContaining({ method: 'POST', route: '/login', status: 401, user: null }));
      expect(requests).toContainEqual(expect.objectContaining({ method: 'DELETE', route: '/api/v1/workspaces/:ws/credentials/:cid', status: 204 }));
      expect(requests.some((r) => r.route.includes('page_token') || r.route.includes('/private/'))).toBe(false);

      const events = lines.filter((l) => l.msg !== 'request');
      expect(events.filter((l) => l.msg === 'sign-in failed')).toEqual([
        expect.objectContaining({ level: 'warn', user: 'alice', reason: 'bad_password', address: expect.any(String) }),
        expect.objectContaining({ level: 'warn', user: null, reason: 'unknown_user' }),
      ]);
      expect(output).not.toContain(mistypedName); // a name that is no account may be a password typed in the wrong field
      expect(events.filter((l) => l.msg === 'credential created').map((l) => [l.credentialId, l.type, l.user, l.workspace])).toEqual([
        ['page_token', 'http_bearer', 'alice', 'private'],
        ['echo', 'http_bearer', 'alice', 'private'],
      ]);
      expect(events.find((l) => l.msg === 'credential deleted')).toMatchObject({ credentialId: 'page_token', user: 'alice' });
      expect(events.find((l) => l.msg === 'toolkit executed')).toMatchObject({
        toolkitType: 'http',
        tool: 'request',
        outcome: 'success',
        status: 200,
        durationMs: expect.any(Number),
        upstreamMs: expect.any(Number),
      });
      expect(events.find((l) => l.msg.startsWith('generated a new master key'))).toBeDefined();
      expect(events.find((l) => l.msg === 'database and keys checked')).toMatchObject({ quickCheck: 'ok' });
    },
    60_000,
  );
});

// SQLite's own error classes and messages: skipped on PostgreSQL.
describe.skipIf(ENGINE === 'pg')('the error handler', () => {
  it('logs a failed query by its class and SQLite’s message, never the query parameters', async () => {
    const t = await createTestApp();
    try {
      const alice = await t.user('alice');
      const db = drizzle(t.db.$client);
      const ws = t.db.$client.prepare('SELECT id FROM workspaces WHERE owner_user_id = ?').get(alice.id) as { id: number };
      const canary = `param-canary-${Math.random().toString(36).slice(2)}`;
      const row = { workspaceId: ws.id, credentialId: 'dup', name: canary, type: 'http_bearer', createdBy: alice.id };
      db.insert(credentials).values(row).run();
      let sqliteError: unknown;
      try {
        db.insert(credentials).values(row).run();
      } catch (err) {
        sqliteError = err;
      }
      // What drizzle throws where it wraps driver errors (its async query path): SQL and params in the message.
      const query = db.insert(credentials).values(row).toSQL();
      const thrown = new DrizzleQueryError(query.sql, query.params, sqliteError as Error);
      expect(thrown.message).toContain(canary);

      const app = new Hono();
      app.get('/api/boom', () => {
        throw thrown;
      });
      app.get('/api/raw', () => {
        throw sqliteError;
      });
      app.get('/api/json', () => {
        JSON.parse(`{"token": "${canary}"`);
        return new Response();
      });
      app.onError(errorHandler(t.deps) as never);
      expect((await app.request('/api/boom')).status).toBe(500);
      expect((await app.request('/api/json')).status).toBe(500);
      expect((await app.request('/api/raw')).status).toBe(500);

      const errors = t.logs.filter((l) => l.includes('"unhandled error"')).map((l) => JSON.parse(l));
      expect(errors).toHaveLength(3);
      expect(errors[0]).toMatchObject({ level: 'error', error: 'DrizzleQueryError', code: 'SQLITE_CONSTRAINT_UNIQUE', message: expect.stringMatching(/^SqliteError: UNIQUE constraint failed/) });
      expect(errors[0].stack).toMatch(/^at /);
      expect(errors[1]).toMatchObject({ error: 'SyntaxError' });
      expect(errors[2]).toMatchObject({ error: 'SqliteError', code: 'SQLITE_CONSTRAINT_UNIQUE', message: 'UNIQUE constraint failed: credentials.workspace_id, credentials.credential_id' });
      for (const l of t.logs) {
        expect(l).not.toContain(canary);
        expect(l).not.toMatch(/Failed query|params:/);
      }
    } finally {
      await t.close();
    }
  });
});
