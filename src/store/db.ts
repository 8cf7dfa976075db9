// Opens the SQLite database with the durability settings of SECURITY.md and migrates it.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from '../../db/schema';
import { MIGRATIONS_DIR } from '../paths';
import { rawSql, type Engine, type Orm, type Tx } from './engine';
import { journalTimes, newerSchemaMessage } from './migrations';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export { MIGRATIONS_DIR };

/** Thrown when the database file is damaged or not a database; nothing was written to it. */
export class DatabaseDamagedError extends Error {
  override name = 'DatabaseDamagedError';
}

export type OpenOptions = {
  /** Copy an existing database into DATA_DIR/backups/ before a migration changes it. */
  backupBeforeMigrate?: boolean;
  /** Runs after the checks and before any backup or migration; throw to stop (nothing migrated). */
  beforeMigrate?: (sqlite: Database.Database) => void;
  /** Tests only: another migrations folder. */
  migrationsFolder?: string;
};

/**
 * Returns the open database after a quick_check, the pragmas and any pending migrations.
 * A new file is created with mode 0600. A damaged file throws DatabaseDamagedError before anything
 * is written to it (the quick_check runs before the first pragma that could write).
 */
export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  const migrationsFolder = opts.migrationsFolder ?? MIGRATIONS_DIR;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const existed = fs.existsSync(file) && fs.statSync(file).size > 0;
  if (!fs.existsSync(file)) createPrivateFile(file);
  let sqlite: Database.Database;
  try {
    sqlite = new Database(file);
  } catch (err) {
    throw new Error(`cannot open the database ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    sqlite.pragma('busy_timeout = 5000');
    quickCheck(sqlite, file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('secure_delete = ON');
    opts.beforeMigrate?.(sqlite);
    refuseNewerSchema(sqlite, migrationsFolder);
    if (existed && opts.backupBeforeMigrate && hasPendingMigrations(sqlite, migrationsFolder)) {
      // An upgrade changes the schema: keep the pre-upgrade file next to it, so a failed or
      // regretted upgrade can be undone by putting it back. It goes in backups/ so latchkey.db
      // stays the only database file in DATA_DIR.
      const dir = path.join(path.dirname(file), 'backups');
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
      const copy = path.join(dir, `pre-migrate-${new Date().toISOString().replace(/[:.]/g, '-')}.db`);
      fs.copyFileSync(file, copy, fs.constants.COPYFILE_EXCL);
      fs.chmodSync(copy, 0o600);
    }
    const db = drizzle(sqlite, { schema });
    migrate(db, { migrationsFolder });
    return db as Db;
  } catch (err) {
    sqlite.close();
    throw err;
  }
}

/** Creates an empty file readable by its owner only; SQLite gives its -wal and -shm files the same mode. */
function createPrivateFile(file: string): void {
  try {
    const fd = fs.openSync(file, 'wx', 0o600);
    try {
      fs.fchmodSync(fd, 0o600); // whatever the umask
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

const DAMAGE_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_VTAB']);

/** Throws DatabaseDamagedError, with a one-line message, unless PRAGMA quick_check says ok. */
function quickCheck(sqlite: Database.Database, file: string): void {
  const advice = 'restore it from a backup (see Operations in the README); refusing to start';
  let result: string;
  try {
    result = String(sqlite.pragma('quick_check', { simple: true }));
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!DAMAGE_CODES.has(code)) throw err;
    throw new DatabaseDamagedError(`the database ${file} is damaged or is not a database (${oneLine((err as Error).message)}); ${advice}`);
  }
  if (result !== 'ok') throw new DatabaseDamagedError(`the database ${file} is damaged (quick_check: ${oneLine(result).slice(0, 200)}); ${advice}`);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Throws when the database was migrated by a newer Latchkey than this one (its schema is unknown here). */
function refuseNewerSchema(sqlite: Database.Database, migrationsFolder: string): void {
  const message = newerSchemaMessage(migrationsFolder, lastApplied(sqlite) ?? 0);
  if (message) throw new Error(message);
}

/** The `when` of the newest migration applied to this database; null before the first one. */
function lastApplied(sqlite: Database.Database): number | null {
  const table = sqlite.prepare(`SELECT name FROM sqlite_master WHERE type='table' AND name='__drizzle_migrations'`).get();
  if (!table) return null;
  return (sqlite.prepare('SELECT max(created_at) AS t FROM __drizzle_migrations').get() as { t: number | null }).t;
}

/**
 * Returns the SQLite engine over an open, migrated database: writes on `db`'s connection, one
 * transaction at a time (BEGIN IMMEDIATE, queued in process); reads on a second, query-only
 * connection to the same file, which sees committed data only (WAL) and can never write, so a
 * write outside `write` fails at once instead of waiting for the lock the writer holds.
 */
export function sqliteEngine(db: Db): Engine {
  const writer = db.$client;
  const reader = new Database(writer.name);
  reader.pragma('busy_timeout = 5000');
  reader.pragma('query_only = ON');
  const readDb = drizzle(reader, { schema }) as Db;
  let queue: Promise<unknown> = Promise.resolve();
  let savepoints = 0;
  // The open write transaction's memory (see Engine.txState); the writer runs one at a time.
  let state: Map<string, unknown> | null = null;
  const engine: Engine = {
    dialect: 'sqlite',
    sqlite: writer,
    db: readDb,
    t: schema,
    write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      const run = async () => {
        writer.exec('BEGIN IMMEDIATE');
        state = new Map();
        try {
          const result = await fn(db);
          writer.exec('COMMIT');
          return result;
        } catch (err) {
          if (writer.inTransaction) writer.exec('ROLLBACK');
          throw err;
        } finally {
          state = null;
        }
      };
      const result = queue.then(run, run);
      queue = result.catch(() => undefined);
      return result;
    },
    async savepoint<T>(_tx: Tx, fn: () => Promise<T>): Promise<T> {
      const name = `sp${++savepoints}`;
      writer.exec(`SAVEPOINT ${name}`);
      try {
        const result = await fn();
        writer.exec(`RELEASE ${name}`);
        return result;
      } catch (err) {
        writer.exec(`ROLLBACK TO ${name}`);
        writer.exec(`RELEASE ${name}`);
        state?.clear();
        throw err;
      }
    },
    inWrite: (tx) => tx === db && writer.inTransaction,
    txState(tx) {
      if (tx !== db || !state) throw new Error('txState needs the open write transaction');
      return state;
    },
    async rows<R>(text: string, params: readonly unknown[] = [], tx?: Tx): Promise<R[]> {
      return ((tx ?? readDb) as Orm).all(rawSql(text, params)) as R[];
    },
    async ping() {
      reader.prepare('SELECT 1').get();
    },
    async close() {
      reader.close();
      writer.close();
    },
  };
  return engine;
}

/** True when the migrations folder has a migration newer than the last one applied to this database. */
export function hasPendingMigrations(sqlite: Database.Database, migrationsFolder = MIGRATIONS_DIR): boolean {
  const last = lastApplied(sqlite);
  return last === null || journalTimes(migrationsFolder).some((when) => when > last);
}
