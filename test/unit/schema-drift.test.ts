// The two schema modules (db/schema.ts for SQLite, db/schema-pg.ts for PostgreSQL) describe the
// same tables: same exports, JS keys, SQL names, nullability, keys, defaults, indexes and foreign
// keys. A column, index or ON DELETE changed in one dialect only fails here. The committed
// migrations are then checked against their module: SQLite's on an in-memory database, and
// PostgreSQL's (append-only trigger, unique prev_hash, ON DELETE) on a scratch database made from
// LATCHKEY_TEST_DATABASE_URL (skipped when it is unset).
import Database from 'better-sqlite3';
import { getTableColumns, getTableName, is, SQL, type Column, type Table } from 'drizzle-orm';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { getTableConfig as pgConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowMs } from '../../db/columns';
import * as sqliteSchema from '../../db/schema';
import * as pgSchema from '../../db/schema-pg';

const ROOT = path.resolve(import.meta.dirname, '../..');

type Dialect = 'sqlite' | 'pg';

/**
 * Where the dialects differ on purpose, by `table.column`: what each side says instead.
 * audit_events.id: SQLite's is INTEGER PRIMARY KEY AUTOINCREMENT (a rowid, which drizzle counts
 * as a default), PostgreSQL's a plain integer: the app assigns last+1 under the append lock.
 */
const INTENDED: Record<string, Partial<Record<Dialect, Partial<ColumnShape>>>> = {
  'audit_events.id': { sqlite: { hasDefault: true, generated: true }, pg: { hasDefault: false, generated: false } },
};

type ColumnShape = {
  name: string;
  kind: string;
  notNull: boolean;
  primary: boolean;
  hasDefault: boolean;
  generated: boolean;
  default: string | null;
  unique: string | null;
  enumValues: readonly string[] | null;
};

/** A column as both dialects can state it: types reduced to what the app sees. */
function shape(dialect: Dialect, col: Column): ColumnShape {
  const sqlType = col.getSQLType();
  const kind =
    col.dataType === 'boolean'
      ? 'boolean'
      : sqlType === 'blob' || sqlType === 'bytea'
        ? 'bytes'
        : sqlType === 'integer' || sqlType === 'bigint'
          ? 'integer'
          : sqlType === 'text'
            ? 'text'
            : `unexpected ${sqlType}`;
  let def: string | null = null;
  if (is(col.default, SQL)) def = col.default === nowMs[dialect] ? 'now' : `another SQL default on ${dialect}`;
  else if (col.default !== undefined) def = JSON.stringify(col.default);
  const generated =
    dialect === 'sqlite' ? Boolean((col as unknown as { autoIncrement?: boolean }).autoIncrement) : Boolean((col as unknown as { generatedIdentity?: unknown }).generatedIdentity);
  const enumValues = col.enumValues && col.enumValues.length > 0 ? col.enumValues : null;
  return {
    name: col.name,
    kind,
    notNull: col.notNull,
    primary: col.primary,
    hasDefault: col.hasDefault,
    generated,
    default: def,
    unique: col.isUnique ? (col.uniqueName ?? 'unnamed') : null,
    enumValues,
  };
}

const colNames = (cols: readonly unknown[]) => cols.map((c) => (c as { name?: string }).name ?? `expression ${String(c)}`);

