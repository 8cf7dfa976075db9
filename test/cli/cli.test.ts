// The command line, run for real as a child process (`node --import tsx src/cli.ts ...`) against a
// temporary DATA_DIR; the web app (test/helpers/app.ts) shares that directory and key ring where a
// command's effect must be seen through the app.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiTokens, auditEvents, credentials, dataKeys, sessions, users, workspaces } from '../../db/schema';
import { createDataKey, openSecrets, sealSecrets, unwrapDataKey, wrapDataKey } from '../../src/crypto/envelope';
import { generateKey, parseKeyRing, writeKeyFile, type KeyRing } from '../../src/crypto/keyring';
import { openDatabase } from '../../src/store/db';
import { AUDIT_KEY_BINDING, checkKeyRing, credentialBinding } from '../../src/store/keys';
import { rotateDataKeys } from '../../src/store/maintenance';
import { createTestApp, PASSWORD } from '../helpers/app';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SLOW = 60_000;
const NEW_PASSWORD = 'another long passphrase';

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs the CLI with DATA_DIR = dir, no SECRET_KEY unless given, and `input` on standard input. */
function cli(dir: string, args: string[], o: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dir, ...o.env };
  if (!o.env?.SECRET_KEY) delete env.SECRET_KEY;
  for (const k of ['PORT', 'HOST', 'SIGNUP', 'BASE_URL', 'OUTBOUND_ALLOW_HOSTS']) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {}); // the CLI may exit before reading
    child.stdin.end(o.input ?? '');
  });
}

/** Expects a failure: exit 1 and exactly one `latchkey: ...` line on standard error. */
function expectFailure(r: Run, message: RegExp) {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/^latchkey: [^\n]+\n$/);
  expect(r.stderr).toMatch(message);
}

function expectOk(r: Run) {
  expect(r.code, r.stderr).toBe(0);
}

const keyFileOf = (dir: string) => path.join(dir, 'secret.key');
const ringOf = (dir: string) => parseKeyRing(fs.readFileSync(keyFileOf(dir), 'utf8'));
const dbFileOf = (dir: string) => path.join(dir, 'latchkey.db');

/** Opens the database directly (no app) for the length of fn. */
function withDb<T>(dir: string, fn: (db: ReturnType<typeof openDatabase>) => T): T {
  const db = openDatabase(dbFileOf(dir));
  try {
    return fn(db);
  } finally {
    db.$client.close();
  }
}

type Seeded = { id: number; canary: string; ws: { kind: 'private' | 'project'; id: number; ownerUserId: string | null } };

/**
 * Stores `n` credentials the way the credentials code does: a fresh data key wrapped under
 * ring.active and bound to the row, secrets sealed with it. Alternates alice's Private workspace
 * and a project, so both bindings are rotated.
 */
function seedCredentials(dir: string, ring: KeyRing, n: number): Seeded[] {
  return withDb(dir, (db) => {
    const alice = db.select().from(users).where(eq(users.username, 'alice')).get()!;
    const priv = db.select().from(workspaces).where(eq(workspaces.ownerUserId, alice.id)).get()!;
    const project =
      db.select().from(workspaces).where(eq(workspaces.slug, 'ops')).get() ??
      db.insert(workspaces).values({ kind: 'project', slug: 'ops', name: 'Ops' }).returning().get();
    const seeded: Seeded[] = [];
    const start = db.select().from(credentials).all().length;
    for (let i = 0; i < n; i++) {
      const w = i % 2 === 0 ? priv : project;
      const ws = { kind: w.kind, id: w.id, ownerUserId: w.ownerUserId };
      const row = db
        .insert(credentials)
        .values({ workspaceId: w.id, credentialId: `cred-${start + i}`, name: `Cred ${start + i}`, type: 'http_bearer', createdBy: alice.id })
        .returning()
        .get();
      const binding = credentialBinding(row.id, ws);
      const dk = createDataKey();
      const canary = `canary-${start + i}`;
      db.update(credentials)
        .set({ wrappedKey: wrapDataKey(ring, dk, binding), secretBlob: sealSecrets(dk, { token: canary }, binding), keyId: ring.active.id })
        .where(eq(credentials.id, row.id))
        .run();
      seeded.push({ id: row.id, canary, ws });
    }
    return seeded;
  });
}

