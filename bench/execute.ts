// Benchmark 1: the execute path against the bare limit, in one run, at 50 connections:
//   (a) the fake service called directly, (b) a bare Hono forwarder using fetch, and
//   (c) Latchkey's POST /api/v1/workspaces/:ws/toolkits/:id/execute with a personal token,
//       private-credential resolution, decryption, the outbound call and the durable audit event,
//   (d) the same run as an MCP tools/call on POST /mcp (stateless: one POST, no initialize).
// Then the same execute path on PostgreSQL (BENCH_DATABASE_URL, a fresh database made for the run
// and dropped after it): one Latchkey instance, and two instances on one database with the load
// spread over both, each beside the bare forwarder measured in the same run.
// Also reads Latchkey's resident memory idle and under this load.
import pg from 'pg';
import { SERVER, freePort, load, rssMb, saveResult, startNode, tempDir, type Child } from './lib';
import { api, openSeedApp, seedUser, type Seeded } from './seed';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const PG_URL = process.env.BENCH_DATABASE_URL || 'postgres://latchkey:latchkey@127.0.0.1:5432/latchkey';

const ratio = (a: number, b: number) => Math.round((a / Math.max(1, b)) * 100) / 100;

/** Seeds alice, a project and a toolkit that runs with her private GitHub credential (pointing at the fake service). */
async function seedExecute(seed: Seeded, upstreamUrl: string) {
  const alice = await seedUser(seed, 'alice', true);
  await api(seed, alice.token, 'POST', '/projects', { name: 'Bench' });
  await api(seed, alice.token, 'POST', '/workspaces/private/credentials', { name: 'GitHub Token', type: 'github', fields: { base_url: upstreamUrl }, secrets: { token: 'bench-token' } });
  const toolkit = (await api(seed, alice.token, 'POST', '/workspaces/bench/toolkits', {
    name: 'GitHub',
    type: 'github',
    settings: {},
    credential: { scope: 'private', credential_id: 'github_token' },
  })) as { id: number };
  return { token: alice.token, toolkitId: toolkit.id };
}

