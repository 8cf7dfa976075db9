// Group commit (src/store/group-commit.ts) through the Engine: concurrent writes share one
// transaction, each in its own savepoint. On SQLite, and on a fresh PostgreSQL database when
// LATCHKEY_TEST_DATABASE_URL is set.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, sqliteEngine } from '../../src/store/db';
import type { Engine } from '../../src/store/engine';
import { openPostgres } from '../../src/store/postgres';
import { createGroupCommitter } from '../../src/store/group-commit';
import { ENGINE, freshPgDatabase } from '../helpers/database';

describe(`group commit (${ENGINE})`, () => {
  let dir: string;
  let engine: Engine;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-gc-'));
    if (ENGINE === 'pg') {
      const db = await freshPgDatabase();
      engine = await openPostgres(db.url, { max: 4 });
      drop = db.drop;
    } else {
      engine = sqliteEngine(openDatabase(path.join(dir, 'latchkey.db')));
      drop = async () => {};
    }
  });
  afterEach(async () => {
    await engine.close();
    await drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Committed rows only: outside any transaction (SQLite: the reader connection; PostgreSQL: the pool). */
  const committed = async (keyId?: string) =>
    keyId === undefined
      ? (await engine.rows<{ id: string }>('SELECT key_id AS id FROM master_keys ORDER BY key_id')).map((r) => r.id)
      : (await engine.rows<{ id: string }>('SELECT key_id AS id FROM master_keys WHERE key_id = ?', [keyId])).map((r) => r.id);
  const insert = (keyId: string) => async (tx: Parameters<Parameters<Engine['write']>[0]>[0]) => {
    await tx.insert(engine.t.masterKeys).values({ keyId, check: 'c' });
  };

  it('settles each caller only once its write is committed (visible to another connection)', async () => {
    const gc = createGroupCommitter(engine);
    const seenInside: number[] = [];
    const seenAtResolve: number[] = [];
    const writes = Array.from({ length: 20 }, (_, i) =>
      gc
        .run(async (tx) => {
          await insert(`k${i}`)(tx);
          // Written in the open transaction, not yet visible to another connection.
          seenInside.push((await committed(`k${i}`)).length);
        })
        .then(async () => seenAtResolve.push((await committed(`k${i}`)).length)),
    );
    let settled = 0;
    for (const w of writes) void w.then(() => settled++);
    // Nothing is visible (or settled) before the batch commits.
    expect(await committed()).toEqual([]);
    expect(settled).toBe(0);
    await Promise.all(writes);
    expect(seenInside).toEqual(Array(20).fill(0));
    expect(seenAtResolve).toEqual(Array(20).fill(1));
    expect(await committed()).toHaveLength(20);
  });

  it('rolls back only the failing write and rejects only its caller', async () => {
    const gc = createGroupCommitter(engine);
    const ok1 = gc.run(insert('a'));
    const bad = gc.run(async (tx) => {
      await insert('b')(tx);
      throw new Error('step two failed');
    });
    const dup = gc.run(insert('a')); // a constraint violation rolls back alone too (PostgreSQL: the savepoint keeps the transaction usable)
    const ok2 = gc.run(insert('c'));
    await expect(bad).rejects.toThrow('step two failed');
    await expect(dup).rejects.toThrow();
    await Promise.all([ok1, ok2]);
    expect(await committed()).toEqual(['a', 'c']);
  });

  it.skipIf(ENGINE === 'pg')('rejects every caller when the transaction itself cannot begin (SQLite: another writer holds the lock)', async () => {
    const gc = createGroupCommitter(engine);
    const other = new (await import('better-sqlite3')).default(path.join(dir, 'latchkey.db'));
    other.pragma('busy_timeout = 0');
    other.exec('BEGIN IMMEDIATE');
    engine.sqlite!.pragma('busy_timeout = 50');
    const w1 = gc.run(insert('x'));
    const w2 = gc.run(insert('y'));
    await expect(w1).rejects.toThrow(/busy|locked/i);
    await expect(w2).rejects.toThrow(/busy|locked/i);
    other.exec('ROLLBACK');
    other.close();
    expect(await committed()).toEqual([]);
  });
});