/** Proves every stored secret (and the audit key) opens with `ring` alone and is marked with its key. */
function expectAllOn(dir: string, ring: KeyRing, seeded: Seeded[]) {
  expect(ring.keys).toHaveLength(1);
  withDb(dir, (db) => {
    for (const s of seeded) {
      const row = db.select().from(credentials).where(eq(credentials.id, s.id)).get()!;
      expect(row.keyId).toBe(ring.active.id);
      const binding = credentialBinding(s.id, s.ws);
      expect(openSecrets(unwrapDataKey(ring, row.wrappedKey!, binding), row.secretBlob!, binding)).toEqual({ token: s.canary });
    }
    const audit = db.select().from(dataKeys).where(eq(dataKeys.purpose, 'audit')).get()!;
    expect(audit.keyId).toBe(ring.active.id);
    expect(unwrapDataKey(ring, audit.wrappedKey, AUDIT_KEY_BINDING)).toHaveLength(32);
  });
}

function auditCount(dir: string): number {
  return withDb(dir, (db) => db.select().from(auditEvents).all().length);
}

describe('cli', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('command line', () => {
    it('prints usage for --help (exit 0) and for bad command lines (exit 2)', async () => {
      const help = await cli(dir, ['--help']);
      expectOk(help);
      expect(help.stdout).toMatch(/^usage: .*\n[\s\S]*keys rotate/);
      for (const args of [[], ['frob'], ['user'], ['user', 'create'], ['user', 'create', 'a', 'b'], ['token', 'create', 'alice', '--name'], ['backup'], ['audit', 'verify', '--admin'], ['keys', 'generate', '--bogus']]) {
        const r = await cli(dir, args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr).toMatch(/^latchkey: [^\n]+\n\nusage: /);
        expect(r.stdout).toBe('');
      }
      expect(fs.readdirSync(dir)).toEqual([]); // nothing was opened or created
    }, SLOW);
  });

  describe('user create', () => {
    it('creates the user and their Private workspace, once', async () => {
      const r = await cli(dir, ['user', 'create', 'Alice', '--admin'], { input: `${PASSWORD}\nignored second line\n` });
      expectOk(r);
      expect(r.stdout).toBe('created user alice (instance admin)\n');
      expect(r.stderr).toMatch(/generated a new master key/); // first use of a fresh DATA_DIR

      const bob = await cli(dir, ['user', 'create', 'bob'], { input: PASSWORD }); // no trailing newline
      expectOk(bob);
      expect(bob.stdout).toBe('created user bob\n');

      const dup = await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` });
      expectFailure(dup, /"alice" is already taken/);

      withDb(dir, (db) => {
        const rows = db.select().from(users).all();
        expect(rows.map((u) => [u.username, u.isAdmin])).toEqual([
          ['alice', true],
          ['bob', false],
        ]);
        for (const u of rows) expect(db.select().from(workspaces).where(eq(workspaces.ownerUserId, u.id)).get()).toMatchObject({ kind: 'private', name: 'Private' });
        expect(db.select().from(auditEvents).all().map((e) => [e.action, e.target])).toEqual([
          ['user.create', 'user:alice'],
          ['user.create', 'user:bob'],
        ]);
      });

      // The password is the first line, as typed: signing in with it works.
      const t = await createTestApp({ dir, ring: ringOf(dir) });
      try {
        expect(await t.session('alice', PASSWORD)).toMatch(/session=/);
      } finally {
        await t.close();
      }
    }, SLOW);

    it('refuses a bad username, a short password and an empty standard input, creating nothing', async () => {
      expectFailure(await cli(dir, ['user', 'create', 'no spaces'], { input: `${PASSWORD}\n` }), /username "no spaces" is not valid/);
      expectFailure(await cli(dir, ['user', 'create', 'x'], { input: `${PASSWORD}\n` }), /username "x" is not valid/);
      expectFailure(await cli(dir, ['user', 'create', 'carol'], { input: 'short\n' }), /password is not valid: Use at least 12 characters/);
      expectFailure(await cli(dir, ['user', 'create', 'carol'], { input: '' }), /no password on standard input/);
      expect(fs.readdirSync(dir)).toEqual([]); // checked before the database was opened
    }, SLOW);
  });

  describe('user set-password', () => {
    it('changes the password, ends all the user’s sessions and revokes their API tokens', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const t = await createTestApp({ dir, ring: ringOf(dir) });
      try {
        const cookie = await t.session('alice', PASSWORD);
        const other = await t.session('alice', PASSWORD);
        const token = (await cli(dir, ['token', 'create', 'alice'])).stdout.trim();
        expect((await t.api('GET', '/me', token)).status).toBe(200);
        expect((await t.browser('GET', '/settings', { cookie })).status).toBe(200);
        const alice = t.db.select().from(users).where(eq(users.username, 'alice')).get()!;
        expect(t.db.select().from(sessions).where(eq(sessions.userId, alice.id)).all()).toHaveLength(2);

        const r = await cli(dir, ['user', 'set-password', 'alice'], { input: `${NEW_PASSWORD}\n` });
        expectOk(r);
        expect(r.stdout).toMatch(/changed the password of alice/);
        expect(r.stdout).toMatch(/revoked their personal access tokens/);
        expect((await t.api('GET', '/me', token)).status).toBe(401);

        expect(t.db.select().from(sessions).where(eq(sessions.userId, alice.id)).all()).toHaveLength(0);
        for (const c of [cookie, other]) {
          const res = await t.browser('GET', '/settings', { cookie: c });
          expect(res.status).toBe(303);
          expect(res.headers.get('location')).toMatch(/^\/login/);
        }
        await expect(t.session('alice', PASSWORD)).rejects.toThrow(/could not sign in/);
        expect(await t.session('alice', NEW_PASSWORD)).toMatch(/session=/);
      } finally {
        await t.close();
      }
    }, SLOW);

    it('fails for an unknown user or a short password', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      expectFailure(await cli(dir, ['user', 'set-password', 'nobody'], { input: `${NEW_PASSWORD}\n` }), /there is no user "nobody"/);
      expectFailure(await cli(dir, ['user', 'set-password', 'alice'], { input: 'short\n' }), /password is not valid/);
      expect(auditCount(dir)).toBe(1);
    }, SLOW);
  });

  describe('token create', () => {
    it('prints exactly one line: a token that authenticates against GET /api/v1/me', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      expectOk(await cli(dir, ['user', 'create', 'bob'], { input: `${PASSWORD}\n` }));
      const r = await cli(dir, ['token', 'create', 'bob']);
      expectOk(r);
      expect(r.stdout).toMatch(/^lk_[A-Za-z0-9_-]{43}\n$/);
      expect(r.stderr).toBe('');
      const named = await cli(dir, ['token', 'create', 'alice', '--name', 'deploy bot']);
      expectOk(named);

      const t = await createTestApp({ dir, ring: ringOf(dir) });
      try {
        const me = await t.api('GET', '/me', r.stdout.trim());
        expect(me.status).toBe(200);
        expect(me.json).toEqual({ username: 'bob', is_admin: false });
        expect((await t.api('GET', '/me', named.stdout.trim())).json).toEqual({ username: 'alice', is_admin: true });
        expect(t.db.select({ name: apiTokens.name }).from(apiTokens).all().map((x) => x.name)).toEqual(['cli', 'deploy bot']);
      } finally {
        await t.close();
      }
    }, SLOW);

    it('fails for an unknown user or an empty name, printing nothing on standard output', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const r = await cli(dir, ['token', 'create', 'nobody']);
      expectFailure(r, /there is no user "nobody"/);
      expect(r.stdout).toBe('');
      expectFailure(await cli(dir, ['token', 'create', 'alice', '--name', ' ']), /token name/);
      withDb(dir, (db) => expect(db.select().from(apiTokens).all()).toHaveLength(0));
    }, SLOW);
  });

  describe('token revoke', () => {
    it('revokes a token by name; a taken --name, an unknown name or user is one line on standard error and exit 1', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const ci = await cli(dir, ['token', 'create', 'alice', '--name', 'ci']);
      expectOk(ci);
      const taken = await cli(dir, ['token', 'create', 'alice', '--name', 'ci']);
      expectFailure(taken, /already has a token named "ci"/);
      expect(taken.stdout).toBe('');
      // Without --name the default name is made free, so the command works every time.
      expectOk(await cli(dir, ['token', 'create', 'alice']));
      expectOk(await cli(dir, ['token', 'create', 'alice']));
      withDb(dir, (db) => expect(db.select({ name: apiTokens.name }).from(apiTokens).all().map((x) => x.name)).toEqual(['ci', 'cli', 'cli-2']));

      expectFailure(await cli(dir, ['token', 'revoke', 'alice', 'nope']), /alice has no token named "nope"/);
      expectFailure(await cli(dir, ['token', 'revoke', 'nobody', 'ci']), /there is no user "nobody"/);
      const r = await cli(dir, ['token', 'revoke', 'alice', 'ci']);
      expectOk(r);
      expect(r.stdout + r.stderr).toBe('');
      withDb(dir, (db) => expect(db.select({ name: apiTokens.name }).from(apiTokens).all().map((x) => x.name)).toEqual(['cli', 'cli-2']));
      const t = await createTestApp({ dir, ring: ringOf(dir) });
      try {
        expect((await t.api('GET', '/me', ci.stdout.trim())).status).toBe(401);
      } finally {
        await t.close();
      }
    }, SLOW);
  });

  describe('audit verify', () => {
    it('prints ok <count>, then names the first event whose content was changed', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      expectOk(await cli(dir, ['user', 'create', 'bob'], { input: `${PASSWORD}\n` }));
      expectOk(await cli(dir, ['token', 'create', 'bob']));
      const ok = await cli(dir, ['audit', 'verify']);
      expectOk(ok);
      expect(ok.stdout).toBe('ok 3\n');

      const raw = new Database(dbFileOf(dir));
      raw.exec('DROP TRIGGER audit_events_no_update');
      raw.prepare(`UPDATE audit_events SET details_json = '{"is_admin":true}' WHERE id = 2`).run();
      raw.close();

      const broken = await cli(dir, ['audit', 'verify']);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toBe('broken at event 2: its content does not match its hash\n');
      expect(broken.stderr).toMatch(/^latchkey: the audit log is broken at event 2: [^\n]+\n$/);
    }, SLOW);
  });

  describe('backup', () => {
    it('copies the database while the app has it open, never overwrites, and the copy restores', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const ring = ringOf(dir);
      const t = await createTestApp({ dir, ring });
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-backup-'));
      try {
        await t.session('bob'); // written by the "server" and still in its WAL
        const file = path.join(out, 'copy.db');
        const r = await cli(dir, ['backup', file]);
        expectOk(r);
        expect(r.stdout).toBe(`${file}\n`);
        expect(fs.readdirSync(out)).toEqual(['copy.db']); // no .partial left behind
        expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');

        const copy = new Database(file, { readonly: true });
        try {
          expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
          expect(copy.prepare('SELECT username FROM users ORDER BY username').pluck().all()).toEqual(['alice', 'bob']);
        } finally {
          copy.close();
        }

        const before = fs.readFileSync(file);
        expectFailure(await cli(dir, ['backup', file]), /already exists/);
        expect(fs.readFileSync(file).equals(before)).toBe(true);
        expectFailure(await cli(dir, ['backup', path.join(out, 'missing', 'x.db')]), /does not exist/);
        expect(fs.readdirSync(out)).toEqual(['copy.db']);

        // Restore into a fresh DATA_DIR with the same key: the audit chain still verifies.
        const restored = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-restored-'));
        try {
          fs.copyFileSync(file, dbFileOf(restored));
          fs.copyFileSync(keyFileOf(dir), keyFileOf(restored));
          const v = await cli(restored, ['audit', 'verify']);
          expectOk(v);
          expect(v.stdout).toBe('ok 2\n');
        } finally {
          fs.rmSync(restored, { recursive: true, force: true });
        }
      } finally {
        await t.close();
        fs.rmSync(out, { recursive: true, force: true });
      }
    }, SLOW);
  });

  describe('keys generate', () => {
    it('prints a 32-byte base64 key and nothing else, without any database or settings', async () => {
      const nowhere = path.join(dir, 'not-created');
      const r = await cli(nowhere, ['keys', 'generate'], { env: { SECRET_KEY: 'not a key', PORT: 'nonsense' } });
      expectOk(r);
      expect(r.stdout).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
      expect(Buffer.from(r.stdout.trim(), 'base64')).toHaveLength(32);
      expect(r.stderr).toBe('');
      expect(() => parseKeyRing(r.stdout)).not.toThrow();
      expect(fs.existsSync(nowhere)).toBe(false);
      const again = await cli(nowhere, ['keys', 'generate']);
      expect(again.stdout).not.toBe(r.stdout);
    }, SLOW);
  });

  describe('keys rotate', () => {
    it('with the key file: puts a new key first, rewraps everything, drops the old key', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const old = ringOf(dir);
      const seeded = seedCredentials(dir, old, 5);

      const r = await cli(dir, ['keys', 'rotate']);
      expectOk(r);
      const now = ringOf(dir);
      expect(now.keys).toHaveLength(1); // the old key is gone from the file
      expect(now.active.id).not.toBe(old.active.id);
      expect(r.stdout).toContain(`new key ${now.active.id} written first`);
      expect(r.stdout).toContain(`rewrapped 6 data keys under key ${now.active.id} (5 credentials, 1 instance key)`);
      expect(r.stdout).toContain(`older keys are no longer needed; removed ${old.active.id}`);
      expect((fs.statSync(keyFileOf(dir)).mode & 0o777).toString(8)).toBe('600');
      expectAllOn(dir, now, seeded);

      const v = await cli(dir, ['audit', 'verify']);
      expectOk(v);
      expect(v.stdout).toBe('ok 2\n');
      withDb(dir, (db) => {
        expect(db.select().from(auditEvents).where(eq(auditEvents.action, 'keys.rotate')).get()).toMatchObject({ target: `key:${now.active.id}`, outcome: 'success' });
        // The rewrap itself is a no-op once everything is on the active key.
        expect(rotateDataKeys(db, now)).toEqual({ credentials: 0, dataKeys: 0, total: 0, complete: true });
      });

      // A backup taken now restores with the new key file alone.
      const copy = path.join(dir, 'after-rotation.db');
      expectOk(await cli(dir, ['backup', copy]));
      const restored = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-restored-'));
      try {
        fs.copyFileSync(copy, dbFileOf(restored));
        fs.copyFileSync(keyFileOf(dir), keyFileOf(restored));
        expect((await cli(restored, ['audit', 'verify'])).stdout).toBe('ok 2\n');
      } finally {
        fs.rmSync(restored, { recursive: true, force: true });
      }

      // With the key file, running it again is a new rotation (the contract: "generates a new key").
      const again = await cli(dir, ['keys', 'rotate']);
      expectOk(again);
      const third = ringOf(dir);
      expect(third.keys).toHaveLength(1);
      expect(third.active.id).not.toBe(now.active.id);
      expectAllOn(dir, third, seeded);
      expect((await cli(dir, ['audit', 'verify'])).stdout).toBe('ok 3\n');
    }, SLOW);

    it('with SECRET_KEY: rewraps under its first key, says the older key may go, and re-running is a no-op', async () => {
      const k1 = generateKey();
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n`, env: { SECRET_KEY: k1 } }));
      const seeded = seedCredentials(dir, parseKeyRing(k1), 4);
      const k2 = (await cli(dir, ['keys', 'generate'])).stdout.trim();
      const ring2 = parseKeyRing(k2);

      const r = await cli(dir, ['keys', 'rotate'], { env: { SECRET_KEY: `${k2},${k1}` } });
      expectOk(r);
      expect(r.stdout).toContain(`rewrapped 5 data keys under key ${ring2.active.id} (4 credentials, 1 instance key)`);
      expect(r.stdout).toMatch(/older keys are no longer needed; you may remove them from SECRET_KEY/);
      expect(fs.existsSync(keyFileOf(dir))).toBe(false); // SECRET_KEY mode never writes a key file
      expectAllOn(dir, ring2, seeded);

      const v = await cli(dir, ['audit', 'verify'], { env: { SECRET_KEY: k2 } }); // the new key alone
      expectOk(v);
      expect(v.stdout).toBe('ok 2\n');

      const again = await cli(dir, ['keys', 'rotate'], { env: { SECRET_KEY: `${k2},${k1}` } });
      expectOk(again);
      expect(again.stdout).toContain('rewrapped 0 data keys');
      const alone = await cli(dir, ['keys', 'rotate'], { env: { SECRET_KEY: k2 } });
      expectOk(alone);
      expect(alone.stdout).toMatch(/rewrapped 0 data keys[\s\S]*no older keys to remove/);
      expect(auditCount(dir)).toBe(2); // no-op runs record nothing
      expectAllOn(dir, ring2, seeded);

      // The old key alone no longer opens the database.
      expectFailure(await cli(dir, ['audit', 'verify'], { env: { SECRET_KEY: k1 } }), /still needed/);
    }, SLOW);

    it('resumes an interrupted rotation without making another key', async () => {
      // Interrupted the way a crash would leave it: the key file already lists the new key first
      // (written before anything is wrapped under it) and only some rows were rewrapped, each in
      // its own committed transaction. rotateDataKeys' `limit` stops it at that point exactly,
      // which is deterministic where killing the process at the right moment would not be.
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const old = ringOf(dir);
      const seeded = seedCredentials(dir, old, 5);
      const fresh = parseKeyRing(generateKey()).active;
      const ring = { active: fresh, keys: [fresh, ...old.keys] };
      writeKeyFile(dir, ring);
      withDb(dir, (db) => {
        checkKeyRing(db, ring);
        expect(rotateDataKeys(db, ring, undefined, { limit: 2, batchSize: 1 })).toMatchObject({ credentials: 2, total: 2, complete: false });
        const onKey = db.select({ keyId: credentials.keyId }).from(credentials).all().map((c) => c.keyId);
        expect(onKey.filter((k) => k === fresh.id)).toHaveLength(2);
        expect(onKey.filter((k) => k === old.active.id)).toHaveLength(3);
      });

      const r = await cli(dir, ['keys', 'rotate']);
      expectOk(r);
      expect(r.stdout).toContain(`resuming the rotation to key ${fresh.id}`);
      expect(r.stdout).toContain(`rewrapped 4 data keys under key ${fresh.id} (3 credentials, 1 instance key)`);
      const now = ringOf(dir);
      expect(now.active.id).toBe(fresh.id); // no third key
      expectAllOn(dir, now, seeded);
      expect((await cli(dir, ['audit', 'verify'])).stdout).toBe('ok 2\n');
    }, SLOW);

    it('stops at a row it cannot unwrap, naming it, and resumes once the row is dealt with', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const old = ringOf(dir);
      const seeded = seedCredentials(dir, old, 3);
      const bad = seeded[1];
      withDb(dir, (db) => {
        const row = db.select().from(credentials).where(eq(credentials.id, bad.id)).get()!;
        const tampered = Buffer.from(row.wrappedKey!);
        tampered[tampered.length - 1] ^= 1;
        db.update(credentials).set({ wrappedKey: tampered }).where(eq(credentials.id, bad.id)).run();
      });

      const r = await cli(dir, ['keys', 'rotate']);
      expectFailure(r, new RegExp(`cannot rewrap the credential row ${bad.id}: wrapped data key failed authentication`));
      expect(r.stdout).toMatch(/rewrapped 1 data key under key \w+ before the rotation stopped/);
      const ring = ringOf(dir);
      expect(ring.keys.map((k) => k.id)).toEqual([ring.active.id, old.active.id]); // the old key is kept
      withDb(dir, (db) => {
        expect(db.select().from(auditEvents).where(eq(auditEvents.action, 'keys.rotate')).get()).toMatchObject({ outcome: 'failure' });
        db.delete(credentials).where(eq(credentials.id, bad.id)).run();
      });

      const again = await cli(dir, ['keys', 'rotate']);
      expectOk(again);
      expect(again.stdout).toContain(`resuming the rotation to key ${ring.active.id}`);
      expect(again.stdout).toContain(`rewrapped 2 data keys under key ${ring.active.id} (1 credential, 1 instance key)`);
      expectAllOn(dir, ringOf(dir), [seeded[0], seeded[2]]);
      expect((await cli(dir, ['audit', 'verify'])).stdout).toBe('ok 3\n');
    }, SLOW);

    it('keeps the old key in the file while another process (the server) has the database open', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const old = ringOf(dir);
      const seeded = seedCredentials(dir, old, 2);
      const t = await createTestApp({ dir, ring: old });
      let fresh: string;
      try {
        const r = await cli(dir, ['keys', 'rotate']);
        expectOk(r);
        expect(r.stdout).toMatch(/were kept in .*database is open in another process/);
        const ring = ringOf(dir);
        expect(ring.keys.map((k) => k.id)).toEqual([ring.active.id, old.active.id]);
        fresh = ring.active.id;
      } finally {
        await t.close();
      }
      // With the server stopped, running it again finishes the rotation instead of starting another.
      const r = await cli(dir, ['keys', 'rotate']);
      expectOk(r);
      expect(r.stdout).toContain(`resuming the rotation to key ${fresh}`);
      expect(r.stdout).toContain('rewrapped 0 data keys');
      expect(r.stdout).toContain(`removed ${old.active.id}`);
      const now = ringOf(dir);
      expect(now.active.id).toBe(fresh);
      expectAllOn(dir, now, seeded);
    }, SLOW);
  });

  describe('a key that does not fit the database', () => {
    it('makes every database command fail with one clear line and change nothing', async () => {
      const k1 = generateKey();
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n`, env: { SECRET_KEY: k1 } }));
      const wrong = { SECRET_KEY: generateKey() };
      const before = fs.readFileSync(dbFileOf(dir));
      const runs: [string[], string?][] = [
        [['user', 'create', 'bob'], `${PASSWORD}\n`],
        [['user', 'set-password', 'alice'], `${NEW_PASSWORD}\n`],
        [['token', 'create', 'alice']],
        [['audit', 'verify']],
        [['backup', path.join(dir, 'x.db')]],
        [['keys', 'rotate']],
      ];
      for (const [args, input] of runs) {
        const r = await cli(dir, args, { input, env: wrong });
        expectFailure(r, /the master key does not match this database/);
        expect(r.stdout).toBe('');
      }
      expect(fs.readdirSync(dir).sort()).toEqual(['latchkey.db']); // no key file, no backup
      expect(fs.readFileSync(dbFileOf(dir)).equals(before)).toBe(true);

      expectFailure(await cli(dir, ['audit', 'verify'], { env: { SECRET_KEY: 'abc' } }), /^latchkey: SECRET_KEY: key ring entry #1 of 1 is not base64/);
      // A key file that does not fit fails the same way.
      fs.writeFileSync(keyFileOf(dir), generateKey() + '\n', { mode: 0o600 });
      expectFailure(await cli(dir, ['audit', 'verify']), /the master key does not match this database/);
      expectOk(await cli(dir, ['audit', 'verify'], { env: { SECRET_KEY: k1 } }));
    }, SLOW);
  });
});
