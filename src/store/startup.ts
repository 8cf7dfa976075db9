// Opening DATA_DIR at start (server and CLI), in an order that never makes a bad situation worse:
//
// 1. SECRET_KEY is parsed, or an existing key file read; a malformed key stops here.
// 2. The database is opened and quick_checked before anything is written to it: a damaged file
//    stops start with no backup, no key file and no migration (src/store/db.ts).
// 3. Before any migration, the key is compared with the key checks the database stores: a wrong
//    key stops here. A missing key file is only generated when the database holds no key check
//    yet (a new or empty database); if it holds one, start stops, because a new key could not
//    read the stored secrets (SECURITY.md: never silently generate a new key).
// 4. The pre-migration backup and the migrations run; createStore (src/store/store.ts) then does
//    the full key check, including keys still needed by wrapped data.
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Config } from '../config';
import { KEY_FILE_NAME, keyCheck, loadKeyRing, type KeyRing } from '../crypto/keyring';
import { openDatabase, sqliteEngine } from './db';
import type { Engine } from './engine';
import { KeyMismatchError } from './keys';

export type LoadedKeys = ReturnType<typeof loadKeyRing>;

/** Returns the migrated database and the key ring for it, or throws an Error with a one-line message. */
export async function openDataDir(config: Config, opts: { backupBeforeMigrate?: boolean } = {}): Promise<{ engine: Engine; keys: LoadedKeys }> {
  if (config.databaseUrl) {
    // PostgreSQL: every instance shares the key ring through SECRET_KEY (config requires it); no key file.
    const keys = loadKeyRing({ secretKeyEnv: config.secretKey, dataDir: config.dataDir });
    // Loaded only here, so a SQLite instance never loads the `pg` driver (bench/analysis.md, f4).
    const { openPostgres } = await import('./postgres');
    const engine = await openPostgres(config.databaseUrl, { beforeMigrate: (stored) => preCheck(stored, keys.ring) });
    return { engine, keys };
  }
  const keyFile = path.join(config.dataDir, KEY_FILE_NAME);
  let keys: LoadedKeys | undefined = config.secretKey || fs.existsSync(keyFile) ? loadKeyRing({ secretKeyEnv: config.secretKey, dataDir: config.dataDir }) : undefined;
  const db = openDatabase(config.dbFile, {
    backupBeforeMigrate: opts.backupBeforeMigrate,
    beforeMigrate: (sqlite) => {
      const stored = storedKeyChecks(sqlite);
      if (keys) return preCheck(stored, keys.ring);
      if (stored.size > 0) {
        throw new KeyMismatchError(
          `the database holds secrets wrapped by a master key, but ${keyFile} is missing and SECRET_KEY is not set: ` +
            'put the key file back or set SECRET_KEY (a new key could not read them, so none is generated); refusing to start',
        );
      }
    },
  });
  try {
    keys ??= loadKeyRing({ secretKeyEnv: undefined, dataDir: config.dataDir });
    return { engine: sqliteEngine(db), keys };
  } catch (err) {
    db.$client.close();
    throw err;
  }
}

/** The key checks the database stores, by key id; empty for a new database (no table yet). */
function storedKeyChecks(sqlite: Database.Database): Map<string, string> {
  const table = sqlite.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'master_keys'`).get();
  if (!table) return new Map();
  const rows = sqlite.prepare('SELECT key_id AS id, "check" AS value FROM master_keys').all() as { id: string; value: string }[];
  return new Map(rows.map((r) => [r.id, r.value]));
}

/** The part of checkKeyRing (src/store/keys.ts) that needs no migrated schema: the ring matches the stored checks. */
function preCheck(stored: Map<string, string>, ring: KeyRing): void {
  for (const k of ring.keys) {
    const check = stored.get(k.id);
    if (check !== undefined && check !== keyCheck(k)) throw new KeyMismatchError(`master key ${k.id} does not match the check value stored in the database`);
  }
  if (stored.size > 0 && !ring.keys.some((k) => stored.has(k.id))) {
    throw new KeyMismatchError('the master key does not match this database (check SECRET_KEY or DATA_DIR/secret.key); refusing to start');
  }
}
