// Safe start (SECURITY.md, Secrets at rest and Durability): a damaged database file, a wrong key or
// a missing key file each stop `npm start` with one clear line and a non-zero exit, and touch
// nothing: no key file generated, no backup written, the database file unchanged. A new DATA_DIR
// gets its database and key file with mode 0600; an upgrade writes a pre-migration backup.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKey, parseKeyRing, writeKeyFile, type KeyRing } from '../../src/crypto/keyring';
import { hasPendingMigrations, MIGRATIONS_DIR, openDatabase } from '../../src/store/db';
import { createTestApp } from '../helpers/app';
import { ENGINE } from '../helpers/database';
import { cli, killChildren, listFiles, startServer, tempDir } from './helpers';

const SLOW = 60_000;
const dirs: string[] = [];
afterEach(async () => {
  await killChildren();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function newDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const dbFileOf = (dir: string) => path.join(dir, 'latchkey.db');

/** A real database holding a user, a token and a credential, closed cleanly (no -wal left). */
async function realDatabase(dir: string, ring: KeyRing): Promise<void> {
  const t = await createTestApp({ dir, ring });
  const alice = await t.user('alice');
  const res = await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'GitHub', type: 'github', secrets: { token: 'canary-safe-start' } });
  expect(res.status).toBe(201);
  await t.close();
  expect(fs.existsSync(`${dbFileOf(dir)}-wal`)).toBe(false);
}

/** Starts the server, expects it to refuse with one `latchkey: ...` line and exit 1, having touched nothing. */
async function expectRefusal(dir: string, env: Record<string, string>, message: RegExp) {
  const before = { files: listFiles(dir), db: sha(dbFileOf(dir)) };
  const s = await startServer(dir, env, { waitHealthy: false });
  const exit = await s.exited;
  expect(exit, s.stdout() + s.stderr()).toEqual({ code: 1, signal: null });
  expect(s.stderr()).toMatch(/^latchkey: [^\n]+\n$/);
  expect(s.stderr()).toMatch(message);
  expect(s.stdout()).not.toMatch(/listening/);
  expect(listFiles(dir)).toEqual(before.files);
  expect(sha(dbFileOf(dir))).toBe(before.db);
  return s.stderr();
}

/** Overwrites `count` bytes of the page that holds the root of `table`, from the page's middle. */
function damagePage(dir: string, table: string, count = 2048) {
  const file = dbFileOf(dir);
  const probe = new Database(file); // read-write, so that closing it removes its -wal and -shm
  const pageSize = probe.pragma('page_size', { simple: true }) as number;
  const { rootpage } = probe.prepare(`SELECT rootpage FROM sqlite_master WHERE name = ?`).get(table) as { rootpage: number };
  probe.close();
  const fd = fs.openSync(file, 'r+');
  const junk = Buffer.alloc(count, 0xa5);
  fs.writeSync(fd, junk, 0, count, (rootpage - 1) * pageSize + pageSize / 2 - count / 2);
  // The page header too: a btree page that no longer says what it is.
  fs.writeSync(fd, Buffer.from([0x42, 0x42, 0x42, 0x42]), 0, 4, (rootpage - 1) * pageSize + (rootpage === 1 ? 100 : 0));
  fs.closeSync(fd);
}