/** Everything about one table that must be the same on both engines. */
function describeTable(dialect: Dialect, table: Table) {
  const config = dialect === 'sqlite' ? sqliteConfig(table as SQLiteTable) : pgConfig(table as PgTable);
  const tableName = getTableName(table);
  const columns = Object.fromEntries(
    Object.entries(getTableColumns(table)).map(([key, col]) => {
      const s: Record<string, unknown> = shape(dialect, col);
      // An intended difference compares equal when each side says what INTENDED expects of it.
      for (const [field, expected] of Object.entries(INTENDED[`${tableName}.${col.name}`]?.[dialect] ?? {})) {
        s[field] = s[field] === expected ? 'intended difference' : `${dialect} has ${String(s[field])}, INTENDED says ${String(expected)}`;
      }
      return [key, s];
    }),
  );
  const indexes = config.indexes
    .map((i) => ({ name: i.config.name ?? '(unnamed)', unique: Boolean(i.config.unique), columns: colNames(i.config.columns as readonly unknown[]) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const foreignKeys = config.foreignKeys
    .map((fk) => {
      const ref = fk.reference();
      return {
        name: fk.getName(),
        columns: colNames(ref.columns),
        table: getTableName(ref.foreignTable),
        foreignColumns: colNames(ref.foreignColumns),
        onDelete: fk.onDelete ?? 'no action',
        onUpdate: fk.onUpdate ?? 'no action',
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const primaryKeys = config.primaryKeys.map((pk) => colNames(pk.columns));
  const uniqueConstraints = config.uniqueConstraints.map((u) => ({ name: u.getName(), columns: colNames(u.columns) }));
  return { name: config.name, columns, indexes, foreignKeys, primaryKeys, uniqueConstraints, checks: config.checks.length };
}

function tablesOf(dialect: Dialect, mod: Record<string, unknown>): Record<string, Table> {
  const kind = dialect === 'sqlite' ? SQLiteTable : PgTable;
  return Object.fromEntries(Object.entries(mod).filter(([, v]) => is(v, kind))) as Record<string, Table>;
}

const sqliteTables = tablesOf('sqlite', sqliteSchema);
const pgTables = tablesOf('pg', pgSchema);

describe('schema modules: one set of tables on both engines', () => {
  it('export the same tables under the same names', () => {
    expect(Object.keys(pgTables).sort()).toEqual(Object.keys(sqliteTables).sort());
    expect(Object.keys(sqliteTables).length).toBeGreaterThan(10);
    for (const key of Object.keys(sqliteTables)) expect(getTableName(pgTables[key]), key).toBe(getTableName(sqliteTables[key]));
  });

  for (const key of Object.keys(sqliteTables)) {
    it(`${key}: same columns, keys, defaults, indexes and foreign keys`, () => {
      expect(pgTables[key], `db/schema-pg.ts exports no ${key}`).toBeDefined();
      expect(describeTable('pg', pgTables[key])).toEqual(describeTable('sqlite', sqliteTables[key]));
    });
  }

  it('PostgreSQL keeps times in bigint and everything else integer in integer', () => {
    for (const table of Object.values(pgTables)) {
      for (const col of Object.values(getTableColumns(table))) {
        const sqlType = col.getSQLType();
        if (sqlType !== 'integer' && sqlType !== 'bigint') continue;
        const isTime = /(^|_)at$|_until$/.test(col.name);
        expect(`${getTableName(table)}.${col.name} ${sqlType}`).toBe(`${getTableName(table)}.${col.name} ${isTime ? 'bigint' : 'integer'}`);
      }
    }
  });

  it('the enum value lists come from db/columns.ts (a value added there reaches both engines)', () => {
    expect(getTableColumns(sqliteSchema.workspaces).kind.enumValues).toBe(getTableColumns(pgSchema.workspaces).kind.enumValues);
    expect(getTableColumns(sqliteSchema.memberships).role.enumValues).toBe(getTableColumns(pgSchema.memberships).role.enumValues);
  });
});

describe('SQLite migrations (db/migrations)', () => {
  it('build the tables, columns and indexes of db/schema.ts, and refuse a forked audit chain', () => {
    const sqlite = new Database(':memory:');
    migrateSqlite(drizzleSqlite(sqlite), { migrationsFolder: path.join(ROOT, 'db/migrations') });
    for (const table of Object.values(sqliteTables)) {
      const name = getTableName(table);
      const cols = (sqlite.prepare(`SELECT name, "notnull" AS nn FROM pragma_table_info(?)`).all(name) as { name: string; nn: number }[]).map((c) => c.name).sort();
      expect(cols, name).toEqual(Object.values(getTableColumns(table)).map((c) => c.name).sort());
      const indexes = (sqlite.prepare(`SELECT name FROM pragma_index_list(?) WHERE origin = 'c'`).all(name) as { name: string }[]).map((i) => i.name);
      for (const i of sqliteConfig(table as SQLiteTable).indexes) expect(indexes, name).toContain(i.config.name);
    }
    const insert = sqlite.prepare(`INSERT INTO audit_events (id, at, action, outcome, prev_hash, hash) VALUES (?, 1, 'x', 'success', ?, ?)`);
    insert.run(1, 'genesis', 'h1');
    insert.run(2, 'h1', 'h2');
    expect(() => insert.run(3, 'h1', 'fork')).toThrow(/UNIQUE constraint failed: audit_events.prev_hash/);
    expect(() => sqlite.prepare(`UPDATE audit_events SET outcome = 'failure' WHERE id = 1`).run()).toThrow('audit_events is append-only');
    sqlite.close();
  });
});

const PG_URL = process.env.LATCHKEY_TEST_DATABASE_URL;

describe.skipIf(!PG_URL)('PostgreSQL migrations (db/migrations-pg), on LATCHKEY_TEST_DATABASE_URL', () => {
  const scratch = `latchkey_drift_${process.pid}_${Date.now()}`;
  let admin: pg.Client;
  let client: pg.Client;
  let db: NodePgDatabase<typeof pgSchema>;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${scratch}"`);
    const url = new URL(PG_URL!);
    url.pathname = `/${scratch}`;
    client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    db = drizzlePg(client, { schema: pgSchema });
    await migratePg(db, { migrationsFolder: path.join(ROOT, 'db/migrations-pg') });
  });

  afterAll(async () => {
    await client?.end();
    if (admin) {
      await admin.query(`DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`);
      await admin.end();
    }
  });

  it('build the tables, columns and indexes of db/schema-pg.ts', async () => {
    const { rows } = await client.query(
      `SELECT table_name, column_name, is_nullable, data_type FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    for (const table of Object.values(pgTables)) {
      const name = getTableName(table);
      const inDb = rows.filter((r) => r.table_name === name).map((r) => `${r.column_name} ${r.data_type} ${r.is_nullable === 'NO' ? 'not null' : 'null'}`);
      const inModule = Object.values(getTableColumns(table)).map((c) => `${c.name} ${c.getSQLType()} ${c.notNull ? 'not null' : 'null'}`);
      expect(inDb.sort(), name).toEqual(inModule.sort());
    }
    const indexes = (await client.query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`)).rows.map((r) => r.indexname);
    for (const table of Object.values(pgTables)) for (const i of pgConfig(table as PgTable).indexes) expect(indexes).toContain(i.config.name);
  });

  it('audit_events refuses UPDATE, DELETE and TRUNCATE, and a second event on the same predecessor', async () => {
    const insert = `INSERT INTO audit_events (id, at, action, outcome, prev_hash, hash) VALUES ($1, 1, 'x', 'success', $2, $3)`;
    await client.query(insert, [1, 'genesis', 'h1']);
    await client.query(insert, [2, 'h1', 'h2']);
    await expect(client.query(`UPDATE audit_events SET outcome = 'failure' WHERE id = 1`)).rejects.toThrow('audit_events is append-only');
    await expect(client.query(`DELETE FROM audit_events WHERE id = 2`)).rejects.toThrow('audit_events is append-only');
    await expect(client.query(`TRUNCATE audit_events`)).rejects.toThrow('audit_events is append-only');
    await expect(client.query(insert, [3, 'h1', 'fork'])).rejects.toMatchObject({ code: '23505', constraint: 'audit_prev_hash_idx' });
    expect((await client.query(`SELECT id, prev_hash FROM audit_events ORDER BY id`)).rows).toEqual([
      { id: 1, prev_hash: 'genesis' },
      { id: 2, prev_hash: 'h1' },
    ]);
  });

  it('reads times as numbers, booleans as booleans and bytea as Buffer; ON DELETE as on SQLite', async () => {
    const before = Date.now();
    const [user] = await db.insert(pgSchema.users).values({ id: 'u1', username: 'alice', passwordHash: 'x' }).returning();
    expect(user.isAdmin).toBe(false);
    expect(typeof user.createdAt).toBe('number');
    expect(user.createdAt).toBeGreaterThanOrEqual(before - 1000);
    expect(user.createdAt).toBeLessThanOrEqual(Date.now() + 1000);
    const [ws] = await db.insert(pgSchema.workspaces).values({ kind: 'project', slug: 'p', name: 'P' }).returning();
    expect(ws.id).toBe(1);
    const secret = Buffer.from([0, 1, 2, 255]);
    const [cred] = await db
      .insert(pgSchema.credentials)
      .values({ workspaceId: ws.id, credentialId: 'c', name: 'C', type: 'bearer', secretBlob: secret, createdBy: 'u1' })
      .returning();
    expect(Buffer.isBuffer(cred.secretBlob) && cred.secretBlob.equals(secret)).toBe(true);
    await db.insert(pgSchema.toolkits).values({
      workspaceId: ws.id,
      name: 'T',
      type: 'http',
      credentialScope: 'private',
      credentialId: 'c',
      credentialRowId: cred.id,
      fallbackCredentialId: 'c',
      fallbackRowId: cred.id,
      createdBy: 'u1',
    });
    await client.query(`DELETE FROM credentials WHERE id = $1`, [cred.id]);
    expect((await client.query(`SELECT credential_row_id, fallback_row_id, fallback_credential_id, created_by FROM toolkits`)).rows).toEqual([
      { credential_row_id: null, fallback_row_id: null, fallback_credential_id: 'c', created_by: 'u1' },
    ]);
    await client.query(`DELETE FROM users WHERE id = 'u1'`);
    expect((await client.query(`SELECT created_by FROM toolkits`)).rows).toEqual([{ created_by: null }]);
  });
});
