// `keys rotate` killed with SIGKILL halfway through rewrapping 3000 credentials, then run again:
// it resumes, finishes, drops the old key from the key file, and every secret (and the audit key)
// opens with the new key alone; the audit chain still verifies.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { afterAll, expect, it } from 'vitest';
import { credentials, dataKeys, workspaces } from '../../db/schema';
import { createDataKey, openSecrets, sealSecrets, unwrapDataKey, wrapDataKey } from '../../src/crypto/envelope';
import { generateKey, parseKeyRing, writeKeyFile, type KeyRing } from '../../src/crypto/keyring';
import { openDatabase } from '../../src/store/db';
import { AUDIT_KEY_BINDING, credentialBinding } from '../../src/store/keys';
import { createTestApp } from '../helpers/app';
import { ENGINE } from '../helpers/database';
import { cli, killChildren, sleep, tempDir } from './helpers';

const COUNT = 3000;
const dir = tempDir('latchkey-rotate-');
const dbFile = path.join(dir, 'latchkey.db');
const keyFile = path.join(dir, 'secret.key');

afterAll(async () => {
  await killChildren();
  fs.rmSync(dir, { recursive: true, force: true });
});

type Seeded = { id: number; secret: string; ws: { kind: 'private' | 'project'; id: number; ownerUserId: string | null } };

/** Stores COUNT credentials the way src/store/credentials.ts does, half private, half in a project. */
function seed(ring: KeyRing, userId: string): Seeded[] {
  const db = openDatabase(dbFile);
  try {
    const priv = db.select().from(workspaces).where(eq(workspaces.ownerUserId, userId)).get()!;
    const project = db.insert(workspaces).values({ kind: 'project', slug: 'ops', name: 'Ops' }).returning().get();
    return db.transaction((tx) => {
      const out: Seeded[] = [];
      for (let i = 0; i < COUNT; i++) {
        const w = i % 2 === 0 ? priv : project;
        const ws = { kind: w.kind, id: w.id, ownerUserId: w.ownerUserId };
        const row = tx.insert(credentials).values({ workspaceId: w.id, credentialId: `cred_${i}`, name: `Cred ${i}`, type: 'http_bearer', createdBy: userId }).returning().get();
        const binding = credentialBinding(row.id, ws);
        const dk = createDataKey();
        const secret = `rotate-secret-${i}`;
        tx.update(credentials).set({ wrappedKey: wrapDataKey(ring, dk, binding), secretBlob: sealSecrets(dk, { token: secret }, binding), keyId: ring.active.id }).where(eq(credentials.id, row.id)).run();
        out.push({ id: row.id, secret, ws });
      }
      return out;
    });
  } finally {
    db.$client.close();
  }
}

// A rotation with the key file in DATA_DIR on the SQLite file (with SECRET_KEY on PostgreSQL: test/cli).
it.skipIf(ENGINE === 'pg')(
  'a rotation killed halfway, then run again, ends with every secret opening under the new key alone',
  async () => {
    const started = Date.now();
    const old = parseKeyRing(generateKey());
    writeKeyFile(dir, old);
    const setup = await createTestApp({ dir, ring: old });
    const alice = await setup.user('alice');
    await setup.close();
    const seeded = seed(old, alice.id);

    // Kill it once it has rewrapped some rows but not all.
    const watcher = new Database(dbFile);
    const onOld = watcher.prepare('SELECT count(*) AS n FROM credentials WHERE key_id = ?');
    let rewrappedAtKill = -1;
    const first = await cli(dir, ['keys', 'rotate'], {
      onSpawn: async (child) => {
        const deadline = Date.now() + 30_000;
        while (child.exitCode === null && Date.now() < deadline) {
          const rewrapped = COUNT - (onOld.get(old.active.id) as { n: number }).n;
          if (rewrapped >= 100) {
            child.kill('SIGKILL'); // only the child this test started
            rewrappedAtKill = rewrapped;
            return;
          }
          await sleep(2);
        }
      },
    });
    expect(first.signal, `the rotation was not caught halfway: ${first.stdout}${first.stderr}`).toBe('SIGKILL');
    const after = COUNT - (onOld.get(old.active.id) as { n: number }).n;
    watcher.close();
    expect(after).toBeGreaterThan(0);
    expect(after, 'every row was rewrapped before the kill').toBeLessThan(COUNT);

    // The new key went into the key file before anything was wrapped with it; the old key is still there.
    const midway = parseKeyRing(fs.readFileSync(keyFile, 'utf8'));
    expect(midway.keys.map((k) => k.id)).toEqual([midway.active.id, old.active.id]);
    expect(midway.active.id).not.toBe(old.active.id);

    const second = await cli(dir, ['keys', 'rotate']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`resuming the rotation to key ${midway.active.id}`));
    expect(second.stdout).toMatch(/older keys are no longer needed; removed/);

    // The key file now holds the new key alone, and it opens everything.
    const final = parseKeyRing(fs.readFileSync(keyFile, 'utf8'));
    expect(final.keys.map((k) => k.id)).toEqual([midway.active.id]);
    const db = openDatabase(dbFile);
    try {
      for (const s of seeded) {
        const row = db.select().from(credentials).where(eq(credentials.id, s.id)).get()!;
        expect(row.keyId).toBe(final.active.id);
        const binding = credentialBinding(s.id, s.ws);
        expect(openSecrets(unwrapDataKey(final, row.wrappedKey!, binding), row.secretBlob!, binding)).toEqual({ token: s.secret });
      }
      const audit = db.select().from(dataKeys).where(eq(dataKeys.purpose, 'audit')).get()!;
      expect(audit.keyId).toBe(final.active.id);
      expect(unwrapDataKey(final, audit.wrappedKey, AUDIT_KEY_BINDING)).toHaveLength(32);
    } finally {
      db.$client.close();
    }
    const verify = await cli(dir, ['audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok \d+\n$/);
    console.log(`rotation crash test: killed after ${rewrappedAtKill} of ${COUNT} rewrapped, resumed and finished, in ${Date.now() - started} ms`);
  },
  90_000,
);
