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
import { createStore, type Store } from '../../src/store/store';
import { appendAudit, recordAudit, verifyAuditChain } from '../../src/store/audit';
import { generateKey, parseKeyRing } from '../../src/crypto/keyring';

describe(`group commit (${ENGINE})`, () => {
  let dir: string;
  let engine: Engine;
  let drop: () => Promise<void>;
  let url = '';
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-gc-'));
    if (ENGINE === 'pg') {
      const db = await freshPgDatabase();
      engine = await openPostgres(db.url, { max: 4 });
      url = db.url;
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

  it('keeps one batch in flight: writes that arrive while it commits share the next transaction', async () => {
    let transactions = 0;
    const counted: Engine = { ...engine, write: (fn) => (transactions++, engine.write(fn)) };
    const gc = createGroupCommitter(counted);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = gc.run(async (tx) => {
      await insert('first')(tx);
      await held; // the first batch stays open while the others arrive, each in a later turn
    });
    const later: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setImmediate(r));
      later.push(gc.run(insert(`later${i}`)));
    }
    expect(transactions).toBe(1);
    release();
    await Promise.all([first, ...later]);
    expect(transactions).toBe(2); // not one per turn: the five went together
    expect(await committed()).toHaveLength(6);
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

  it('never reruns a batch whose COMMIT failed (it may have committed): every caller is rejected, each write ran once', async () => {
    // The commit's answer is lost after the data was committed (a connection dropped during COMMIT).
    const lossy: Engine = { ...engine, write: async (fn) => { await engine.write(fn); throw new Error('connection lost during COMMIT'); } };
    const gc = createGroupCommitter(lossy);
    let runs = 0;
    const w = (k: string) => gc.run(async (tx) => {
      runs++;
      await insert(k)(tx);
    });
    const results = await Promise.allSettled([w('p'), w('q')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(runs).toBe(2);
    expect(await committed()).toEqual(['p', 'q']);
  });

  // appendAudit remembers the chain's last link for the rest of its transaction (Engine.txState).
  const ring = parseKeyRing(generateKey());
  const actions = async () => (await engine.rows<{ action: string }>('SELECT action FROM audit_events ORDER BY id')).map((r) => r.action);

  it('keeps one audit chain when a write that appended rolls back in its savepoint (the remembered link is forgotten)', async () => {
    const store = await createStore(engine, ring);
    const ev = (action: string) => async (tx: Parameters<Parameters<Engine['write']>[0]>[0]) => void (await appendAudit(store, tx, { actor: null, workspace: null, action }));
    const a = store.groupCommit.run(ev('a'));
    const b = store.groupCommit.run(async (tx) => {
      await ev('b')(tx);
      throw new Error('after its event');
    });
    const c = store.groupCommit.run(ev('c'));
    const d = store.groupCommit.run(async (tx) => {
      await ev('d1')(tx);
      await ev('d2')(tx);
    });
    await expect(b).rejects.toThrow('after its event');
    await Promise.all([a, c, d]);
    expect((await actions()).slice(-4)).toEqual(['a', 'c', 'd1', 'd2']);
    expect(await verifyAuditChain(store)).toMatchObject({ ok: true });
  });

  it('reads the last link again in every transaction (another connection or instance may have appended in between)', async () => {
    const store = await createStore(engine, ring);
    const other: Engine = ENGINE === 'pg' ? await openPostgres(url, { max: 2 }) : sqliteEngine(openDatabase(path.join(dir, 'latchkey.db')));
    try {
      const otherStore: Store = await createStore(other, ring);
      for (let i = 0; i < 3; i++) {
        await recordAudit(store, { actor: null, workspace: null, action: `here.${i}` });
        await recordAudit(otherStore, { actor: null, workspace: null, action: `there.${i}` });
      }
      await Promise.all([0, 1, 2].map((i) => store.groupCommit.run(async (tx) => void (await appendAudit(store, tx, { actor: null, workspace: null, action: `batch.${i}` })))));
      await recordAudit(otherStore, { actor: null, workspace: null, action: 'there.last' });
      expect((await actions()).slice(-10)).toEqual(['here.0', 'there.0', 'here.1', 'there.1', 'here.2', 'there.2', 'batch.0', 'batch.1', 'batch.2', 'there.last']);
      expect(await verifyAuditChain(store)).toMatchObject({ ok: true });
    } finally {
      await other.close();
    }
  });
});
