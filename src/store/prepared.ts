// Prepared statements for the hot paths (token check, workspace lookup, toolkit resolution).
// Drizzle builds the SQL of a plain query on every call; preparing once per engine and binding
// placeholders keeps execute-path queries to a bind and a step (SQLite) or to a named statement
// each pooled connection parses once (PostgreSQL).
import type { Engine, Tx } from './engine';

type Preparable = { prepare(name?: string | boolean): { execute(params?: Record<string, unknown>): unknown } };

const cache = new WeakMap<Engine, Map<string, Preparable extends { prepare(...a: never[]): infer P } ? P : never>>();

/**
 * Returns a function that runs the query `build` makes, prepared once per engine under `key`,
 * with its `sql.placeholder` values; it resolves to what awaiting the query would (rows, for a select).
 */
export function prepared<Q extends PromiseLike<unknown>>(store: { engine: Engine }, key: string, build: () => Q): (params: Record<string, unknown>) => Promise<Awaited<Q>> {
  const engine = store.engine;
  let perEngine = cache.get(engine);
  if (!perEngine) cache.set(engine, (perEngine = new Map()));
  let q = perEngine.get(key);
  if (!q) {
    const query = build() as unknown as Preparable;
    // PostgreSQL statements are named (the name is per connection); SQLite's take no name.
    q = engine.dialect === 'pg' ? query.prepare(`lk_${key}`) : query.prepare();
    perEngine.set(key, q);
  }
  const statement = q;
  return (params) => Promise.resolve(statement.execute(params)) as Promise<Awaited<Q>>;
}

/**
 * Like `prepared`, for a statement that must run inside the write transaction `tx` (on its
 * connection): SQLite's writer is one connection, so the statement is prepared on it once per
 * engine; on PostgreSQL each transaction has its own connection, so the statement lives only as
 * long as the transaction (Engine.txState) and is never reused on another one.
 */
export function preparedIn<Q extends PromiseLike<unknown>>(store: { engine: Engine }, tx: Tx, key: string, build: (tx: Tx) => Q): (params: Record<string, unknown>) => Promise<Awaited<Q>> {
  const engine = store.engine;
  let perScope: Map<string, unknown>;
  if (engine.dialect === 'pg') perScope = engine.txState(tx);
  else {
    perScope = writeCache.get(engine) ?? new Map();
    writeCache.set(engine, perScope);
  }
  let q = perScope.get(`stmt:${key}`) as { execute(params?: Record<string, unknown>): unknown } | undefined;
  if (!q) {
    const query = build(tx) as unknown as Preparable;
    q = engine.dialect === 'pg' ? query.prepare(`lk_${key}`) : query.prepare();
    perScope.set(`stmt:${key}`, q);
  }
  const statement = q;
  return (params) => Promise.resolve(statement.execute(params)) as Promise<Awaited<Q>>;
}

const writeCache = new WeakMap<Engine, Map<string, unknown>>();
