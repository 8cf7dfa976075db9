// Group commit: concurrent writes share one transaction, each in its own savepoint.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openDatabase, type Db } from '../../src/store/db';
import { createGroupCommitter } from '../../src/store/group-commit';
import { masterKeys } from '../../db/schema';

describe('group commit', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-gc-'));
    db = openDatabase(path.join(dir, 'latchkey.db'));
  });
  afterEach(() => {
    db.$client.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('settles each caller only once its write is committed (visible to another connection)', async () => {
    const gc = createGroupCommitter(db);
    const other = new (await import('better-sqlite3')).default(path.join(dir, 'latchkey.db'), { readonly: true });
    const visible = other.prepare('SELECT count(*) FROM master_keys WHERE key_id = ?').pluck();
    const seenAtResolve: number[] = [];
    const writes = Array.from({ length: 20 }, (_, i) =>
      gc.run((tx) => tx.insert(masterKeys).values({ keyId: `k${i}`, check: 'c' }).run()).then(() => seenAtResolve.push(visible.get(`k${i}`) as number)),
    );
    // Nothing is visible before the batch commits at the end of this turn.
    expect(visible.get('k0')).toBe(0);
    await Promise.all(writes);
    other.close();
    expect(seenAtResolve).toEqual(Array(20).fill(1));
    expect(db.select({ n: sql<number>`count(*)` }).from(masterKeys).get()!.n).toBe(20);
  });

  it('rolls back only the failing write and rejects only its caller', async () => {
    const gc = createGroupCommitter(db);
    const ok1 = gc.run((tx) => tx.insert(masterKeys).values({ keyId: 'a', check: 'c' }).run());
    const bad = gc.run((tx) => {
      tx.insert(masterKeys).values({ keyId: 'b', check: 'c' }).run();
      throw new Error('step two failed');
    });
    const ok2 = gc.run((tx) => tx.insert(masterKeys).values({ keyId: 'c', check: 'c' }).run());
    await expect(bad).rejects.toThrow('step two failed');
    await Promise.all([ok1, ok2]);
    const ids = db.select({ id: masterKeys.keyId }).from(masterKeys).all().map((r) => r.id);
    expect(ids.sort()).toEqual(['a', 'c']);
  });

  it('rejects every caller when the transaction itself cannot commit', async () => {
    const gc = createGroupCommitter(db);
    const other = new (await import('better-sqlite3')).default(path.join(dir, 'latchkey.db'));
    other.pragma('busy_timeout = 0');
    other.exec('BEGIN IMMEDIATE');
    db.$client.pragma('busy_timeout = 50');
    const w = gc.run((tx) => tx.insert(masterKeys).values({ keyId: 'x', check: 'c' }).run());
    await expect(w).rejects.toThrow(/busy|locked/i);
    other.exec('ROLLBACK');
    other.close();
    expect(db.select().from(masterKeys).all()).toHaveLength(0);
  });
});
