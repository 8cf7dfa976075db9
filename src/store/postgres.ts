// The PostgreSQL engine (DATABASE_URL): one pool per instance, migrations once under a lock.
//
// Several instances may start at once on an empty database: each takes the session-level
// advisory lock MIGRATE_LOCK before it looks at the schema, so exactly one migrates while the
// others wait, then find nothing left to do. Writes take the transaction-level WRITE_LOCK
// (see src/store/engine.ts), which also makes the audit chain one chain across instances.
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import * as schema from '../../db/schema-pg';
import { MIGRATIONS_PG_DIR } from '../paths';
import { rawSql, type Engine, type Orm, type Tables, type Tx } from './engine';
import { newerSchemaMessage } from './migrations';
import { describePgError } from './pg-errors';

/** Advisory lock keys (two int4s): Latchkey's class id, then what the lock guards. */
const LOCK_CLASS = 0x4c4b;
const MIGRATE_LOCK = 1;
const WRITE_LOCK = 2;

export type PgOpenOptions = {
  /** Runs on the locked migration connection before any migration; throw to stop (nothing migrated). */
  beforeMigrate?: (storedKeyChecks: Map<string, string>) => void;
  /** Tests only: another migrations folder. */
  migrationsFolder?: string;
  /** Pool size (default 10). */
  max?: number;
};

// int8 (count(*), max(id), bigint columns) as a JS number: every value Latchkey stores in one is
// far below 2^53. Set on pg's global type table, because drizzle passes its own per-query parser
// that falls back to it (a pool-level `types` would not reach raw queries).
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

/** Returns the migrated PostgreSQL engine, or throws an Error with a one-line message (the password never in it). */
export async function openPostgres(url: string, opts: PgOpenOptions = {}): Promise<Engine> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
  // A lost connection must fail only what uses it, never end the process. While idle in the pool
  // its 'error' reaches the pool (and it is replaced on the next query); while checked out, say
  // between two statements of a transaction, pg emits it on the client itself, where the pool has
  // no listener. The transaction's next statement then fails as unavailable and the pool drops
  // the dead client when it is released.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => void client.on('error', () => undefined));
  try {
    await migrateLocked(pool, opts);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(describePgError(err, url), { cause: err });
  }
  const db = drizzle(pool, { schema }) as unknown as Orm & { transaction: (fn: (tx: Tx) => Promise<unknown>) => Promise<unknown> };
  let savepoints = 0;
  // Each transaction's memory (see Engine.txState), keyed by its handle: a new one per transaction.
  const states = new WeakMap<Tx, Map<string, unknown>>();
  const exec = (tx: Tx, text: string) => (tx as unknown as { execute(q: unknown): Promise<unknown> }).execute(sql.raw(text));
  let queue: Promise<unknown> = Promise.resolve();
  const writeLocked = async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
    return (await db.transaction(async (tx) => {
      await exec(tx, `SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${WRITE_LOCK})`);
      states.set(tx, new Map());
      try {
        return await fn(tx);
      } finally {
        states.delete(tx);
      }
    })) as T;
  };
  return {
    dialect: 'pg',
    db,
    t: schema as unknown as Tables,
    write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      // One write transaction at a time per instance, queued here as on SQLite: waiting for the
      // lock then holds no pool connection the reads need. The advisory lock orders instances.
      const run = () => writeLocked(fn);
      const result = queue.then(run, run);
      queue = result.catch(() => undefined);
      return result;
    },
    async savepoint<T>(tx: Tx, fn: () => Promise<T>): Promise<T> {
      const name = `sp${++savepoints}`;
      await exec(tx, `SAVEPOINT ${name}`);
      try {
        const result = await fn();
        await exec(tx, `RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (err) {
        states.get(tx)?.clear();
        await exec(tx, `ROLLBACK TO SAVEPOINT ${name}`);
        throw err;
      }
    },
    inWrite: (tx) => tx !== db,
    txState(tx) {
      const state = states.get(tx);
      if (!state) throw new Error('txState needs the open write transaction');
      return state;
    },
    async rows<R>(text: string, params: readonly unknown[] = [], tx?: Tx): Promise<R[]> {
      const res = (await ((tx ?? db) as unknown as { execute(q: unknown): Promise<{ rows: R[] }> }).execute(rawSql(text, params))) as { rows: R[] };
      return res.rows;
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}

async function migrateLocked(pool: pg.Pool, opts: PgOpenOptions): Promise<void> {
  const migrationsFolder = opts.migrationsFolder ?? MIGRATIONS_PG_DIR;
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, MIGRATE_LOCK]);
    try {
      const has = async (table: string) => (await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table])).rows[0]?.t != null;
      const applied = (await has('drizzle.__drizzle_migrations'))
        ? (await client.query<{ t: string | null }>('SELECT max(created_at)::text AS t FROM drizzle.__drizzle_migrations')).rows
        : [];
      const newer = newerSchemaMessage(migrationsFolder, Number(applied[0]?.t ?? 0));
      if (newer) throw new Error(newer);
      if (opts.beforeMigrate) {
        const stored = new Map<string, string>();
        if (await has('public.master_keys')) {
          for (const r of (await client.query<{ id: string; value: string }>('SELECT key_id AS id, "check" AS value FROM master_keys')).rows) stored.set(r.id, r.value);
        }
        opts.beforeMigrate(stored);
      }
      await migrate(drizzle(client), { migrationsFolder });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, MIGRATE_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}
