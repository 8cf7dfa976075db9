// The whole database of a test app as text, on either engine: for tests that look for a value
// (a canary secret, a password, a token) that must not be stored anywhere.
import type { TestApp } from './app';

/** The names of every table of the app's database (SQLite's file, or PostgreSQL's public schema). */
export async function tableNames(t: TestApp): Promise<string[]> {
  const rows =
    t.engine.dialect === 'pg'
      ? await t.sql<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`)
      : await t.sql<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`);
  return rows.map((r) => r.name);
}

/** Rows as JSON, with blobs (bytea) rendered byte for byte as latin1 text, so a value stored inside one is still found. */
export function rowsText(rows: unknown[]): string {
  return JSON.stringify(rows, (_k, v) => (Buffer.isBuffer(v) || v?.type === 'Buffer' ? Buffer.from(v).toString('latin1') : v));
}

/** Every value of every row of every table, as one string. */
export async function dumpDatabase(t: TestApp): Promise<string> {
  const names = await tableNames(t);
  if (names.length < 10) throw new Error(`only ${names.length} tables found: the dump would prove nothing`);
  const parts: string[] = [];
  for (const name of names) parts.push(rowsText(await t.sql(`SELECT * FROM "${name}"`)));
  return parts.join('\n');
}
