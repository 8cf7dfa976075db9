// Several real server processes on one PostgreSQL database (CONTRACT §5): migrations run once,
// sessions and tokens work on every instance, revocations and sign-in throttling count across
// instances at the very next request, and the audit chain stays one chain while instances are
// SIGKILLed mid-load. A database that goes away mid-load (a TCP proxy in front of PostgreSQL
// drops every connection and refuses new ones) gives 503s and a 503 /healthz, then 200 again
// once it is back, without a restart. Runs when LATCHKEY_TEST_DATABASE_URL is set.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../src/crypto/keyring';
import { MIGRATIONS_PG_DIR } from '../../src/paths';
import { ENGINE, freshPgDatabase, PG_URL } from '../helpers/database';
import { cli, killChildren, request, sleep, startServer, tempDir, type Server } from '../ops/helpers';

const PASSWORD = 'correct horse battery staple';

/** A local service for toolkit runs: counts the requests it answers. */
async function startUpstream() {
  let served = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      served++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, served: () => served, close: () => new Promise((r) => server.close(r)) };
}

/** A TCP proxy in front of PostgreSQL that can drop every connection and refuse new ones. */
async function startProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let up = true;
  const server = net.createServer((client) => {
    if (!up) return client.destroy();
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url(database: string) {
      const u = new URL(database);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      up = true;
    },
    close() {
      this.cut();
      return new Promise((r) => server.close(r));
    },
  };
}

async function signIn(s: Server, username: string, password = PASSWORD) {
  const res = await request(s, 'POST', '/login', { form: { username, password } });
  const cookie = [res.headers['set-cookie'] ?? []].flat().map((l) => l.split(';')[0]).find((p) => /session=/.test(p) && !/=$/.test(p));
  return { status: res.status, cookie };
}

