// The database engine behind the store: SQLite (one file, the default) or PostgreSQL (many
// instances on one database). Everything above this file is the same on both.
//
// Queries are written once with drizzle's query builder and typed through the SQLite schema
// (db/schema.ts); at run time they are built with the engine's own tables (`t`: db/schema.ts or
// db/schema-pg.ts, which test/unit/schema-drift.test.ts keeps column for column alike). The
// builders both drivers share are awaited (never `.get()`, `.all()` or `.run()`, which only the
// SQLite driver has): `first(await q)`, `await q`.
//
// Writes go through `write` only, and one at a time, on both engines: SQLite has one writer by
// design, and PostgreSQL takes one transaction-scoped advisory lock (WRITE_LOCK), so the rules
// that read before they write (the last admin, unique names, the audit chain's next link) hold
// across every instance exactly as they do in one process.
import { sql, type SQL } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type * as schema from '../../db/schema';

export type Dialect = 'sqlite' | 'pg';

/** The query surface both engines share, typed through the SQLite schema. */
export type Orm = BetterSQLite3Database<typeof schema>;

/** A write transaction's handle: the same query surface, inside the transaction. */
export type Tx = Orm;

/** The tables of the engine's own dialect, typed through the SQLite schema. */
export type Tables = typeof schema;

export type Engine = {
  dialect: Dialect;
  /** Reads outside a transaction (SQLite: a query-only connection; PostgreSQL: the pool). */
  db: Orm;
  t: Tables;
  /** Runs `fn` in one write transaction, one at a time across every instance, and commits; rolls back if it throws. */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs `fn` inside `tx` in a savepoint: if it throws, only its own writes roll back. */
  savepoint<T>(tx: Tx, fn: () => Promise<T>): Promise<T>;
  /** True when `tx` is a handle of an open write transaction. */
  inWrite(tx: Tx): boolean;
  /**
   * Memory that lives exactly as long as `tx`'s write transaction: made empty at its start,
   * emptied when a savepoint rolls back (what it remembered may have been undone), dropped at
   * commit or rollback. For what a transaction may reuse because it holds the write lock (the
   * audit chain's last link, statements prepared on its connection).
   */
  txState(tx: Tx): Map<string, unknown>;
  /** Rows of a raw SQL text with `?` placeholders, on `tx` or else outside a transaction. */
  rows<R>(text: string, params?: readonly unknown[], tx?: Tx): Promise<R[]>;
  /** Resolves when the database answers a trivial query; rejects when it cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** SQLite only: the connection that writes (online backup, tests' raw access). */
  sqlite?: import('better-sqlite3').Database;
};

/** The first row of a result, or undefined. */
export function first<R>(rows: readonly R[]): R | undefined {
  return rows[0];
}

/** Builds a drizzle SQL object from a text with `?` placeholders (never inside quoted literals). */
export function rawSql(text: string, params: readonly unknown[] = []): SQL {
  const parts = text.split('?');
  if (parts.length - 1 !== params.length) throw new Error(`raw SQL has ${parts.length - 1} placeholders for ${params.length} values`);
  const chunks: SQL[] = [sql.raw(parts[0])];
  for (let i = 0; i < params.length; i++) chunks.push(sql`${params[i]}`, sql.raw(parts[i + 1]));
  return sql.join(chunks);
}

/** The one row a statement must return (an INSERT … RETURNING); throws if there is none. */
export function one<R>(rows: readonly R[]): R {
  if (rows.length === 0) throw new Error('the statement returned no row');
  return rows[0];
}
