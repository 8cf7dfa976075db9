// Prepared statements for the hot paths (token check, workspace lookup, toolkit resolution).
// Drizzle builds SQL and better-sqlite3 prepares it on every plain query; preparing once per
// database and binding placeholders keeps execute-path queries to a bind and a step.
import type { Db } from './db';

const cache = new WeakMap<Db, Map<string, unknown>>();

/** Returns the query `build` makes, prepared once per database and cached under `key`. */
export function prepared<T>(db: Db, key: string, build: () => T): T {
  let perDb = cache.get(db);
  if (!perDb) cache.set(db, (perDb = new Map()));
  let q = perDb.get(key) as T | undefined;
  if (!q) perDb.set(key, (q = build()));
  return q;
}