describe.skipIf(ENGINE !== 'pg')('several instances on one PostgreSQL database', () => {
  const key = generateKey();
  const dirs: string[] = [];
  const drops: (() => Promise<void>)[] = [];
  const dir = () => {
    const d = tempDir('latchkey-multi-');
    dirs.push(d);
    return d;
  };
  const envFor = (url: string) => ({ DATABASE_URL: url, SECRET_KEY: key, LOG_LEVEL: 'warn', OUTBOUND_ALLOW_HOSTS: '127.0.0.1' });
  const count = async (url: string, text: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return Number((await c.query(text)).rows[0].n);
    } finally {
      await c.end();
    }
  };

  afterAll(async () => {
    await killChildren();
    for (const drop of drops) await drop().catch(() => undefined);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  let url: string;
  let servers: Server[];
  beforeAll(async () => {
    const db = await freshPgDatabase();
    drops.push(db.drop);
    // An empty database, not the migrated template: the instances migrate it themselves.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SCHEMA IF EXISTS drizzle CASCADE;');
    await c.end();
    url = db.url;
  });

  it('three instances started at the same moment on an empty database migrate it once and all become healthy', async () => {
    servers = await Promise.all([0, 1, 2].map(() => startServer(dir(), envFor(url))));
    for (const s of servers) expect((await request(s, 'GET', '/healthz')).json).toEqual({ ok: true });
    const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_PG_DIR, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    expect(await count(url, 'SELECT count(*) AS n FROM drizzle.__drizzle_migrations')).toBe(journal.entries.length);
    // One key check and one audit key, however many instances started together.
    expect(await count(url, 'SELECT count(*) AS n FROM master_keys')).toBe(1);
    expect(await count(url, `SELECT count(*) AS n FROM data_keys WHERE purpose = 'audit'`)).toBe(1);
    for (const s of servers) expect(s.stderr()).toBe('');
  });

  it('a session made on one instance works on another; sign-out and token revocation elsewhere take effect at the next request', async () => {
    servers ??= await Promise.all([0, 1, 2].map(() => startServer(dir(), envFor(url))));
    const [a, b, c] = servers;
    expect((await cli(dirs[0], ['user', 'create', 'alice'], { input: `${PASSWORD}\n`, env: envFor(url) })).code).toBe(0);

    const { cookie } = await signIn(a, 'alice');
    expect(cookie).toBeTruthy();
    expect((await request(b, 'GET', '/settings', { headers: { Cookie: cookie! } })).status).toBe(200);
    // Sign out on the second: the third refuses the cookie at once.
    expect((await request(b, 'POST', '/logout', { form: {}, headers: { Cookie: cookie! } })).status).toBe(303);
    const after = await request(c, 'GET', '/settings', { headers: { Cookie: cookie! } });
    expect(after.status).toBe(303);
    expect(after.headers.location).toMatch(/^\/login/);

    const made = await cli(dirs[0], ['token', 'create', 'alice', '--name', 'multi'], { env: envFor(url) });
    expect(made.code, made.stderr).toBe(0);
    const token = made.stdout.trim();
    const auth = { Authorization: `Bearer ${token}` };
    expect((await request(a, 'GET', '/api/v1/me', { headers: auth })).status).toBe(200);
    const tokens = await request(c, 'GET', '/api/v1/tokens', { headers: auth });
    const id = tokens.json.find((t: { name: string }) => t.name === 'multi').id;
    expect((await request(c, 'DELETE', `/api/v1/tokens/${id}`, { headers: auth })).status).toBe(204);
    expect((await request(a, 'GET', '/api/v1/me', { headers: auth })).status).toBe(401);
    expect((await request(b, 'GET', '/api/v1/me', { headers: auth })).status).toBe(401);
  });

  it('a password change, a member removal and a deactivation on one instance take effect on the others at the next request', async () => {
    servers ??= await Promise.all([0, 1, 2].map(() => startServer(dir(), envFor(url))));
    const [a, b, c] = servers;
    const env = envFor(url);
    for (const [name, admin] of [['root', true], ['fred', false], ['gina', false]] as const) {
      expect((await cli(dirs[0], ['user', 'create', name, ...(admin ? ['--admin'] : [])], { input: `${PASSWORD}\n`, env })).code).toBe(0);
    }
    const tokenOf = async (name: string) => (await cli(dirs[0], ['token', 'create', name], { env })).stdout.trim();
    const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

    // Password change (CLI, as an operator would): fred's session on another instance ends.
    const fred = await signIn(a, 'fred');
    expect((await request(b, 'GET', '/settings', { headers: { Cookie: fred.cookie! } })).status).toBe(200);
    expect((await cli(dirs[0], ['user', 'set-password', 'fred'], { input: 'another long passphrase 42\n', env })).code).toBe(0);
    expect((await request(c, 'GET', '/settings', { headers: { Cookie: fred.cookie! } })).status).toBe(303);

    // Member removal through one instance: the other refuses the project at once.
    const root = await tokenOf('root');
    const gina = await tokenOf('gina');
    expect((await request(a, 'POST', '/api/v1/projects', { headers: bearer(root), body: { name: 'Multi' } })).status).toBe(201);
    expect((await request(a, 'POST', '/api/v1/projects/multi/members', { headers: bearer(root), body: { username: 'gina', role: 'editor' } })).status).toBe(201);
    expect((await request(b, 'GET', '/api/v1/workspaces/multi/credentials', { headers: bearer(gina) })).status).toBe(200);
    expect((await request(c, 'DELETE', '/api/v1/projects/multi/members/gina', { headers: bearer(root) })).status).toBeLessThan(300);
    expect((await request(b, 'GET', '/api/v1/workspaces/multi/credentials', { headers: bearer(gina) })).status).toBe(404);

    // Deactivation through one instance: her token and session are refused by the others.
    const session = await signIn(c, 'gina');
    expect((await request(a, 'POST', '/api/v1/users/gina/deactivate', { headers: bearer(root) })).status).toBe(200);
    expect((await request(b, 'GET', '/api/v1/me', { headers: bearer(gina) })).status).toBe(401);
    expect((await request(c, 'GET', '/settings', { headers: { Cookie: session.cookie! } })).status).toBe(303);
  });

  it('sign-in throttling counts failed attempts sent to different instances', async () => {
    servers ??= await Promise.all([0, 1, 2].map(() => startServer(dir(), envFor(url))));
    expect((await cli(dirs[0], ['user', 'create', 'bob'], { input: `${PASSWORD}\n`, env: envFor(url) })).code).toBe(0);
    // Five wrong passwords, spread over the three instances (the account limit is five).
    for (let i = 0; i < 5; i++) expect((await signIn(servers[i % 3], 'bob', `wrong-${i}`)).status).toBe(401);
    // Now even the right password is refused, on an instance that saw only one of the failures.
    for (const s of servers) {
      const res = await request(s, 'POST', '/login', { form: { username: 'bob', password: PASSWORD } });
      expect(res.status).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('eight writers over three instances execute toolkits while instances are SIGKILLed and restarted: every acknowledged run audited, one chain', async () => {
    servers ??= await Promise.all([0, 1, 2].map(() => startServer(dir(), envFor(url))));
    const upstream = await startUpstream();
    try {
      expect((await cli(dirs[0], ['user', 'create', 'carol'], { input: `${PASSWORD}\n`, env: envFor(url) })).code).toBe(0);
      const token = (await cli(dirs[0], ['token', 'create', 'carol'], { env: envFor(url) })).stdout.trim();
      const auth = { Authorization: `Bearer ${token}` };
      const cred = await request(servers[0], 'POST', '/api/v1/workspaces/private/credentials', {
        headers: auth,
        body: { name: 'Upstream', credential_id: 'upstream', type: 'http_bearer', fields: { base_url: upstream.url }, secrets: { token: 'upstream-token' } },
      });
      expect(cred.status, cred.body).toBe(201);
      const toolkit = await request(servers[1], 'POST', '/api/v1/workspaces/private/toolkits', {
        headers: auth,
        body: { name: 'Upstream', type: 'http', settings: {}, credential: { scope: 'private', credential_id: 'upstream' } },
      });
      expect(toolkit.status, toolkit.body).toBe(201);
      const before = await count(url, `SELECT count(*) AS n FROM audit_events WHERE action = 'toolkit.execute'`);

      let acked = 0;
      let stop = false;
      const writer = async (w: number) => {
        while (!stop) {
          const s = servers[w % 3];
          try {
            const res = await request(s, 'POST', `/api/v1/workspaces/private/toolkits/${toolkit.json.id}/execute`, { headers: auth, body: { tool: 'request', input: { method: 'GET', path: `/w${w}` } } });
            if (res.status === 200 && res.json?.result?.status === 200) acked++;
            else if (res.status !== 503) throw new Error(`execute answered ${res.status}: ${res.body}`);
          } catch (err) {
            if (!/ECONNRESET|ECONNREFUSED|socket hang up/.test(String(err))) throw err;
            await sleep(20); // that instance is down: try again (it comes back on a new port)
          }
        }
      };
      const writing = Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
      for (let round = 0; round < 4; round++) {
        const victim = round % 3;
        const seen = acked;
        for (const until = Date.now() + 15_000; acked < seen + 10 && Date.now() < until; ) await sleep(10);
        await sleep(Math.floor(Math.random() * 200));
        const exit = await servers[victim].kill('SIGKILL');
        expect(exit.signal).toBe('SIGKILL');
        servers[victim] = await startServer(dir(), envFor(url));
      }
      for (const until = Date.now() + 10_000; acked < 40 && Date.now() < until; ) await sleep(10);
      stop = true;
      await writing;

      const events = (await count(url, `SELECT count(*) AS n FROM audit_events WHERE action = 'toolkit.execute'`)) - before;
      expect(acked).toBeGreaterThan(0);
      expect(events).toBeGreaterThanOrEqual(acked);
      // A run killed between its call and its commit was never acknowledged: at most the eight in
      // flight at each of the four kills reached the service without an event.
      expect(upstream.served()).toBeLessThanOrEqual(events + 8 * 4);
      // One chain: ids without gaps, every prev_hash used once (the unique index), and it verifies.
      expect(await count(url, 'SELECT count(*) - count(DISTINCT prev_hash) AS n FROM audit_events')).toBe(0);
      expect(await count(url, 'SELECT max(id) - count(*) AS n FROM audit_events')).toBe(0);
      const verify = await cli(dirs[0], ['audit', 'verify'], { env: envFor(url) });
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/^ok \d+\n$/);
    } finally {
      await upstream.close();
    }
  }, 120_000);

  it('the database going away mid-load answers 503 (pages, API, /healthz) and comes back without a restart', async () => {
    const proxy = await startProxy(new URL(PG_URL!));
    try {
      const s = await startServer(dir(), envFor(proxy.url(url)));
      expect((await cli(dirs[0], ['user', 'create', 'dora'], { input: `${PASSWORD}\n`, env: envFor(url) })).code).toBe(0);
      const token = (await cli(dirs[0], ['token', 'create', 'dora'], { env: envFor(url) })).stdout.trim();
      const auth = { Authorization: `Bearer ${token}` };
      const create = (id: string) =>
        request(s, 'POST', '/api/v1/workspaces/private/credentials', { headers: auth, body: { name: id, credential_id: id, type: 'http_bearer', fields: { base_url: 'https://api.example.com' }, secrets: { token: `t-${id}` } } });
      expect((await create('before')).status).toBe(201);

      proxy.cut();
      expect(await request(s, 'GET', '/healthz')).toMatchObject({ status: 503, json: { ok: false } });
      const api = await create('during');
      expect(api.status).toBe(503);
      expect(api.json).toMatchObject({ error: 'database_unavailable' });
      const page = await request(s, 'GET', '/login');
      expect([200, 503]).toContain(page.status); // the sign-in page needs no database unless sign-up state is asked
      const signedIn = await request(s, 'GET', '/settings', { headers: { Cookie: 'latchkey_session=x' } });
      expect(signedIn.status).toBe(503);
      expect(signedIn.body).toContain('The database cannot be reached right now');
      expect(signedIn.body).not.toMatch(/\bat \w+ \(|node_modules|ECONNREFUSED/);

      proxy.restore();
      let health = 0;
      for (const until = Date.now() + 15_000; health !== 200 && Date.now() < until; await sleep(100)) health = (await request(s, 'GET', '/healthz')).status;
      expect(health).toBe(200);
      expect((await create('after')).status).toBe(201);
      // Nothing half-written: no credential without its audit event.
      expect(await count(url, `SELECT count(*) AS n FROM credentials c WHERE NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.action = 'credential.create' AND a.target = 'credential:' || c.credential_id)`)).toBe(0);
      expect(await count(url, `SELECT count(*) AS n FROM credentials WHERE credential_id = 'during'`)).toBe(0);
      expect(s.child.exitCode).toBeNull();
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('start refuses, with one line and no password in it, an unreachable database, a wrong password and a database of a newer schema', async () => {
    const unreachable = new URL(url);
    unreachable.port = '1';
    const wrong = new URL(url);
    wrong.password = 'not-the-password-4711';
    for (const [target, message] of [
      [unreachable.toString(), /cannot reach PostgreSQL at 127\.0\.0\.1:1\//],
      [wrong.toString(), /cannot sign in to PostgreSQL/],
    ] as const) {
      const s = await startServer(dir(), envFor(target), { waitHealthy: false });
      const exit = await s.exited;
      expect(exit.code).not.toBe(0);
      const lines = s.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(s.stderr()).not.toContain('not-the-password-4711');
    }
    const newer = await freshPgDatabase();
    drops.push(newer.drop);
    const c = new pg.Client({ connectionString: newer.url });
    await c.connect();
    await c.query(`INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('from-the-future', 99999999999999)`);
    await c.end();
    const s = await startServer(dir(), envFor(newer.url), { waitHealthy: false });
    expect((await s.exited).code).not.toBe(0);
    expect(s.stderr()).toMatch(/migrated by a newer version of Latchkey/);
  }, 60_000);

  it('the README drill: pg_dump, pg_restore into a new database, and audit verify says ok there', async () => {
    const source = await freshPgDatabase();
    const target = await freshPgDatabase();
    drops.push(source.drop, target.drop);
    const env = envFor(source.url);
    expect((await cli(dirs[0], ['user', 'create', 'erin'], { input: `${PASSWORD}\n`, env })).code).toBe(0);
    const token = (await cli(dirs[0], ['token', 'create', 'erin'], { env })).stdout.trim();
    const s = await startServer(dir(), env);
    const made = await request(s, 'POST', '/api/v1/workspaces/private/credentials', {
      headers: { Authorization: `Bearer ${token}` },
      body: { name: 'Drill', credential_id: 'drill', type: 'http_bearer', fields: { base_url: 'https://api.example.com' }, secrets: { token: 'drill-secret' } },
    });
    expect(made.status).toBe(201);
    await s.kill('SIGTERM');

    const file = path.join(dir(), 'latchkey.dump');
    const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: 'pipe', env: { ...process.env, PGCONNECT_TIMEOUT: '5' } });
    run('pg_dump', ['--format=custom', '--file', file, source.url]);
    // The restore target is a new, empty database (the template's migrations are dropped first).
    const c = new pg.Client({ connectionString: target.url });
    await c.connect();
    await c.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SCHEMA IF EXISTS drizzle CASCADE;');
    await c.end();
    run('pg_restore', ['--no-owner', '--dbname', target.url, file]);

    const verify = await cli(dirs[0], ['audit', 'verify'], { env: envFor(target.url) });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok \d+\n$/);
    // The restored database serves, with the same key: the token works and the credential is there.
    const restored = await startServer(dir(), envFor(target.url));
    const list = await request(restored, 'GET', '/api/v1/workspaces/private/credentials', { headers: { Authorization: `Bearer ${token}` } });
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.json)).toContain('"drill"');
    expect(JSON.stringify(list.json)).not.toContain('drill-secret');
  }, 60_000);
});

describe('DATABASE_URL settings checked at start (no database needed)', () => {
  afterAll(killChildren);
  for (const [name, env, message] of [
    ['without SECRET_KEY', { DATABASE_URL: 'postgres://latchkey@127.0.0.1:1/latchkey' }, /^latchkey: SECRET_KEY is required with DATABASE_URL/],
    ['with another scheme', { DATABASE_URL: 'mysql://latchkey@127.0.0.1/latchkey', SECRET_KEY: generateKey() }, /^latchkey: DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//],
  ] as const) {
    it(`refuses to start ${name}: one line, non-zero exit, no key file written`, async () => {
      const d = tempDir('latchkey-multi-config-');
      try {
        const s = await startServer(d, { ...env }, { waitHealthy: false });
        expect((await s.exited).code).not.toBe(0);
        const lines = s.stderr().trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(message);
        expect(fs.readdirSync(d)).toEqual([]);
      } finally {
        fs.rmSync(d, { recursive: true, force: true });
      }
    });
  }
});
