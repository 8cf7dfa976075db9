// The plans of queries that run on every request, on a database migrated with the real
// migrations. SQLite plans with bound parameters and (without ANALYZE) no statistics, so it cannot
// know that 'success' matches nearly every audit event: a query that compares the outcome could
// walk that whole index instead of seeking a narrow one. Each row names the index its query must
// seek; a plan that scans the table or takes another index fails here instead of slowing every
// page once the log holds a million events.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, parseKeyRing } from '../../src/crypto/keyring';
import { openDatabase, sqliteEngine } from '../../src/store/db';
import type { Engine } from '../../src/store/engine';
import { membershipNoticesQuery } from '../../src/store/notices';
import { staleThrottleRows } from '../../src/store/throttle';
import { createStore, type Store } from '../../src/store/store';
import { ENGINE } from '../helpers/database';

type Plannable = { toSQL(): { sql: string; params: unknown[] } };

const QUERIES: { name: string; query: (store: Store) => Plannable; index: string }[] = [
  {
    name: 'the membership notices in every page’s frame',
    query: (store) => membershipNoticesQuery(store, { username: 'alice', createdAt: 0, seen: 0 }),
    index: 'audit_notice_idx',
  },
  {
    name: 'the sweep of stale sign-in throttle rows on every failure',
    query: (store) => staleThrottleRows(store, store.db as never, 0),
    index: 'auth_throttle_at_idx',
  },
];

describe.skipIf(ENGINE !== 'sqlite')('query plans (SQLite)', () => {
  let dir: string;
  let engine: Engine;
  let store: Store;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-plans-'));
    engine = sqliteEngine(openDatabase(path.join(dir, 'latchkey.db')));
    store = await createStore(engine, parseKeyRing(generateKey()), { now: () => Date.now() });
  });
  afterAll(async () => {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(QUERIES)('$name seeks $index', ({ query, index }) => {
    const { sql, params } = query(store).toSQL();
    const plan = engine.sqlite!.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
    const details = plan.map((p) => p.detail);
    expect(details.some((d) => d.startsWith('SEARCH') && new RegExp(`USING (COVERING )?INDEX ${index} `).test(d)), details.join('\n')).toBe(true);
    expect(details.filter((d) => d.startsWith('SCAN')), details.join('\n')).toEqual([]);
  });
});
