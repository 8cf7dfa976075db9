// The database a test app runs on: a temp SQLite file (default), or, with
// LATCHKEY_TEST_DATABASE_URL=postgres://…, a fresh PostgreSQL database made for it from a template
// migrated once with the real migrations. The whole HTTP and CLI suite runs on either.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, sqliteEngine } from '../../src/store/db';
import { openPostgres } from '../../src/store/postgres';
import type { Engine } from '../../src/store/engine';
import { MIGRATIONS_PG_DIR } from '../../src/paths';

export const PG_URL = process.env.LATCHKEY_TEST_DATABASE_URL || undefined;
export const ENGINE: 'sqlite' | 'pg' = PG_URL ? 'pg' : 'sqlite';

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: withDatabase(PG_URL!, 'postgres') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

let template: Promise<string> | undefined;

/** The template database, migrated once per version of the migrations (any number of workers may ask at once). */
function templateDatabase(): Promise<string> {
  template ??= (async () => {
    const journal = fs.readFileSync(path.join(MIGRATIONS_PG_DIR, 'meta/_journal.json'), 'utf8');
    const name = `lk_tpl_${crypto.createHash('sha256').update(journal).digest('hex').slice(0, 12)}`;
    await admin(async (c) => {
      await c.query('SELECT pg_advisory_lock(76, 1)');
      try {
        const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (exists.rowCount === 0) {
          await c.query(`CREATE DATABASE ${name}`);
          const engine = await openPostgres(withDatabase(PG_URL!, name), { max: 1 });
          await engine.close();
        }
      } finally {
        await c.query('SELECT pg_advisory_unlock(76, 1)');
      }
    });
    return name;
  })();
  return template;
}

let counter = 0;

/** A new PostgreSQL database (migrated, empty) and its URL; drop() removes it. */
export async function freshPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const tpl = await templateDatabase();
  const name = `lk_t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  await admin(async (c) => {
    // CREATE DATABASE … TEMPLATE needs the template free of sessions: serialize the copies.
    await c.query('SELECT pg_advisory_lock(76, 2)');
    try {
      await c.query(`CREATE DATABASE ${name} TEMPLATE ${tpl}`);
    } finally {
      await c.query('SELECT pg_advisory_unlock(76, 2)');
    }
  });
  return {
    url: withDatabase(PG_URL!, name),
    drop: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}

/** Opens the engine for a test app: `dbFile` on SQLite, or a fresh PostgreSQL database (or `databaseUrl`'s, which the caller drops). */
export async function openTestEngine(dbFile: string, databaseUrl?: string): Promise<{ engine: Engine; databaseUrl?: string; drop(): Promise<void> }> {
  if (PG_URL && databaseUrl) return { engine: await openPostgres(databaseUrl, { max: 4 }), databaseUrl, drop: async () => {} };
  if (!PG_URL) return { engine: sqliteEngine(openDatabase(dbFile)), drop: async () => {} };
  const db = await freshPgDatabase();
  return { engine: await openPostgres(db.url, { max: 4 }), databaseUrl: db.url, drop: db.drop };
}
