// SIGTERM on the real server process (CONTRACT.md §1): stop accepting connections, finish the
// requests in flight, close the database, exit 0. On SQLite (a fresh DATA_DIR), or on a fresh
// PostgreSQL database with LATCHKEY_TEST_DATABASE_URL (DATABASE_URL and SECRET_KEY).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKey } from '../../src/crypto/keyring';
import { PASSWORD } from '../helpers/app';
import { ENGINE, freshPgDatabase } from '../helpers/database';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TIMEOUT = 60_000;

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Server = {
  child: ChildProcess;
  port: number;
  dir: string;
  /** PostgreSQL: the server's database, and how to drop it. */
  pg?: { url: string; drop(): Promise<void> };
  origin: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

const started: Server[] = [];

/** Starts `node --import tsx src/server.ts` on a free port and a fresh DATA_DIR; resolves once /healthz answers. */
async function startServer(): Promise<Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-shutdown-'));
  const port = await freePort();
  // A clean environment: nothing from the developer's shell (SECRET_KEY, BASE_URL…) leaks in.
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' };
  const database = ENGINE === 'pg' ? await freshPgDatabase() : undefined;
  if (database) Object.assign(env, { DATABASE_URL: database.url, SECRET_KEY: generateKey() });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const server: Server = { child, port, dir, pg: database, origin: `http://127.0.0.1:${port}`, output: () => out, exited };
  started.push(server);

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${out}`);
    try {
      const res = await request(server, { method: 'GET', path: '/healthz', agent: false });
      if (res.status === 200 && JSON.parse(res.body).ok === true) return server;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`server did not become healthy:\n${out}`);
    await sleep(100);
  }
}

afterEach(async () => {
  for (const s of started.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) {
      s.child.kill('SIGKILL'); // only the child this file started, by its handle
      await s.exited;
    }
    fs.rmSync(s.dir, { recursive: true, force: true });
    await s.pg?.drop();
  }
});

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string };

/** One HTTP request; `body` may be given in parts with pauses, so it is still in flight. */
function request(s: Server, o: { method: string; path: string; headers?: Record<string, string>; body?: string; agent?: http.Agent | false }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, method: o.method, path: o.path, headers: o.headers, agent: o.agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

function formHeaders(s: Server, body: string) {
  return {
    'Content-Type': 'application/x-www-form-urlencoded',
    'Content-Length': String(Buffer.byteLength(body)),
    Origin: s.origin,
    'Sec-Fetch-Site': 'same-origin',
  };
}

/** Resolves with the error code when a new TCP connection to the port fails, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve('connected');
    });
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

/** Checks the database after the process is gone. SQLite: the file is intact, and no WAL was left behind by a clean close. */
async function checkDatabase(s: Server) {
  if (s.pg) {
    const c = new pg.Client({ connectionString: s.pg.url });
    await c.connect();
    try {
      return {
        audit: (await c.query<{ action: string; actor: string }>('SELECT action, actor FROM audit_events ORDER BY id')).rows,
        sessions: (await c.query<{ id: string }>('SELECT id FROM sessions')).rows,
      };
    } finally {
      await c.end();
    }
  }
  const file = path.join(s.dir, 'latchkey.db');
  expect(fs.existsSync(file)).toBe(true);
  // A clean close checkpoints the WAL into the main file and removes it.
  expect(fs.existsSync(`${file}-wal`), 'WAL file left behind: the database was not closed').toBe(false);
  const db = new Database(file, { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    return {
      audit: db.prepare('SELECT action, actor FROM audit_events ORDER BY id').all() as { action: string; actor: string }[],
      sessions: db.prepare('SELECT id FROM sessions').all() as { id: string }[],
    };
  } finally {
    db.close();
  }
}

/** Signs alice up, then opens a keep-alive connection and sends a sign-in over it in two parts:
 * the headers and half of the body before SIGTERM, the rest after. The server holds the request
 * (not an idle connection) when the signal arrives. Also checks that, while the request is
 * pending, the port refuses new connections. */
async function signInAcrossSigterm(s: Server, agent: http.Agent): Promise<Answer> {
  const signup = `username=alice&password=${encodeURIComponent(PASSWORD)}`;
  const made = await request(s, { method: 'POST', path: '/signup', headers: formHeaders(s, signup), body: signup, agent: false });
  expect(made.status, made.body).toBe(303);
  expect((await request(s, { method: 'GET', path: '/login', agent })).status).toBe(200); // opens the connection

  const body = `username=alice&password=${encodeURIComponent(PASSWORD)}&next=%2Fsettings`;
  const cut = Math.floor(body.length / 2);
  let refused = '';
  const answer = await new Promise<Answer>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, method: 'POST', path: '/login', headers: formHeaders(s, body), agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.flushHeaders();
    req.write(body.slice(0, cut));
    setTimeout(() => {
      s.child.kill('SIGTERM');
      setTimeout(async () => {
        refused = await tryConnect(s.port);
        req.end(body.slice(cut));
      }, 500);
    }, 600);
  });
  // The listening socket was closed: nothing new got in while the old request was pending.
  expect(refused).toBe('ECONNREFUSED');
  return answer;
}

function sessionCookie(res: Answer): string | undefined {
  return (res.headers['set-cookie'] ?? []).find((l) => l.startsWith('latchkey_session=') && !l.startsWith('latchkey_session=;'));
}

describe('SIGTERM', () => {
  it(
    'finishes a request in flight with a normal answer, refuses new connections, closes the database and exits 0',
    async () => {
      const s = await startServer();
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const res = await signInAcrossSigterm(s, agent);
      expect(res.status, res.body).toBe(303);
      expect(res.headers.location).toBe('/settings');
      const cookie = sessionCookie(res);
      expect(cookie, JSON.stringify(res.headers)).toBeDefined();

      agent.destroy(); // see the next test: the server itself does not close this connection promptly
      const { code, signal } = await s.exited;
      expect({ code, signal }, s.output()).toEqual({ code: 0, signal: null });

      const lines = s
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; level: string });
      const msgs = lines.map((l) => l.msg);
      expect(msgs).toContain('shutting down');
      expect(msgs.indexOf('stopped')).toBeGreaterThan(msgs.indexOf('shutting down'));
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);

      // The acknowledged sign-in is in the database, which closed cleanly.
      const { audit, sessions } = await checkDatabase(s);
      expect(audit.map((e) => e.action)).toEqual(['user.signup', 'user.login']);
      const token = cookie!.split(';')[0].split('=')[1];
      expect(sessions.map((r) => r.id)).toContain(createHash('sha256').update(token).digest('hex'));
    },
    TIMEOUT,
  );

  // A keep-alive connection busy at SIGTERM must not hold the shutdown up: its answer says
  // Connection: close.
  it(
    'closes the keep-alive connection of a request in flight right after its answer, and exits promptly',
    async () => {
      const s = await startServer();
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const res = await signInAcrossSigterm(s, agent);
      const answeredAt = Date.now();
      expect(res.status).toBe(303);
      expect(res.headers.connection).toBe('close');
      const { code } = await s.exited;
      expect(code).toBe(0);
      expect(Date.now() - answeredAt).toBeLessThan(2000);
      agent.destroy();
    },
    TIMEOUT,
  );

  it(
    'exits promptly with an idle keep-alive connection open',
    async () => {
      const s = await startServer();
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      expect((await request(s, { method: 'GET', path: '/login', agent })).status).toBe(303); // no users yet: to /signup
      const sentAt = Date.now();
      s.child.kill('SIGTERM');
      const { code, signal } = await s.exited;
      agent.destroy();
      expect({ code, signal }, s.output()).toEqual({ code: 0, signal: null });
      expect(Date.now() - sentAt).toBeLessThan(3000);
      await checkDatabase(s);
    },
    TIMEOUT,
  );
});
