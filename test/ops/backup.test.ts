// `backup` (SQLite online backup, in the CLI process) taken while the running server writes:
// the copy, put in place as a new DATA_DIR's latchkey.db, passes integrity_check and
// `audit verify`, holds every write acknowledged before the backup started, and each of its
// credentials decrypts, with the same key ring, to the secret that was sent.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { generateKey, parseKeyRing } from '../../src/crypto/keyring';
import { verifyAuditChain } from '../../src/store/audit';
import { loadCredentialForUse } from '../../src/store/credentials';
import { getPrivateWorkspace } from '../../src/store/workspaces';
import { createTestApp } from '../helpers/app';
import { ENGINE } from '../helpers/database';
import { cli, killChildren, request, sleep, startServer, tempDir, type Server } from './helpers';

const dir = tempDir('latchkey-backup-');
const restored = tempDir('latchkey-restored-');
const elsewhere = tempDir('latchkey-backups-');
afterAll(async () => {
  await killChildren();
  for (const d of [dir, restored, elsewhere]) fs.rmSync(d, { recursive: true, force: true });
});

// The SQLite file's online backup (PostgreSQL: pg_dump; `backup` exits 2 there, see test/cli).
it.skipIf(ENGINE === 'pg')(
  'a backup taken while the server writes restores to a database that checks, verifies and decrypts',
  async () => {
    const started = Date.now();
    const key = generateKey();
    const ring = parseKeyRing(key);
    const setup = await createTestApp({ dir, ring });
    const alice = await setup.user('alice');
    await setup.close();

    const s: Server = await startServer(dir, { SECRET_KEY: key, LOG_LEVEL: 'warn' });
    const sent = new Map<string, string>();
    const acked = new Set<string>();
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const id = `b_w${w}_${i}`;
        const secret = `backup-secret-${id}-${Math.random().toString(36).slice(2)}`;
        sent.set(id, secret);
        const res = await request(s, 'POST', '/api/v1/workspaces/private/credentials', {
          headers: { Authorization: `Bearer ${alice.token}` },
          body: { name: `Backup ${id}`, credential_id: id, type: 'http_bearer', fields: { base_url: 'https://api.example.com' }, secrets: { token: secret } },
        });
        expect(res.status, res.body).toBe(201);
        acked.add(id);
      }
    };
    const writers = Promise.all([0, 1, 2, 3].map(writer));
    await sleep(300);

    const ackedBefore = new Set(acked);
    const writtenBefore = acked.size;
    const file = path.join(elsewhere, 'latchkey-backup.db');
    const backup = await cli(dir, ['backup', file], { env: { SECRET_KEY: key } });
    const writtenDuring = acked.size - writtenBefore;
    await sleep(100);
    stop = true;
    await writers;
    expect((await s.kill('SIGTERM')).code).toBe(0);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout.trim()).toBe(file);
    expect(writtenDuring, 'no write happened while the backup ran').toBeGreaterThan(0);

    // Restore: the copy becomes a new DATA_DIR's database (no -wal or -shm next to it).
    const restoredDb = path.join(restored, 'latchkey.db');
    fs.copyFileSync(file, restoredDb);
    const raw = new Database(restoredDb);
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();

    const verify = await cli(restored, ['audit', 'verify'], { env: { SECRET_KEY: key } });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok \d+\n$/);

    const app = await createTestApp({ dir: restored, ring });
    try {
      expect(await verifyAuditChain(app.deps.store)).toMatchObject({ ok: true });
      const ws = await getPrivateWorkspace(app.deps.store, alice.id);
      const ids = (app.db.$client.prepare('SELECT credential_id AS id FROM credentials').all() as { id: string }[]).map((r) => r.id);
      for (const id of ackedBefore) expect(ids, id).toContain(id);
      for (const id of ids) {
        const loaded = await loadCredentialForUse(app.deps.store, ws, id);
        expect(loaded?.secrets, id).toEqual({ token: sent.get(id) });
      }
      console.log(
        `backup test: ${acked.size} writes acknowledged (${writtenDuring} while the backup ran); the copy holds ${ids.length} credentials, ` +
          `all decrypting, in ${Date.now() - started} ms`,
      );
    } finally {
      await app.close();
    }
  },
  60_000,
);
