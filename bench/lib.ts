// Shared pieces of the benchmarks: child processes for servers, autocannon runs, memory reads.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Returns a TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export type Child = { url: string; pid: number; child: ChildProcess; stop(): Promise<void>; output(): string };

let built = false;

/** Bundles the server (dist/server.js) once, so the benchmarks measure what production runs. */
export function ensureBuilt(): void {
  if (built) return;
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
  built = true;
}

/** The production server, as `npm start` and the container run it (same node flags). */
export const SERVER = 'dist/server.js';
const SERVER_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=128', ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)];

/** Starts `node <script>` (.js) or `node --import tsx <script>` (.ts), waiting until `readyPath` answers 200. */
export async function startNode(script: string, env: Record<string, string>, port: number, readyPath = '/healthz', args: string[] = []): Promise<Child & { startMs: number }> {
  if (script === SERVER) ensureBuilt();
  const started = performance.now();
  const child = spawn(process.execPath, [...args, ...(script === SERVER ? SERVER_FLAGS : []), ...(script.endsWith('.ts') ? ['--import', 'tsx'] : []), script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited: ${out}`);
    try {
      const res = await fetch(url + readyPath);
      if (res.ok) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const startMs = performance.now() - started;
  return {
    url,
    pid: child.pid!,
    child,
    startMs,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Returns the resident set size of a process in MB (Linux /proc). */
export function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

export type LoadResult = { rps: number; p50: number; p99: number; errors: number; non2xx: number; requests: number };

/** Runs autocannon and returns requests per second and latency percentiles (ms); with several
 *  URLs its connections are spread over them round-robin (one load, one latency histogram). */
export async function load(opts: { url: string | string[]; connections?: number; duration?: number; method?: string; headers?: Record<string, string>; body?: string }): Promise<LoadResult> {
  const r = await autocannon({
    url: opts.url,
    connections: opts.connections ?? 50,
    duration: opts.duration ?? 10,
    method: (opts.method ?? 'GET') as 'GET',
    headers: opts.headers,
    body: opts.body,
  });
  return {
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    requests: r.requests.total,
  };
}

/** Returns a fresh temp directory. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A short description of this machine for RESULTS.md. */
export function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

/** Writes a result file that bench/run.ts turns into RESULTS.md. */
export function saveResult(name: string, data: unknown): void {
  const dir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ at: new Date().toISOString(), machine: machine(), ...(data as object) }, null, 2));
}
