// Opens the SQLite database with the durability settings of SECURITY.md and migrates it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from '../../db/schema';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../db/migrations');

/** Returns the open database after pragmas, a quick_check and any pending migrations. */
export function openDatabase(file: string, opts: { backupBeforeMigrate?: boolean } = {}): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const existed = fs.existsSync(file) && fs.statSync(file).size > 0;
  const sqlite = new Database(file);
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('secure_delete = ON');
    const check = sqlite.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`database ${file} failed quick_check: ${String(check)}`);
    if (existed && opts.backupBeforeMigrate && hasPendingMigrations(sqlite)) {
      // An upgrade changes the schema: keep the pre-upgrade file next to it, so a failed or
      // regretted upgrade can be undone by putting it back. It goes in backups/ so latchkey.db
      // stays the only database file in DATA_DIR.
      const dir = path.join(path.dirname(file), 'backups');
      fs.mkdirSync(dir, { recursive: true });
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
      fs.copyFileSync(file, path.join(dir, `pre-migrate-${new Date().toISOString().replace(/[:.]/g, '-')}.db`));
    }
    const db = drizzle(sqlite, { schema });
    migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    return db as Db;
  } catch (err) {
    sqlite.close();
    throw err;
  }
}

function hasPendingMigrations(sqlite: Database.Database): boolean {
  const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as {
    entries: { when: number }[];
  };
  const table = sqlite.prepare(`SELECT name FROM sqlite_master WHERE type='table' AND name='__drizzle_migrations'`).get();
  if (!table) return true;
  const last = sqlite.prepare('SELECT max(created_at) AS t FROM __drizzle_migrations').get() as { t: number | null };
  return journal.entries.some((e) => e.when > (last.t ?? 0));
}
