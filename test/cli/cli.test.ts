// The command line, run for real as a child process (`node --import tsx src/cli.ts ...`) against a
// temporary DATA_DIR; the web app (test/helpers/app.ts) shares that directory and key ring where a
// command's effect must be seen through the app. With LATCHKEY_TEST_DATABASE_URL each test gets a
// fresh PostgreSQL database instead, and the CLI runs with DATABASE_URL and a SECRET_KEY; tests about
// the SQLite file itself (backup, the key file, WAL) skip there, and PostgreSQL's own start checks
// run only there.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDataKey, openSecrets, sealSecrets, unwrapDataKey, wrapDataKey } from '../../src/crypto/envelope';
import { generateKey, parseKeyRing, writeKeyFile, type KeyRing } from '../../src/crypto/keyring';
import { openDatabase, sqliteEngine } from '../../src/store/db';
import { first, one, type Engine } from '../../src/store/engine';
import { AUDIT_KEY_BINDING, checkKeyRing, credentialBinding } from '../../src/store/keys';
import { rotateDataKeys } from '../../src/store/maintenance';
import { openPostgres } from '../../src/store/postgres';
import { createTestApp, PASSWORD } from '../helpers/app';
import { cli as runCli, type Run } from '../helpers/cli';
import { ENGINE, freshPgDatabase } from '../helpers/database';

const SLOW = 60_000;
const NEW_PASSWORD = 'another long passphrase';
const PG = ENGINE === 'pg';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** On PostgreSQL: this test's DATABASE_URL and SECRET_KEY, given to every CLI run (a run's own env wins). */
let base: Record<string, string> = {};
let dropDb: (() => Promise<void>) | undefined;

