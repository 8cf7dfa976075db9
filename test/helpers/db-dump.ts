// Looking at a test app's whole database on either engine: the names of its tables, and every
// value of every row as one string, for tests that assert a canary (a secret, a token) is
// stored nowhere. Blobs (SQLite) and bytea (PostgreSQL) are rendered as their bytes in latin1,
// so a canary stored in one in the clear would still be found.
import type { TestApp } from './app';

/** The names of the app's own tables (SQLite: sqlite_master; PostgreSQL: the public schema). */
export async function tableNames(t: Pick<TestApp, 'engine' | 'sql'>): Promise<string[]> {
  const rows =
    t.engine.dialect === 'pg'
      ? await t.sql<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`)
      : await t.sql<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`);
  const names = rows.map((r) => r.name);
  // A sweep that saw no tables would prove nothing.
  if (!names.includes('users') || !names.includes('audit_events')) throw new Error(`the app's tables were not found (${names.join(', ')})`);
  return names;
}

/** A row with every Buffer turned into its bytes as latin1 text (JSON would print numbers). */
export function renderRow(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('latin1') : v]));
}

/** Every value of every row of every table, as one string (to look for values that must not be there). */
export async function dumpDatabase(t: Pick<TestApp, 'engine' | 'sql'>): Promise<string> {
  const out: string[] = [];
  for (const name of await tableNames(t)) out.push(`${name}: ${JSON.stringify((await t.sql(`SELECT * FROM "${name}"`)).map(renderRow))}`);
  return out.join('\n');
}

/** Every value of every row of every table as raw bytes, one after the other (strings as UTF-8, blobs as they are). */
export async function databaseBytes(t: Pick<TestApp, 'engine' | 'sql'>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const name of await tableNames(t)) {
    for (const row of await t.sql(`SELECT * FROM "${name}"`)) {
      for (const v of Object.values(row)) parts.push(Buffer.isBuffer(v) ? v : Buffer.from(v == null ? '' : String(v), 'utf8'), Buffer.from([0x0a]));
    }
  }
  return Buffer.concat(parts);
}

/** Rows as JSON, with every Buffer rendered as its bytes in latin1 (a value inside one is still found). */
export function rowsText(rows: Record<string, unknown>[]): string {
  return JSON.stringify(rows.map(renderRow));
}
