// Benchmark 1: the execute path against the bare limit, in one run, at 50 connections:
//   (a) the fake service called directly, (b) a bare Hono forwarder using fetch, and
//   (c) Latchkey's POST /api/v1/workspaces/:ws/toolkits/:id/execute with a personal token,
//       private-credential resolution, decryption, the outbound call and the durable audit event,
//   (d) the same run as an MCP tools/call on POST /mcp (stateless: one POST, no initialize).
// Also reads Latchkey's resident memory idle and under this load.
import { SERVER, freePort, load, rssMb, saveResult, startNode, tempDir } from './lib';
import { api, openSeedApp, seedUser } from './seed';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);

export async function benchExecute() {
  const upstream = await startNode('bench/upstream.ts', {}, await freePort());
  const forwarder = await startNode('bench/forwarder.ts', { UPSTREAM: upstream.url }, await freePort());

  const dataDir = tempDir('latchkey-bench-exec-');
  const seed = await openSeedApp(dataDir);
  const alice = await seedUser(seed, 'alice', true);
  await api(seed, alice.token, 'POST', '/projects', { name: 'Bench' });
  await api(seed, alice.token, 'POST', '/workspaces/private/credentials', { name: 'GitHub Token', type: 'github', fields: { base_url: upstream.url }, secrets: { token: 'bench-token' } });
  const toolkit = (await api(seed, alice.token, 'POST', '/workspaces/bench/toolkits', {
    name: 'GitHub',
    type: 'github',
    settings: {},
    credential: { scope: 'private', credential_id: 'github_token' },
  })) as { id: number };
  await seed.close();

  const latchkey = await startNode(SERVER, { DATA_DIR: dataDir, SECRET_KEY: seed.secretKey, OUTBOUND_ALLOW_HOSTS: '127.0.0.1' }, await freePort());
  const idleRss = rssMb(latchkey.pid);
  const executeBody = JSON.stringify({ tool: 'get_authenticated_user', input: {} });
  const headers = { Authorization: `Bearer ${alice.token}`, 'Content-Type': 'application/json' };
  const executeUrl = `${latchkey.url}/api/v1/workspaces/bench/toolkits/${toolkit.id}/execute`;
  const mcpUrl = `${latchkey.url}/mcp`;
  const mcpHeaders = { ...headers, Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-11-25' };
  const mcpBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: `bench__${toolkit.id}__get_authenticated_user`, arguments: {} } });
  // A 200 that carries an error result would flatter the numbers: check one call really ran.
  const probe = await (await fetch(mcpUrl, { method: 'POST', headers: mcpHeaders, body: mcpBody })).text();
  if (!probe.includes('"structuredContent":{"ok":true')) throw new Error(`MCP tools/call did not run: ${probe.slice(0, 300)}`);

  // Warm up every path once (JIT, connection pools), then measure each in turn.
  await load({ url: `${upstream.url}/user`, duration: 2 });
  await load({ url: `${forwarder.url}/execute`, method: 'POST', duration: 2 });
  await load({ url: executeUrl, method: 'POST', headers, body: executeBody, duration: 2 });
  await load({ url: mcpUrl, method: 'POST', headers: mcpHeaders, body: mcpBody, duration: 2 });

  const direct = await load({ url: `${upstream.url}/user`, duration: DURATION });
  const bare = await load({ url: `${forwarder.url}/execute`, method: 'POST', duration: DURATION });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(latchkey.pid))), 250);
  const lk = await load({ url: executeUrl, method: 'POST', headers, body: executeBody, duration: DURATION });
  clearInterval(sampler);
  const mcp = await load({ url: mcpUrl, method: 'POST', headers: mcpHeaders, body: mcpBody, duration: DURATION });

  await Promise.all([latchkey.stop(), forwarder.stop(), upstream.stop()]);
  const result = {
    duration_s: DURATION,
    connections: 50,
    direct,
    forwarder: bare,
    latchkey: lk,
    mcp,
    ratio_rps_mcp_over_execute: Math.round((mcp.rps / lk.rps) * 100) / 100,
    ratio_rps_c_over_b: Math.round((lk.rps / bare.rps) * 100) / 100,
    ratio_rps_c_over_a: Math.round((lk.rps / direct.rps) * 100) / 100,
    ratio_p99_c_over_b: Math.round((lk.p99 / Math.max(1, bare.p99)) * 100) / 100,
    memory_mb: { idle: idleRss, peak_under_execute_load: peakRss },
  };
  saveResult('execute', result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchExecute().then((r) => console.log(JSON.stringify(r, null, 2)));
}
