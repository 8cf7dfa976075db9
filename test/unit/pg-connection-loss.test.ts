// A PostgreSQL connection lost while Latchkey holds it between two statements of a transaction
// (the server restarted, a proxy dropped it, an admin terminated the backend). pg then emits
// 'error' on the checked-out client, where the pool has no listener: without one of ours that
// event ends the process. Here it must only fail that transaction, as "unavailable", and the
// next write must get a fresh connection. PostgreSQL only (LATCHKEY_TEST_DATABASE_URL).
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Engine } from '../../src/store/engine';
import { isUnavailable } from '../../src/store/pg-errors';
import { openPostgres } from '../../src/store/postgres';
import { ENGINE, freshPgDatabase } from '../helpers/database';

const onPg = it.skipIf(ENGINE !== 'pg');
let engine: Engine;
let url = '';
let drop: () => Promise<void> = async () => {};

beforeEach(async () => {
  if (ENGINE !== 'pg') return;
  const db = await freshPgDatabase();
  url = db.url;
  drop = db.drop;
  engine = await openPostgres(url, { max: 2 });
});
afterEach(async () => {
  if (ENGINE !== 'pg') return;
  await engine.close();
  await drop();
});

/** Terminates, from another connection, every backend of this database that sits idle in a transaction; returns how many. */
async function terminateIdleInTransaction(): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const name = new URL(url).pathname.slice(1);
    for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
      const { rows } = await c.query<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction' AND pid <> pg_backend_pid()`,
        [name],
      );
      if (rows.length > 0) return rows.length;
    }
    return 0;
  } finally {
    await c.end();
  }
}

onPg('a transaction whose connection is lost between statements fails as unavailable; the process lives and the next write works', async () => {
  let resume!: () => void;
  const paused = new Promise<void>((r) => (resume = r));
  const lost = engine.write(async (tx) => {
    await tx.insert(engine.t.masterKeys).values({ keyId: 'lost', check: 'c' });
    await paused; // the connection now sits idle in the transaction
    await tx.insert(engine.t.masterKeys).values({ keyId: 'lost-2', check: 'c' });
  });
  const outcome = lost.then(
    () => 'committed',
    (err: unknown) => (isUnavailable(err) ? 'unavailable' : `other: ${String(err)}`),
  );

  expect(await terminateIdleInTransaction()).toBe(1);
  await new Promise((r) => setTimeout(r, 100)); // let the socket's error arrive while nothing is querying
  resume();
  expect(await outcome).toBe('unavailable');

  await engine.write(async (tx) => void (await tx.insert(engine.t.masterKeys).values({ keyId: 'after', check: 'c' })));
  const ids = (await engine.rows<{ id: string }>('SELECT key_id AS id FROM master_keys ORDER BY key_id')).map((r) => r.id);
  expect(ids).toEqual(['after']); // nothing of the lost transaction, and the next one committed
});
