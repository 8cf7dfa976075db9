// `npm run bench`: runs every benchmark one after the other (the machine has 2 cores) and
// rewrites bench/RESULTS.md from their results, with the targets beside the numbers and the
// findings kept in bench/analysis.md.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, machine } from './lib';

const RESULTS = path.join(ROOT, 'bench/results');
fs.mkdirSync(RESULTS, { recursive: true });
const started = Date.now();

function run(label: string, args: string[], capture?: string) {
  console.log(`bench: ${label}…`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn' }, maxBuffer: 64 * 2 ** 20 });
  if (capture) fs.writeFileSync(path.join(RESULTS, capture), r.stdout);
  if (r.status !== 0) {
    console.error(r.stdout.slice(-4000), r.stderr.slice(-4000));
    throw new Error(`${label} failed (exit ${r.status})`);
  }
  console.log(`bench: ${label} done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

// --render-only rewrites RESULTS.md from the last results (after editing analysis.md).
// --execute-only reruns benchmark 1 and keeps the other sections' last results.
if (!process.argv.includes('--render-only')) {
  run('execute path vs the bare limit (SQLite, then PostgreSQL)', ['bench/execute.ts']);
  if (!process.argv.includes('--execute-only')) {
    run('pages at realistic size, cold start', ['bench/pages.ts']);
    run('audit at 1,000,000 events', ['bench/seed-audit.ts', '--events', process.env.BENCH_AUDIT_EVENTS ?? '1000000', '--runs', '5'], 'audit.txt');
  }
}

const read = (name: string) => JSON.parse(fs.readFileSync(path.join(RESULTS, `${name}.json`), 'utf8'));
const exec = read('execute');
const execPg = fs.existsSync(path.join(RESULTS, 'execute-pg.json')) ? read('execute-pg') : { unavailable: 'not measured yet' };
const pages = read('pages');
const audit = fs.readFileSync(path.join(RESULTS, 'audit.txt'), 'utf8').trim();
const mark = (ok: boolean) => (ok ? '✅ met' : '❌ missed');
const row = (name: string, r: { rps: number; p50: number; p99: number; errors: number; non2xx: number }) => `| ${name} | ${r.rps.toLocaleString('en-US')} | ${r.p50} | ${r.p99} | ${r.errors + r.non2xx} |`;
type Load = { rps: number; p50: number; p99: number; errors: number; non2xx: number };
const pageRows = Object.entries(pages.pages as Record<string, Load & { bytes: number; crowd: Load }>)
  .map(([name, r]) => `| ${name.replace(/_/g, ' ')} | ${(r.bytes / 1024).toFixed(0)} KiB | ${r.rps} | ${r.p50} | ${r.p99} | ${mark(r.p50 < 15 && r.p99 < 50)} | ${r.crowd.rps} | ${r.crowd.p50} | ${r.crowd.p99} |`)
  .join('\n');
const coldMax = Math.max(...pages.cold_start_ms);

/** The PostgreSQL rows of section 1: one instance, and two on one database, each beside the forwarder. */
function pgSection(): string {
  if (execPg.unavailable) return `### Execute path on PostgreSQL\n\nNot measured: ${execPg.unavailable}. Set BENCH_DATABASE_URL to a reachable PostgreSQL 15+ server (a role that may create databases) and run \`npm run bench\` again.`;
  const { one, two } = execPg;
  return `### Execute path on PostgreSQL (${execPg.at_target}, a fresh database for the run; ${execPg.connections} connections, ${execPg.duration_s} s each)

| path | requests/s | p50 ms | p99 ms | errors |
|---|---|---|---|---|
${row('(b) bare Hono forwarder with fetch', one.forwarder)}
${row('(c) Latchkey execute, one instance on PostgreSQL', one.latchkey)}
${row('(b2) two bare forwarders, 25 connections each', two.forwarders)}
${row('(c2) Latchkey execute, two instances on one PostgreSQL database, 25 connections each', two.latchkey)}

Ratios, one instance: requests/s c/b = **${one.ratio_rps}** (target ≥ 1: ${mark(one.ratio_rps >= 1)}); p99 c/b = **${one.ratio_p99}** (target ≤ 1.5: ${mark(one.ratio_p99 <= 1.5)}).
Two instances: requests/s c2/b2 = **${two.ratio_rps_over_two_forwarders}** (${mark(two.ratio_rps_over_two_forwarders >= 1)}), c2/b = ${two.ratio_rps_over_one_forwarder}; p99 c2/b2 = **${two.ratio_p99_over_two_forwarders}** (${mark(two.ratio_p99_over_two_forwarders <= 1.5)}), c2/b = ${two.ratio_p99_over_one_forwarder}.
Resident memory on PostgreSQL: idle ${execPg.memory_mb.idle} MB, peak under the load ${execPg.memory_mb.peak_one_instance} MB (one instance), ${execPg.memory_mb.peak_per_instance_of_two} MB (the larger of two) — target < 150 MB: ${mark(Math.max(execPg.memory_mb.peak_one_instance, execPg.memory_mb.peak_per_instance_of_two) < 150)}.`;
}
const analysis = fs.existsSync(path.join(ROOT, 'bench/analysis.md')) ? fs.readFileSync(path.join(ROOT, 'bench/analysis.md'), 'utf8').trim() : '';

const md = `# Benchmark results

Rewritten by \`npm run bench\` (measured ${String(exec.at).slice(0, 16).replace('T', ' ')} UTC).
Machine: ${machine()}. Load generator: autocannon in the same machine (it shares the 2 cores with
the servers, so every number here is lower than on a machine with a separate load generator).

## 1. Execute path vs. the bare limit (${exec.connections} connections, ${exec.duration_s} s each)

### On SQLite (the default)

| path | requests/s | p50 ms | p99 ms | errors |
|---|---|---|---|---|
${row('(a) fake service called directly', exec.direct)}
${row('(b) bare Hono forwarder with fetch', exec.forwarder)}
${row('(c) Latchkey execute (token, resolution, decryption, call, durable audit)', exec.latchkey)}
${exec.mcp ? row('(d) the same run as an MCP tools/call on POST /mcp', exec.mcp) : '| (d) MCP tools/call | not measured yet | | | |'}

Ratios: requests/s c/b = **${exec.ratio_rps_c_over_b}** (target ≥ 1: ${mark(exec.ratio_rps_c_over_b >= 1)}), c/a = ${exec.ratio_rps_c_over_a};
p99 c/b = **${exec.ratio_p99_c_over_b}** (target ≤ 1.5: ${mark(exec.ratio_p99_c_over_b <= 1.5)}).${exec.mcp ? `
MCP: requests/s d/c = **${exec.ratio_rps_mcp_over_execute}** (the MCP SDK's per-request server and JSON-RPC framing on top of the same run).` : ''}

${pgSection()}

## 2. Pages at realistic size (${pages.size.members} members, ${pages.size.toolkits} toolkits, ${pages.size.credentials} credentials; signed in, ${pages.duration_s} s each)

One connection measures the latency a person feels (the target); ten at once shows how the
single-threaded server queues under a crowd, with the load generator on the other core.

| page | size | 1 conn: req/s | p50 ms | p99 ms | target p50 < 15, p99 < 50 | 10 conns: req/s | p50 ms | p99 ms |
|---|---|---|---|---|---|---|---|---|
${pageRows}

## 3. Audit at scale

\`\`\`
${audit}
\`\`\`

## 4. Cold start and memory

- Cold start (process spawn to a healthy \`/healthz\`, 3 runs): ${pages.cold_start_ms.join(', ')} ms — target < 1 s: ${mark(coldMax < 1000)}.
- Resident memory (SQLite): idle ${exec.memory_mb.idle} MB, peak under the execute load ${exec.memory_mb.peak_under_execute_load} MB — target < 150 MB: ${mark(exec.memory_mb.peak_under_execute_load < 150)}.${execPg.unavailable ? '' : `
- Resident memory (PostgreSQL): idle ${execPg.memory_mb.idle} MB, peak under the execute load ${execPg.memory_mb.peak_one_instance} MB (one instance), ${execPg.memory_mb.peak_per_instance_of_two} MB (the larger of two instances) — target < 150 MB: ${mark(Math.max(execPg.memory_mb.peak_one_instance, execPg.memory_mb.peak_per_instance_of_two) < 150)}.`}

${analysis}
`;
fs.writeFileSync(path.join(ROOT, 'bench/RESULTS.md'), md);
console.log(`bench: wrote bench/RESULTS.md in ${((Date.now() - started) / 60000).toFixed(1)} minutes`);
