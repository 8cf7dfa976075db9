// Durability (SECURITY.md): the real server, killed with SIGKILL at a random moment while API
// writes are in flight, many times in a row on the same DATA_DIR. Afterwards the database passes
// integrity_check, the audit chain verifies (`audit verify`), and every write that was
// acknowledged with a 2xx is there: each acknowledged credential decrypts to its secret, and each
// acknowledged toolkit run has its audit event.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { generateKey, parseKeyRing } from '../../src/crypto/keyring';
import { loadCredentialForUse } from '../../src/store/credentials';
import { getPrivateWorkspace } from '../../src/store/workspaces';
import { createTestApp } from '../helpers/app';
import { ENGINE, freshPgDatabase } from '../helpers/database';
import { cli, killChildren, request, sleep, startServer, tempDir, type Server } from './helpers';

const ROUNDS = 8;
const WRITERS = 6;
const dir = tempDir('latchkey-crash-');
let dropDb: (() => Promise<void>) | undefined;
let upstream: http.Server | undefined;

afterAll(async () => {
  await killChildren();
  await new Promise((r) => (upstream ? upstream.close(r) : r(undefined)));
  fs.rmSync(dir, { recursive: true, force: true });
  await dropDb?.();
});

/** A local service for the toolkit runs: answers every request with 200 JSON. */
async function startUpstream(): Promise<string> {
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => upstream!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(upstream!.address() as AddressInfo).port}`;
}

type Acked = { credentials: Map<string, string>; executions: number; attempted: number };

/** Keeps WRITERS loops sending writes until the server dies; records what got a 2xx. */
function writeUntilDead(s: Server, token: string, round: number, toolkitId: number, acked: Acked): Promise<void> {
  const auth = { Authorization: `Bearer ${token}` };
  const loop = async (w: number) => {
    for (let i = 0; ; i++) {
      const id = `r${round}_w${w}_${i}`;
      const secret = `crash-secret-${id}-${Math.random().toString(36).slice(2)}`;
      acked.attempted++;
      try {
        if (i % 3 === 2) {
          const res = await request(s, 'POST', `/api/v1/workspaces/private/toolkits/${toolkitId}/execute`, { headers: auth, body: { tool: 'request', input: { method: 'GET', path: `/${id}` } } });
          if (res.status === 200 && res.json?.result?.status === 200) acked.executions++;
          else throw new Error(`execute answered ${res.status}: ${res.body}`);
        } else {
          const res = await request(s, 'POST', '/api/v1/workspaces/private/credentials', {
            headers: auth,
            body: { name: `Crash ${id}`, credential_id: id, type: 'http_bearer', fields: { base_url: 'https://api.example.com' }, secrets: { token: secret } },
          });
          if (res.status === 201) acked.credentials.set(id, secret);
          else throw new Error(`create answered ${res.status}: ${res.body}`);
        }
      } catch (err) {
        if (s.child.exitCode !== null || s.child.signalCode !== null || /ECONNRESET|ECONNREFUSED|socket hang up/.test(String(err))) return;
        throw err;
      }
    }
  };
  return Promise.all(Array.from({ length: WRITERS }, (_, w) => loop(w))).then(() => {});
}

it(
  `survives ${ROUNDS} SIGKILLs in the middle of writes: integrity_check ok, audit chain verifies, every acknowledged write present`,
  async () => {
    const started = Date.now();
    const key = generateKey();
    const ring = parseKeyRing(key);
    const upstreamUrl = await startUpstream();
    // PostgreSQL (with LATCHKEY_TEST_DATABASE_URL): one fresh database for every start, by DATABASE_URL.
    const pgDb = ENGINE === 'pg' ? await freshPgDatabase() : undefined;
    dropDb = pgDb?.drop;
    const dbEnv: Record<string, string> = pgDb ? { DATABASE_URL: pgDb.url } : {};

    // Before the first start: a user, a token, a credential and a toolkit to run.
    const setup = await createTestApp({ dir, ring, databaseUrl: pgDb?.url });
    const alice = await setup.user('alice');
    expect((await setup.api('POST', '/workspaces/private/credentials', alice.token, { name: 'Upstream', credential_id: 'upstream', type: 'http_bearer', fields: { base_url: upstreamUrl }, secrets: { token: 'upstream-token' } })).status).toBe(201);
    const toolkit = await setup.api('POST', '/workspaces/private/toolkits', alice.token, { name: 'Upstream', type: 'http', settings: {}, credential: { scope: 'private', credential_id: 'upstream' } });
    expect(toolkit.status, toolkit.text).toBe(201);
    await setup.close();

    const acked: Acked = { credentials: new Map(), executions: 0, attempted: 0 };
    const delays: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const s = await startServer(dir, { ...dbEnv, SECRET_KEY: key, LOG_LEVEL: 'warn', OUTBOUND_ALLOW_HOSTS: '127.0.0.1' });
      const before = acked.credentials.size + acked.executions;
      const writing = writeUntilDead(s, alice.token, round, toolkit.json.id, acked);
      // Kill only once this round has acknowledged a write (a loaded machine may take a while to
      // serve the first one), then at a random moment among the writes that follow.
      for (const until = Date.now() + 15_000; acked.credentials.size + acked.executions === before && Date.now() < until; ) await sleep(5);
      const delay = Math.floor(Math.random() * 300);
      delays.push(delay);
      await sleep(delay);
      const exit = await s.kill('SIGKILL');
      expect(exit.signal).toBe('SIGKILL');
      await writing;
      // Every start after a crash ran quick_check on the crashed file and came up healthy.
      expect(s.stderr(), `round ${round}`).toBe('');
      expect(acked.credentials.size + acked.executions, `round ${round} (delay ${delay} ms) acknowledged nothing`).toBeGreaterThan(before);
    }
    if (!pgDb) {
      // The last crash left its WAL behind: what follows reads through crash recovery.
      expect(fs.existsSync(path.join(dir, 'latchkey.db-wal'))).toBe(true);
      const raw = new Database(path.join(dir, 'latchkey.db'));
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(raw.pragma('foreign_key_check')).toEqual([]);
      raw.close();
    }

    const verify = await cli(dir, ['audit', 'verify'], { env: { ...dbEnv, SECRET_KEY: key } });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok \d+\n$/);

    // Every acknowledged credential is there, with its audit event, and opens to its secret.
    const app = await createTestApp({ dir, ring, databaseUrl: pgDb?.url });
    const executeEvents = (await app.sqlOne<{ n: number }>(`SELECT count(*) AS n FROM audit_events WHERE action = 'toolkit.execute'`))!.n;
    const createEvents = new Set((await app.sql<{ target: string }>(`SELECT target FROM audit_events WHERE action = 'credential.create'`)).map((r) => r.target));
    const rows = (await app.sql<{ id: string }>('SELECT credential_id AS id FROM credentials')).map((r) => r.id);
    const ws = await getPrivateWorkspace(app.deps.store, alice.id);
    for (const [id, secret] of acked.credentials) {
      const loaded = await loadCredentialForUse(app.deps.store, ws, id);
      expect(loaded?.secrets, id).toEqual({ token: secret });
      expect(createEvents.has(`credential:${id}`), id).toBe(true);
    }
    // A change and its event are one transaction: no credential without its event (acknowledged or not).
    for (const id of rows) expect(createEvents.has(`credential:${id}`), id).toBe(true);
    expect(executeEvents).toBeGreaterThanOrEqual(acked.executions);
    await app.close();

    console.log(
      `crash test (${ENGINE}): ${ROUNDS} rounds (kill after ${delays.join(', ')} ms), ${acked.attempted} writes sent, ` +
        `${acked.credentials.size} credentials and ${acked.executions} runs acknowledged, ${rows.length - 1} credentials stored, in ${Date.now() - started} ms`,
    );
  },
  90_000,
);
