// PostgreSQL itself stopped and started under load (CONTRACT §5): while it is down /healthz
// answers 503 and writes a clear 503; once it is back both answer 200 again without restarting
// Latchkey, and nothing acknowledged is lost or half-written. It stops a real server, so it runs
// only when told how, on its own (CI runs it after the other suites):
//   LATCHKEY_TEST_PG_RESTART_URL    a database URL on the server to stop (a superuser role)
//   LATCHKEY_TEST_PG_STOP / _START  shell commands that stop and start that server
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { generateKey } from '../../src/crypto/keyring';
import { cli, killChildren, request, sleep, startServer, tempDir } from '../ops/helpers';

const URL_ = process.env.LATCHKEY_TEST_PG_RESTART_URL;
const STOP = process.env.LATCHKEY_TEST_PG_STOP;
const START = process.env.LATCHKEY_TEST_PG_START;
const PASSWORD = 'correct horse battery staple';
const dir = tempDir('latchkey-pg-restart-');

afterAll(async () => {
  await killChildren();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function query(url: string, text: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

it.skipIf(!URL_ || !STOP || !START)(
  'PostgreSQL stopped and started mid-load: 503 while it is down, 200 after, nothing acknowledged lost',
  async () => {
    // A database of its own on that server.
    const name = `lk_restart_${process.pid}`;
    const admin = new URL(URL_!);
    await query(admin.toString(), `DROP DATABASE IF EXISTS ${name}`);
    await query(admin.toString(), `CREATE DATABASE ${name}`);
    const dbUrl = new URL(URL_!);
    dbUrl.pathname = `/${name}`;
    let stopped = false; // so a failure midway still starts the server again for whatever runs next
    const env = { DATABASE_URL: dbUrl.toString(), SECRET_KEY: generateKey(), LOG_LEVEL: 'warn' };
    try {
      const s = await startServer(dir, env);
      expect((await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n`, env })).code).toBe(0);
      const token = (await cli(dir, ['token', 'create', 'alice'], { env })).stdout.trim();
      const auth = { Authorization: `Bearer ${token}` };

      const acked = new Set<string>();
      const statuses = new Map<number, number>();
      let stop = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const id = `w${w}_${i}`;
          try {
            const res = await request(s, 'POST', '/api/v1/workspaces/private/credentials', {
              headers: auth,
              body: { name: id, credential_id: id, type: 'http_bearer', fields: { base_url: 'https://api.example.com' }, secrets: { token: `secret-${id}` } },
            });
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status === 201) acked.add(id);
            else if (res.status === 503) {
              expect(res.json).toMatchObject({ error: 'database_unavailable' });
              await sleep(50);
            } else throw new Error(`create answered ${res.status}: ${res.body}`);
          } catch (err) {
            if (s.child.exitCode !== null || s.child.signalCode !== null) throw new Error(`the server exited (${s.child.exitCode ?? s.child.signalCode}):\n${s.stdout()}\n${s.stderr()}`);
            if (!/ECONNRESET|socket hang up/.test(String(err))) throw err;
          }
        }
      };
      const writing = Promise.all([0, 1, 2, 3].map(writer));
      for (const until = Date.now() + 10_000; acked.size < 20 && Date.now() < until; ) await sleep(20);

      execSync(STOP!, { stdio: 'pipe' });
      stopped = true;
      let down = 0;
      for (const until = Date.now() + 15_000; down !== 503 && Date.now() < until; await sleep(100)) down = (await request(s, 'GET', '/healthz')).status;
      expect(down).toBe(503);
      await sleep(500);
      execSync(START!, { stdio: 'pipe' });
      stopped = false;

      let up = 0;
      for (const until = Date.now() + 30_000; up !== 200 && Date.now() < until; await sleep(200)) up = (await request(s, 'GET', '/healthz')).status;
      expect(up).toBe(200);
      const before = acked.size;
      for (const until = Date.now() + 15_000; acked.size < before + 20 && Date.now() < until; ) await sleep(20);
      stop = true;
      await writing;
      expect(acked.size).toBeGreaterThan(before);
      expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
      expect(s.child.exitCode).toBeNull();
      expect(s.stderr()).not.toMatch(/\n\s+at /); // no stack trace in the log

      // Every acknowledged credential is there, each row has its audit event, and the chain verifies.
      const ids = new Set((await query(dbUrl.toString(), 'SELECT credential_id AS id FROM credentials')).map((r) => r.id as string));
      for (const id of acked) expect(ids.has(id), id).toBe(true);
      const orphans = await query(
        dbUrl.toString(),
        `SELECT count(*)::int AS n FROM credentials c WHERE NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.action = 'credential.create' AND a.target = 'credential:' || c.credential_id)`,
      );
      expect(orphans[0].n).toBe(0);
      const verify = await cli(dir, ['audit', 'verify'], { env });
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/^ok \d+\n$/);
    } finally {
      if (stopped) execSync(START!, { stdio: 'pipe' });
      await killChildren();
      await query(admin.toString(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    }
  },
  120_000,
);