/** Runs the CLI against DATA_DIR `dir` (and, on PostgreSQL, this test's database). */
function cli(dir: string, args: string[], o: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return runCli(dir, args, { ...o, env: { ...base, ...o.env } });
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
/** The key ring the CLI used: the key file on SQLite, SECRET_KEY on PostgreSQL. */
const ringOf = (dir: string) => parseKeyRing(PG ? base.SECRET_KEY : fs.readFileSync(keyFileOf(dir), 'utf8'));
const dbFileOf = (dir: string) => path.join(dir, 'latchkey.db');
/** An app on the same database as the CLI. */
const appOn = (dir: string, ring: KeyRing) => createTestApp({ dir, ring, databaseUrl: base.DATABASE_URL });

/** Opens the database directly (no app) for the length of fn: the SQLite file, or this test's PostgreSQL database. */
async function withDb<T>(dir: string, fn: (e: Engine) => Promise<T>): Promise<T> {
  const e = PG ? await openPostgres(base.DATABASE_URL, { max: 2 }) : sqliteEngine(openDatabase(dbFileOf(dir)));
  try {
    return await fn(e);
  } finally {
    await e.close();
  }
}

/** Flips one bit of a credential's wrapped data key, so no key in the ring can unwrap it. */
async function tamperWrappedKey(dir: string, rowId: number): Promise<void> {
  await withDb(dir, async (e) => {
    const { credentials } = e.t;
    const row = one(await e.db.select().from(credentials).where(eq(credentials.id, rowId)));
    const tampered = Buffer.from(row.wrappedKey!);
    tampered[tampered.length - 1] ^= 1;
    await e.write(async (tx) => void (await tx.update(credentials).set({ wrappedKey: tampered }).where(eq(credentials.id, rowId))));
  });
}

/** Runs a raw SQL statement that returns nothing (DDL, UPDATE) in a write transaction. */
async function rawWrite(dir: string, text: string) {
  if (!PG) {
    const raw = new Database(dbFileOf(dir));
    try {
      raw.exec(text);
    } finally {
      raw.close();
    }
    return;
  }
  await withDb(dir, (e) => e.write((tx) => e.rows(text, [], tx)));
}

type Seeded = { id: number; canary: string; ws: { kind: 'private' | 'project'; id: number; ownerUserId: string | null } };

/**
 * Stores `n` credentials the way the credentials code does: a fresh data key wrapped under
 * ring.active and bound to the row, secrets sealed with it. Alternates alice's Private workspace
 * and a project, so both bindings are rotated.
 */
function seedCredentials(dir: string, ring: KeyRing, n: number): Promise<Seeded[]> {
  return withDb(dir, (e) =>
    e.write(async (tx) => {
      const { users, workspaces, credentials } = e.t;
      const alice = one(await tx.select().from(users).where(eq(users.username, 'alice')));
      const priv = one(await tx.select().from(workspaces).where(eq(workspaces.ownerUserId, alice.id)));
      const project =
        first(await tx.select().from(workspaces).where(eq(workspaces.slug, 'ops'))) ??
        one(await tx.insert(workspaces).values({ kind: 'project', slug: 'ops', name: 'Ops' }).returning());
      const seeded: Seeded[] = [];
      const start = (await tx.select().from(credentials)).length;
      for (let i = 0; i < n; i++) {
        const w = i % 2 === 0 ? priv : project;
        const ws = { kind: w.kind, id: w.id, ownerUserId: w.ownerUserId };
        const row = one(
          await tx
            .insert(credentials)
            .values({ workspaceId: w.id, credentialId: `cred-${start + i}`, name: `Cred ${start + i}`, type: 'http_bearer', createdBy: alice.id })
            .returning(),
        );
        const binding = credentialBinding(row.id, ws);
        const dk = createDataKey();
        const canary = `canary-${start + i}`;
        await tx
          .update(credentials)
          .set({ wrappedKey: wrapDataKey(ring, dk, binding), secretBlob: sealSecrets(dk, { token: canary }, binding), keyId: ring.active.id })
          .where(eq(credentials.id, row.id));
        seeded.push({ id: row.id, canary, ws });
      }
      return seeded;
    }),
  );
}

/** Proves every stored secret (and the audit key) opens with `ring` alone and is marked with its key. */
async function expectAllOn(dir: string, ring: KeyRing, seeded: Seeded[]) {
  expect(ring.keys).toHaveLength(1);
  await withDb(dir, async (e) => {
    const { credentials, dataKeys } = e.t;
    for (const s of seeded) {
      const row = one(await e.db.select().from(credentials).where(eq(credentials.id, s.id)));
      expect(row.keyId).toBe(ring.active.id);
      const binding = credentialBinding(s.id, s.ws);
      expect(openSecrets(unwrapDataKey(ring, row.wrappedKey!, binding), row.secretBlob!, binding)).toEqual({ token: s.canary });
    }
    const audit = one(await e.db.select().from(dataKeys).where(eq(dataKeys.purpose, 'audit')));
    expect(audit.keyId).toBe(ring.active.id);
    expect(unwrapDataKey(ring, audit.wrappedKey, AUDIT_KEY_BINDING)).toHaveLength(32);
  });
}

function auditCount(dir: string): Promise<number> {
  return withDb(dir, async (e) => (await e.db.select().from(e.t.auditEvents)).length);
}

/** The names of the API tokens, in id order. */
function tokenNames(dir: string): Promise<string[]> {
  return withDb(dir, async (e) => (await e.db.select({ name: e.t.apiTokens.name }).from(e.t.apiTokens).orderBy(e.t.apiTokens.id)).map((x) => x.name));
}

describe('cli', () => {
  let dir: string;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-'));
    if (PG) {
      const db = await freshPgDatabase();
      base = { DATABASE_URL: db.url, SECRET_KEY: generateKey() };
      dropDb = db.drop;
    }
  });
  afterEach(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await dropDb?.();
    dropDb = undefined;
    base = {};
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
      if (PG) expect(r.stderr).toBe(''); // SECRET_KEY: no key file
      else expect(r.stderr).toMatch(/generated a new master key/); // first use of a fresh DATA_DIR

      const bob = await cli(dir, ['user', 'create', 'bob'], { input: PASSWORD }); // no trailing newline
      expectOk(bob);
      expect(bob.stdout).toBe('created user bob\n');

      const dup = await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` });
      expectFailure(dup, /"alice" is already taken/);

      await withDb(dir, async (e) => {
        const { users, workspaces, auditEvents } = e.t;
        const rows = await e.db.select().from(users).orderBy(users.username);
        expect(rows.map((u) => [u.username, u.isAdmin])).toEqual([
          ['alice', true],
          ['bob', false],
        ]);
        for (const u of rows) expect(first(await e.db.select().from(workspaces).where(eq(workspaces.ownerUserId, u.id)))).toMatchObject({ kind: 'private', name: 'Private' });
        expect((await e.db.select().from(auditEvents).orderBy(auditEvents.id)).map((a) => [a.action, a.target])).toEqual([
          ['user.create', 'user:alice'],
          ['user.create', 'user:bob'],
        ]);
      });

      // The password is the first line, as typed: signing in with it works.
      const t = await appOn(dir, ringOf(dir));
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
      const t = await appOn(dir, ringOf(dir));
      try {
        const cookie = await t.session('alice', PASSWORD);
        const other = await t.session('alice', PASSWORD);
        const token = (await cli(dir, ['token', 'create', 'alice'])).stdout.trim();
        expect((await t.api('GET', '/me', token)).status).toBe(200);
        expect((await t.browser('GET', '/settings', { cookie })).status).toBe(200);
        const { users, sessions } = t.engine.t;
        const alice = one(await t.engine.db.select().from(users).where(eq(users.username, 'alice')));
        const sessionsOf = () => t.engine.db.select().from(sessions).where(eq(sessions.userId, alice.id));
        expect(await sessionsOf()).toHaveLength(2);

        const r = await cli(dir, ['user', 'set-password', 'alice'], { input: `${NEW_PASSWORD}\n` });
        expectOk(r);
        expect(r.stdout).toMatch(/changed the password of alice/);
        expect(r.stdout).toMatch(/revoked their personal access tokens/);
        expect((await t.api('GET', '/me', token)).status).toBe(401);

        expect(await sessionsOf()).toHaveLength(0);
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
      expect(await auditCount(dir)).toBe(1);
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

      const t = await appOn(dir, ringOf(dir));
      try {
        const me = await t.api('GET', '/me', r.stdout.trim());
        expect(me.status).toBe(200);
        expect(me.json).toEqual({ username: 'bob', is_admin: false });
        expect((await t.api('GET', '/me', named.stdout.trim())).json).toEqual({ username: 'alice', is_admin: true });
        expect(await tokenNames(dir)).toEqual(['cli', 'deploy bot']);
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
      expect(await tokenNames(dir)).toEqual([]);
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
      expect(await tokenNames(dir)).toEqual(['ci', 'cli', 'cli-2']);

      expectFailure(await cli(dir, ['token', 'revoke', 'alice', 'nope']), /alice has no token named "nope"/);
      expectFailure(await cli(dir, ['token', 'revoke', 'nobody', 'ci']), /there is no user "nobody"/);
      const r = await cli(dir, ['token', 'revoke', 'alice', 'ci']);
      expectOk(r);
      expect(r.stdout + r.stderr).toBe('');
      expect(await tokenNames(dir)).toEqual(['cli', 'cli-2']);
      const t = await appOn(dir, ringOf(dir));
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

      await rawWrite(dir, PG ? 'DROP TRIGGER audit_events_no_update ON audit_events' : 'DROP TRIGGER audit_events_no_update');
      await rawWrite(dir, `UPDATE audit_events SET details_json = '{"is_admin":true}' WHERE id = 2`);

      const broken = await cli(dir, ['audit', 'verify']);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toBe('broken at event 2: its content does not match its hash\n');
      expect(broken.stderr).toMatch(/^latchkey: the audit log is broken at event 2: [^\n]+\n$/);
    }, SLOW);
  });

  // SQLite's online backup of the file in DATA_DIR (PostgreSQL: `backup` exits 2, below).
  describe.skipIf(PG)('backup', () => {
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
    it.skipIf(PG)('with the key file: puts a new key first, rewraps everything, drops the old key', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const old = ringOf(dir);
      const seeded = await seedCredentials(dir, old, 5);

      const r = await cli(dir, ['keys', 'rotate']);
      expectOk(r);
      const now = ringOf(dir);
      expect(now.keys).toHaveLength(1); // the old key is gone from the file
      expect(now.active.id).not.toBe(old.active.id);
      expect(r.stdout).toContain(`new key ${now.active.id} written first`);
      expect(r.stdout).toContain(`rewrapped 6 data keys under key ${now.active.id} (5 credentials, 1 instance key)`);
      expect(r.stdout).toContain(`older keys are no longer needed; removed ${old.active.id}`);
      expect((fs.statSync(keyFileOf(dir)).mode & 0o777).toString(8)).toBe('600');
      await expectAllOn(dir, now, seeded);

      const v = await cli(dir, ['audit', 'verify']);
      expectOk(v);
      expect(v.stdout).toBe('ok 2\n');
      await withDb(dir, async (e) => {
        const { auditEvents } = e.t;
        expect(first(await e.db.select().from(auditEvents).where(eq(auditEvents.action, 'keys.rotate')))).toMatchObject({ target: `key:${now.active.id}`, outcome: 'success' });
        // The rewrap itself is a no-op once everything is on the active key.
        expect(await rotateDataKeys(e, now)).toEqual({ credentials: 0, dataKeys: 0, total: 0, complete: true });
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
      await expectAllOn(dir, third, seeded);
      expect((await cli(dir, ['audit', 'verify'])).stdout).toBe('ok 3\n');
    }, SLOW);

    it('with SECRET_KEY: rewraps under its first key, says the older key may go, and re-running is a no-op', async () => {
      const k1 = generateKey();
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n`, env: { SECRET_KEY: k1 } }));
      const seeded = await seedCredentials(dir, parseKeyRing(k1), 4);
      const k2 = (await cli(dir, ['keys', 'generate'])).stdout.trim();
      const ring2 = parseKeyRing(k2);

      const r = await cli(dir, ['keys', 'rotate'], { env: { SECRET_KEY: `${k2},${k1}` } });
      expectOk(r);
      expect(r.stdout).toContain(`rewrapped 5 data keys under key ${ring2.active.id} (4 credentials, 1 instance key)`);
      expect(r.stdout).toMatch(/older keys are no longer needed; you may remove them from SECRET_KEY/);
      expect(fs.existsSync(keyFileOf(dir))).toBe(false); // SECRET_KEY mode never writes a key file
      await expectAllOn(dir, ring2, seeded);

      const v = await cli(dir, ['audit', 'verify'], { env: { SECRET_KEY: k2 } }); // the new key alone
      expectOk(v);
      expect(v.stdout).toBe('ok 2\n');

      const again = await cli(dir, ['keys', 'rotate'], { env: { SECRET_KEY: `${k2},${k1}` } });
      expectOk(again);
      expect(again.stdout).toContain('rewrapped 0 data keys');
      const alone = await cli(dir, ['keys', 'rotate'], { env: { SECRET_KEY: k2 } });
      expectOk(alone);
      expect(alone.stdout).toMatch(/rewrapped 0 data keys[\s\S]*no older keys to remove/);
      expect(await auditCount(dir)).toBe(2); // no-op runs record nothing
      await expectAllOn(dir, ring2, seeded);

      // The old key alone no longer opens the database.
      expectFailure(await cli(dir, ['audit', 'verify'], { env: { SECRET_KEY: k1 } }), /still needed/);
    }, SLOW);

    it.skipIf(PG)('resumes an interrupted rotation without making another key', async () => {
      // Interrupted the way a crash would leave it: the key file already lists the new key first
      // (written before anything is wrapped under it) and only some rows were rewrapped, each in
      // its own committed transaction. rotateDataKeys' `limit` stops it at that point exactly,
      // which is deterministic where killing the process at the right moment would not be.
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const old = ringOf(dir);
      const seeded = await seedCredentials(dir, old, 5);
      const fresh = parseKeyRing(generateKey()).active;
      const ring = { active: fresh, keys: [fresh, ...old.keys] };
      writeKeyFile(dir, ring);
      await withDb(dir, async (e) => {
        await checkKeyRing(e, ring);
        expect(await rotateDataKeys(e, ring, undefined, { limit: 2, batchSize: 1 })).toMatchObject({ credentials: 2, total: 2, complete: false });
        const onKey = (await e.db.select({ keyId: e.t.credentials.keyId }).from(e.t.credentials)).map((c) => c.keyId);
        expect(onKey.filter((k) => k === fresh.id)).toHaveLength(2);
        expect(onKey.filter((k) => k === old.active.id)).toHaveLength(3);
      });

      const r = await cli(dir, ['keys', 'rotate']);
      expectOk(r);
      expect(r.stdout).toContain(`resuming the rotation to key ${fresh.id}`);
      expect(r.stdout).toContain(`rewrapped 4 data keys under key ${fresh.id} (3 credentials, 1 instance key)`);
      const now = ringOf(dir);
      expect(now.active.id).toBe(fresh.id); // no third key
      await expectAllOn(dir, now, seeded);
      expect((await cli(dir, ['audit', 'verify'])).stdout).toBe('ok 2\n');
    }, SLOW);

    it.skipIf(PG)('stops at a row it cannot unwrap, naming it, and resumes once the row is dealt with', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const old = ringOf(dir);
      const seeded = await seedCredentials(dir, old, 3);
      const bad = seeded[1];
      await tamperWrappedKey(dir, bad.id);

      const r = await cli(dir, ['keys', 'rotate']);
      expectFailure(r, new RegExp(`cannot rewrap the credential row ${bad.id}: wrapped data key failed authentication`));
      expect(r.stdout).toMatch(/rewrapped 1 data key under key \w+ before the rotation stopped/);
      const ring = ringOf(dir);
      expect(ring.keys.map((k) => k.id)).toEqual([ring.active.id, old.active.id]); // the old key is kept
      await withDb(dir, async (e) => {
        const { auditEvents, credentials } = e.t;
        expect(first(await e.db.select().from(auditEvents).where(eq(auditEvents.action, 'keys.rotate')))).toMatchObject({ outcome: 'failure' });
        await e.write(async (tx) => void (await tx.delete(credentials).where(eq(credentials.id, bad.id))));
      });

      const again = await cli(dir, ['keys', 'rotate']);
      expectOk(again);
      expect(again.stdout).toContain(`resuming the rotation to key ${ring.active.id}`);
      expect(again.stdout).toContain(`rewrapped 2 data keys under key ${ring.active.id} (1 credential, 1 instance key)`);
      await expectAllOn(dir, ringOf(dir), [seeded[0], seeded[2]]);
      expect((await cli(dir, ['audit', 'verify'])).stdout).toBe('ok 3\n');
    }, SLOW);

    it.skipIf(PG)('keeps the old key in the file while another process (the server) has the database open', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const old = ringOf(dir);
      const seeded = await seedCredentials(dir, old, 2);
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
      await expectAllOn(dir, now, seeded);
    }, SLOW);
  });

  describe('a key that does not fit the database', () => {
    /** What a failed run must leave as it was: the rows that matter and the stored key checks. */
    const snapshot = (dir: string) =>
      withDb(dir, async (e) => ({
        users: await e.rows('SELECT id, username, password_hash FROM users ORDER BY id'),
        audit: await e.rows('SELECT id, hash FROM audit_events ORDER BY id'),
        tokens: await e.rows('SELECT id FROM api_tokens ORDER BY id'),
        keys: await e.rows('SELECT key_id, "check" FROM master_keys ORDER BY key_id'),
        dataKeys: await e.rows('SELECT purpose, key_id FROM data_keys ORDER BY purpose'),
      }));

    it('makes every database command fail with one clear line and change nothing', async () => {
      const k1 = generateKey();
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n`, env: { SECRET_KEY: k1 } }));
      const wrong = { SECRET_KEY: generateKey() };
      const before = PG ? undefined : fs.readFileSync(dbFileOf(dir));
      const rows = await snapshot(dir);
      const runs: [string[], string?][] = [
        [['user', 'create', 'bob'], `${PASSWORD}\n`],
        [['user', 'set-password', 'alice'], `${NEW_PASSWORD}\n`],
        [['token', 'create', 'alice']],
        [['audit', 'verify']],
        ...(PG ? [] : [[['backup', path.join(dir, 'x.db')]] as [string[]]]),
        [['keys', 'rotate']],
      ];
      for (const [args, input] of runs) {
        const r = await cli(dir, args, { input, env: wrong });
        expectFailure(r, /the master key does not match this database/);
        expect(r.stdout).toBe('');
      }
      expect(fs.readdirSync(dir).sort()).toEqual(PG ? [] : ['latchkey.db']); // no key file, no backup
      if (before) expect(fs.readFileSync(dbFileOf(dir)).equals(before)).toBe(true);
      expect(await snapshot(dir)).toEqual(rows);

      expectFailure(await cli(dir, ['audit', 'verify'], { env: { SECRET_KEY: 'abc' } }), /^latchkey: SECRET_KEY: key ring entry #1 of 1 is not base64/);
      if (!PG) {
        // A key file that does not fit fails the same way.
        fs.writeFileSync(keyFileOf(dir), generateKey() + '\n', { mode: 0o600 });
        expectFailure(await cli(dir, ['audit', 'verify']), /the master key does not match this database/);
      }
      expectOk(await cli(dir, ['audit', 'verify'], { env: { SECRET_KEY: k1 } }));
    }, SLOW);
  });

  // PostgreSQL's own start checks (CONTRACT.md section 5); the commands above already ran on it.
  describe.skipIf(!PG)('with DATABASE_URL (PostgreSQL)', () => {
    /** This test's DATABASE_URL with another password or port. */
    const urlWith = (change: { password?: string; port?: string }) => {
      const u = new URL(base.DATABASE_URL);
      if (change.password !== undefined) u.password = change.password;
      if (change.port !== undefined) u.port = change.port;
      return u.toString();
    };

    /** Runs the real server with a clean environment; resolves when it exits (or kills it after 30 s). */
    function runServer(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
      return new Promise((resolve, reject) => {
        const childEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', DATA_DIR: dir, ...env };
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    }

    it('`backup` exits 2 with a line naming pg_dump, and writes nothing', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const file = path.join(dir, 'copy.db');
      const r = await cli(dir, ['backup', file]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(/^latchkey: .*pg_dump/);
      expect(r.stdout).toBe('');
      expect(fs.readdirSync(dir)).toEqual([]);
    }, SLOW);

    it('without SECRET_KEY the CLI and the server stop with one clear line and generate no key file', async () => {
      const r = await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n`, env: { SECRET_KEY: '' } });
      expectFailure(r, /SECRET_KEY is required with DATABASE_URL/);
      expectFailure(await cli(dir, ['audit', 'verify'], { env: { SECRET_KEY: '' } }), /SECRET_KEY is required with DATABASE_URL/);
      const server = await runServer({ DATABASE_URL: base.DATABASE_URL });
      expect(server.code, server.stderr).not.toBe(0);
      expect(server.code).not.toBeNull();
      expect(server.stderr).toMatch(/^latchkey: [^\n]*SECRET_KEY is required with DATABASE_URL[^\n]*\n$/);
      expect(server.stdout).not.toMatch(/"msg":"listening"/);
      expect(fs.readdirSync(dir)).toEqual([]); // no key file
      expect(await auditCount(dir)).toBe(0);
    }, SLOW);

    it('a DATABASE_URL with another scheme stops with one line', async () => {
      for (const url of ['mysql://latchkey:pw@127.0.0.1/latchkey', 'sqlite:///tmp/x.db']) {
        expectFailure(await cli(dir, ['audit', 'verify'], { env: { DATABASE_URL: url } }), /^latchkey: DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//);
      }
      const server = await runServer({ DATABASE_URL: 'mysql://latchkey:pw@127.0.0.1/latchkey', SECRET_KEY: base.SECRET_KEY });
      expect(server.code).not.toBe(0);
      expect(server.stderr).toMatch(/^latchkey: DATABASE_URL must start with postgres:\/\/ or postgresql:\/\/[^\n]*\n$/);
      expect(fs.readdirSync(dir)).toEqual([]);
    }, SLOW);

    it('an unreachable database and a wrong password each give one clear line without the password', async () => {
      const canary = 'pw-canary-7f3a9c';
      const unreachable = await cli(dir, ['audit', 'verify'], { env: { DATABASE_URL: urlWith({ password: canary, port: '1' }) } });
      expectFailure(unreachable, /cannot reach PostgreSQL at 127\.0\.0\.1:1\/\S+ .*check DATABASE_URL/);
      const wrong = await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n`, env: { DATABASE_URL: urlWith({ password: canary }) } });
      expectFailure(wrong, /cannot sign in to PostgreSQL at 127\.0\.0\.1:5432\/\S+: .*check the user and password in DATABASE_URL/);
      for (const r of [unreachable, wrong]) {
        expect(r.stdout + r.stderr).not.toContain(canary);
        expect(r.stdout).toBe('');
      }
      expect(fs.readdirSync(dir)).toEqual([]);
      expect(await auditCount(dir)).toBe(0);
    }, SLOW);

    it('refuses a database migrated by a newer version, changing nothing', async () => {
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      // A plain client: the engine itself (withDb) refuses this database from now on.
      const query = async (text: string, params: unknown[] = []) => {
        const c = new pg.Client({ connectionString: base.DATABASE_URL });
        await c.connect();
        try {
          return (await c.query(text, params)).rows;
        } finally {
          await c.end();
        }
      };
      await query('INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2)', ['from-a-newer-latchkey', 32503680000000]);
      const migrations = () => query('SELECT id, hash, created_at FROM drizzle.__drizzle_migrations ORDER BY id');
      const before = await migrations();
      for (const [args, input] of [[['audit', 'verify']], [['user', 'create', 'bob'], `${PASSWORD}\n`]] as [string[], string?][]) {
        const r = await cli(dir, args, { input });
        expectFailure(r, /the database was migrated by a newer version of Latchkey than this one/);
        expect(r.stdout).toBe('');
      }
      const server = await runServer({ DATABASE_URL: base.DATABASE_URL, SECRET_KEY: base.SECRET_KEY });
      expect(server.code).not.toBe(0);
      expect(server.stderr).toMatch(/^latchkey: the database was migrated by a newer version of Latchkey/m);
      expect(await migrations()).toEqual(before);
      expect(await query('SELECT id FROM audit_events')).toHaveLength(1);
      expect(await query('SELECT id FROM users')).toHaveLength(1);
    }, SLOW);

    it('`keys rotate` resumes an interrupted rotation to the first key of SECRET_KEY', async () => {
      // Interrupted as in the SQLite test above: some rows already rewrapped, each in its own transaction.
      const oldKey = base.SECRET_KEY;
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const seeded = await seedCredentials(dir, parseKeyRing(oldKey), 5);
      const newKey = generateKey();
      const both = parseKeyRing(`${newKey},${oldKey}`);
      const fresh = both.active;
      await withDb(dir, async (e) => {
        await checkKeyRing(e, both);
        expect(await rotateDataKeys(e, both, undefined, { limit: 2, batchSize: 1 })).toMatchObject({ credentials: 2, total: 2, complete: false });
        const onKey = (await e.db.select({ keyId: e.t.credentials.keyId }).from(e.t.credentials)).map((c) => c.keyId);
        expect(onKey.filter((k) => k === fresh.id)).toHaveLength(2);
      });
      const r = await cli(dir, ['keys', 'rotate'], { env: { SECRET_KEY: `${newKey},${oldKey}` } });
      expectOk(r);
      expect(r.stdout).toContain(`rewrapped 4 data keys under key ${fresh.id} (3 credentials, 1 instance key)`);
      expect(r.stdout).toMatch(/older keys are no longer needed; you may remove them from SECRET_KEY/);
      await expectAllOn(dir, parseKeyRing(newKey), seeded);
      expect((await cli(dir, ['audit', 'verify'], { env: { SECRET_KEY: newKey } })).stdout).toBe('ok 2\n');
    }, SLOW);

    it('`keys rotate` stops at a row it cannot unwrap, naming it, and resumes once the row is dealt with', async () => {
      const oldKey = base.SECRET_KEY;
      expectOk(await cli(dir, ['user', 'create', 'alice'], { input: `${PASSWORD}\n` }));
      const seeded = await seedCredentials(dir, parseKeyRing(oldKey), 3);
      const bad = seeded[1];
      await tamperWrappedKey(dir, bad.id);
      const newKey = generateKey();
      const env = { SECRET_KEY: `${newKey},${oldKey}` };
      const r = await cli(dir, ['keys', 'rotate'], { env });
      expectFailure(r, new RegExp(`cannot rewrap the credential row ${bad.id}: wrapped data key failed authentication`));
      expect(r.stdout).toMatch(/rewrapped 1 data key under key \w+ before the rotation stopped/);
      // The old key is still needed: it alone, or the new key alone, does not open the database.
      expectFailure(await cli(dir, ['audit', 'verify'], { env: { SECRET_KEY: newKey } }), /still needed/);
      await withDb(dir, async (e) => {
        const { auditEvents, credentials } = e.t;
        expect(first(await e.db.select().from(auditEvents).where(eq(auditEvents.action, 'keys.rotate')))).toMatchObject({ outcome: 'failure' });
        await e.write(async (tx) => void (await tx.delete(credentials).where(eq(credentials.id, bad.id))));
      });
      const again = await cli(dir, ['keys', 'rotate'], { env });
      expectOk(again);
      expect(again.stdout).toContain(`rewrapped 2 data keys under key ${parseKeyRing(newKey).active.id} (1 credential, 1 instance key)`);
      await expectAllOn(dir, parseKeyRing(newKey), [seeded[0], seeded[2]]);
      expect((await cli(dir, ['audit', 'verify'], { env: { SECRET_KEY: newKey } })).stdout).toBe('ok 3\n');
    }, SLOW);

    it('`audit verify` says ok, and `keys rotate` rewraps under the first key of SECRET_KEY', async () => {
      const k1 = base.SECRET_KEY;
      expectOk(await cli(dir, ['user', 'create', 'alice', '--admin'], { input: `${PASSWORD}\n` }));
      expectOk(await cli(dir, ['token', 'create', 'alice']));
      const seeded = await seedCredentials(dir, parseKeyRing(k1), 3);
      expect((await cli(dir, ['audit', 'verify'])).stdout).toBe('ok 2\n');
      const k2 = generateKey();
      const r = await cli(dir, ['keys', 'rotate'], { env: { SECRET_KEY: `${k2},${k1}` } });
      expectOk(r);
      expect(r.stdout).toContain(`rewrapped 4 data keys under key ${parseKeyRing(k2).active.id} (3 credentials, 1 instance key)`);
      expect(r.stdout).toMatch(/older keys are no longer needed; you may remove them from SECRET_KEY/);
      await expectAllOn(dir, parseKeyRing(k2), seeded);
      const v = await cli(dir, ['audit', 'verify'], { env: { SECRET_KEY: k2 } });
      expectOk(v);
      expect(v.stdout).toBe('ok 3\n');
      // An app on the same database with the new key alone serves alice's token.
      const t = await appOn(dir, parseKeyRing(k2));
      try {
        expect(await t.session('alice', PASSWORD)).toMatch(/session=/);
      } finally {
        await t.close();
      }
      expect(fs.readdirSync(dir)).toEqual([]);
    }, SLOW);
  });
});