// About DATA_DIR itself: the SQLite file and the key file (PostgreSQL's start checks: test/cli).
describe.skipIf(ENGINE === 'pg')('start refuses, touching nothing', () => {
  it(
    'a database with damaged pages: no key file is generated, no backup written',
    async () => {
      const dir = newDir();
      const ring = parseKeyRing(generateKey());
      await realDatabase(dir, ring);
      damagePage(dir, 'credentials');
      damagePage(dir, 'audit_events');
      // No SECRET_KEY and no key file: the old order generated a key file before opening the database.
      const line = await expectRefusal(dir, {}, /database .*latchkey\.db is damaged \(quick_check: .+\); restore it from a backup/);
      expect(fs.existsSync(path.join(dir, 'secret.key'))).toBe(false);
      expect(fs.existsSync(path.join(dir, 'backups'))).toBe(false);
      expect(line).not.toContain('canary');
    },
    SLOW,
  );

  it(
    'a database file whose header is garbage',
    async () => {
      const dir = newDir();
      const ring = parseKeyRing(generateKey());
      await realDatabase(dir, ring);
      const fd = fs.openSync(dbFileOf(dir), 'r+');
      fs.writeSync(fd, Buffer.from('this is not an SQLite header, it is garbage!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'), 0, 100, 0);
      fs.closeSync(fd);
      await expectRefusal(dir, { SECRET_KEY: generateKey() }, /database .*latchkey\.db is damaged or is not a database \(file is not a database\)/);
      expect(fs.existsSync(path.join(dir, 'secret.key'))).toBe(false);
    },
    SLOW,
  );

  it(
    'a wrong SECRET_KEY, and a wrong key file',
    async () => {
      const dir = newDir();
      const ring = parseKeyRing(generateKey());
      await realDatabase(dir, ring);
      await expectRefusal(dir, { SECRET_KEY: generateKey() }, /master key does not match this database/);
      writeKeyFile(dir, parseKeyRing(generateKey()));
      await expectRefusal(dir, {}, /master key does not match this database/);
    },
    SLOW,
  );

  it(
    'a missing key file for a database that holds secrets: refuses rather than generate a new key (server and CLI)',
    async () => {
      const dir = newDir();
      const ring = parseKeyRing(generateKey());
      writeKeyFile(dir, ring);
      await realDatabase(dir, ring);
      fs.rmSync(path.join(dir, 'secret.key'));
      await expectRefusal(dir, {}, /holds secrets wrapped by a master key, but .*secret\.key is missing and SECRET_KEY is not set/);
      const r = await cli(dir, ['audit', 'verify']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^latchkey: the database holds secrets wrapped by a master key, but [^\n]*\n$/);
      expect(fs.existsSync(path.join(dir, 'secret.key'))).toBe(false);
      // With its key back, it starts.
      writeKeyFile(dir, ring);
      const s = await startServer(dir);
      expect((await s.kill('SIGTERM')).code).toBe(0);
    },
    SLOW,
  );
});

describe.skipIf(ENGINE === 'pg')('first start and upgrades', () => {
  it(
    'a new DATA_DIR gets the database and the key file with mode 0600, and the log says a key was generated',
    async () => {
      const dir = path.join(newDir(), 'data');
      const s = await startServer(dir);
      expect(fs.statSync(dbFileOf(dir)).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      expect((await s.kill('SIGTERM')).code).toBe(0);
      const lines = s.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      expect(lines.find((l) => l.msg.startsWith('generated a new master key'))).toMatchObject({ level: 'warn' });
      expect(lines.find((l) => l.msg === 'database and keys checked')).toMatchObject({ quickCheck: 'ok' });
      const key = fs.readFileSync(path.join(dir, 'secret.key'), 'utf8').trim();
      expect(s.stdout()).not.toContain(key);
    },
    SLOW,
  );

  it('an upgrade writes a pre-migration backup into DATA_DIR/backups/ that still opens with the old schema', () => {
    const dir = newDir();
    const file = dbFileOf(dir);
    openDatabase(file).$client.close();
    // A newer release: the real migrations plus one more.
    const next = path.join(newDir(), 'migrations');
    fs.cpSync(MIGRATIONS_DIR, next, { recursive: true });
    const journalFile = path.join(next, 'meta/_journal.json');
    const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8'));
    const last = journal.entries.at(-1);
    journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: '9999_ops_test' });
    fs.writeFileSync(journalFile, JSON.stringify(journal));
    fs.writeFileSync(path.join(next, '9999_ops_test.sql'), 'CREATE TABLE `ops_upgrade_probe` (`x` integer);');

    const probe = new Database(file);
    expect(hasPendingMigrations(probe)).toBe(false);
    expect(hasPendingMigrations(probe, next)).toBe(true);
    probe.close();

    // Without backupBeforeMigrate (tests, in-memory use) nothing is copied; the server always asks for it.
    const db = openDatabase(file, { backupBeforeMigrate: true, migrationsFolder: next });
    expect(db.$client.prepare(`SELECT name FROM sqlite_master WHERE name = 'ops_upgrade_probe'`).get()).toBeDefined();
    db.$client.close();
    const backups = fs.readdirSync(path.join(dir, 'backups'));
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(/^pre-migrate-.*\.db$/);
    const backup = path.join(dir, 'backups', backups[0]);
    expect(fs.statSync(backup).mode & 0o777).toBe(0o600);
    const old = new Database(backup);
    expect(old.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(old.prepare(`SELECT name FROM sqlite_master WHERE name = 'ops_upgrade_probe'`).get()).toBeUndefined();
    expect(old.prepare(`SELECT count(*) AS n FROM __drizzle_migrations`).get()).toEqual({ n: journal.entries.length - 1 });
    old.close();

    // Opening again: nothing pending, no second backup.
    openDatabase(file, { backupBeforeMigrate: true, migrationsFolder: next }).$client.close();
    expect(fs.readdirSync(path.join(dir, 'backups'))).toHaveLength(1);
  });
});