/** The execute request for one Latchkey instance. */
function executeRequest(base: string, seeded: { token: string; toolkitId: number }) {
  return {
    url: `${base}/api/v1/workspaces/bench/toolkits/${seeded.toolkitId}/execute`,
    method: 'POST',
    headers: { Authorization: `Bearer ${seeded.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ tool: 'get_authenticated_user', input: {} }),
  };
}

/** Runs `fn` while sampling the peak resident memory of these processes (MB, the largest one). */
async function withPeakRss<T>(pids: number[], fn: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, ...pids.map(rssMb))), 250);
  try {
    return { result: await fn(), peak };
  } finally {
    clearInterval(sampler);
  }
}

export async function benchExecute() {
  const upstream = await startNode('bench/upstream.ts', {}, await freePort());
  const forwarder = await startNode('bench/forwarder.ts', { UPSTREAM: upstream.url }, await freePort());
  try {
    // BENCH_ENGINES=sqlite or =pg measures one engine only (while trying a change).
    const engines = (process.env.BENCH_ENGINES ?? 'sqlite,pg').split(',');
    const sqlite = engines.includes('sqlite') ? await benchSqlite(upstream, forwarder) : null;
    if (sqlite) saveResult('execute', sqlite);
    const pgResult = engines.includes('pg') ? await benchPostgres(upstream, forwarder) : null;
    if (pgResult) saveResult('execute-pg', pgResult);
    return { sqlite, pg: pgResult };
  } finally {
    await Promise.all([forwarder.stop(), upstream.stop()]);
  }
}

async function benchSqlite(upstream: Child, forwarder: Child) {
  const dataDir = tempDir('latchkey-bench-exec-');
  const seed = await openSeedApp(dataDir);
  const seeded = await seedExecute(seed, upstream.url);
  await seed.close();

  const latchkey = await startNode(SERVER, { DATA_DIR: dataDir, SECRET_KEY: seed.secretKey, OUTBOUND_ALLOW_HOSTS: '127.0.0.1' }, await freePort(), '/healthz', serverArgs('sqlite'));
  const idleRss = rssMb(latchkey.pid);
  const exec = executeRequest(latchkey.url, seeded);
  const mcpUrl = `${latchkey.url}/mcp`;
  const mcpHeaders = { ...exec.headers, Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-11-25' };
  const mcpBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: `bench__${seeded.toolkitId}__get_authenticated_user`, arguments: {} } });
  // A 200 that carries an error result would flatter the numbers: check one call really ran.
  const probe = await (await fetch(mcpUrl, { method: 'POST', headers: mcpHeaders, body: mcpBody })).text();
  if (!probe.includes('"structuredContent":{"ok":true')) throw new Error(`MCP tools/call did not run: ${probe.slice(0, 300)}`);
  await probeExecute(exec);

  // Warm up every path once (JIT, connection pools), then measure each in turn.
  await load({ url: `${upstream.url}/user`, duration: 2 });
  await load({ url: `${forwarder.url}/execute`, method: 'POST', duration: 2 });
  await load({ ...exec, duration: 2 });
  await load({ url: mcpUrl, method: 'POST', headers: mcpHeaders, body: mcpBody, duration: 2 });

  const direct = await load({ url: `${upstream.url}/user`, duration: DURATION });
  const bare = await load({ url: `${forwarder.url}/execute`, method: 'POST', duration: DURATION });
  const { result: lk, peak: peakRss } = await withPeakRss([latchkey.pid], () => load({ ...exec, duration: DURATION }));
  const mcp = await load({ url: mcpUrl, method: 'POST', headers: mcpHeaders, body: mcpBody, duration: DURATION });

  await latchkey.stop();
  return {
    duration_s: DURATION,
    connections: 50,
    direct,
    forwarder: bare,
    latchkey: lk,
    mcp,
    ratio_rps_mcp_over_execute: ratio(mcp.rps, lk.rps),
    ratio_rps_c_over_b: ratio(lk.rps, bare.rps),
    ratio_rps_c_over_a: ratio(lk.rps, direct.rps),
    ratio_p99_c_over_b: ratio(lk.p99, bare.p99),
    memory_mb: { idle: idleRss, peak_under_execute_load: peakRss },
  };
}

/** Throws unless one execute call really ran (a 200 with ok: true). */
async function probeExecute(exec: ReturnType<typeof executeRequest>) {
  const res = await fetch(exec.url, { method: 'POST', headers: exec.headers, body: exec.body });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('"ok":true')) throw new Error(`execute did not run (${res.status}): ${text.slice(0, 300)}`);
}

/** Extra node flags for the Latchkey server (BENCH_CPU_PROF=dir, BENCH_HEAP_PROF=dir profile it: see bench/analysis.md). */
function serverArgs(engine: string): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  const heap = process.env.BENCH_HEAP_PROF; // a sampling profile of allocations (where the GC's work comes from)
  const name = `latchkey-${engine}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
  return [
    ...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.cpuprofile`] : []),
    ...(heap ? ['--heap-prof', `--heap-prof-dir=${heap}`, `--heap-prof-name=${name}.heapprofile`] : []),
  ];
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs `fn` on a client of the server's `postgres` database. */
async function pgAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: withDatabase(PG_URL, 'postgres'), connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** host:port of the bench database URL (never the password). */
function pgTarget(): string {
  try {
    const u = new URL(PG_URL);
    return `${u.hostname}:${u.port || '5432'}`;
  } catch {
    return 'BENCH_DATABASE_URL';
  }
}

async function benchPostgres(upstream: Child, forwarder: Child) {
  const name = `lk_bench_${process.pid}_${Date.now().toString(36)}`;
  try {
    await pgAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const reason = `PostgreSQL at ${pgTarget()} could not be used (${e.code ?? ''} ${e.message ?? String(err)})`.replace(/\s+/g, ' ');
    console.error(`bench: ${reason}; the PostgreSQL rows are skipped`);
    return { unavailable: reason, target: pgTarget() };
  }
  const instances: Child[] = [];
  try {
    const url = withDatabase(PG_URL, name);
    const dataDir = tempDir('latchkey-bench-exec-pg-');
    const seed = await openSeedApp(dataDir, {}, url);
    const seeded = await seedExecute(seed, upstream.url);
    await seed.close();
    const env = { DATA_DIR: dataDir, DATABASE_URL: url, SECRET_KEY: seed.secretKey, OUTBOUND_ALLOW_HOSTS: '127.0.0.1' };

    const a = await startNode(SERVER, env, await freePort(), '/healthz', serverArgs('pg-a'));
    instances.push(a);
    const idleRss = rssMb(a.pid);
    const execA = executeRequest(a.url, seeded);
    await probeExecute(execA);
    await load({ url: `${forwarder.url}/execute`, method: 'POST', duration: 2 });
    await load({ ...execA, duration: 2 });

    // One instance, beside the forwarder measured just before it.
    const bare1 = await load({ url: `${forwarder.url}/execute`, method: 'POST', duration: DURATION });
    const { result: one, peak: peakOne } = await withPeakRss([a.pid], () => load({ ...execA, duration: DURATION }));

    // Two instances on the same database, 25 connections each (autocannon spreads its 50
    // connections round-robin over both URLs: one load, one latency histogram).
    const b = await startNode(SERVER, env, await freePort(), '/healthz', serverArgs('pg-b'));
    instances.push(b);
    const execB = executeRequest(b.url, seeded);
    await probeExecute(execB);
    await load({ ...execB, duration: 2 });
    // The fair limit for two processes is two forwarders: a second one on the same upstream.
    const forwarder2 = await startNode('bench/forwarder.ts', { UPSTREAM: upstream.url }, await freePort());
    instances.push(forwarder2);
    await load({ url: `${forwarder2.url}/execute`, method: 'POST', duration: 2 });
    const bare2 = await load({ url: [`${forwarder.url}/execute`, `${forwarder2.url}/execute`], method: 'POST', duration: DURATION });
    const { result: two, peak: peakTwo } = await withPeakRss([a.pid, b.pid], () => load({ ...execA, url: [execA.url, execB.url], duration: DURATION }));
    return {
      at_target: pgTarget(),
      duration_s: DURATION,
      connections: 50,
      one: { forwarder: bare1, latchkey: one, ratio_rps: ratio(one.rps, bare1.rps), ratio_p99: ratio(one.p99, bare1.p99) },
      two: {
        forwarders: bare2,
        latchkey: two,
        ratio_rps_over_two_forwarders: ratio(two.rps, bare2.rps),
        ratio_p99_over_two_forwarders: ratio(two.p99, bare2.p99),
        ratio_rps_over_one_forwarder: ratio(two.rps, bare1.rps),
        ratio_p99_over_one_forwarder: ratio(two.p99, bare1.p99),
      },
      memory_mb: { idle: idleRss, peak_one_instance: peakOne, peak_per_instance_of_two: peakTwo },
    };
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
    await pgAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch((err) => console.error(`bench: could not drop ${name}: ${(err as Error).message}`));
  }
}


if (import.meta.url === `file://${process.argv[1]}`) {
  benchExecute().then((r) => console.log(JSON.stringify(r, null, 2)));
}
