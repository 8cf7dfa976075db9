// Operations tests run the real thing: `node --import tsx src/server.ts` and `src/cli.ts` as child
// processes on a temporary DATA_DIR, with a clean environment (nothing from the developer's shell).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function tempDir(prefix = 'latchkey-ops-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** The environment of a child: PATH and HOME, DATA_DIR, and what the test adds. */
function childEnv(dir: string, env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, DATA_DIR: dir, LOG_LEVEL: 'info', ...env };
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export type Server = {
  child: ChildProcess;
  port: number;
  origin: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<Exit>;
  kill(signal: NodeJS.Signals): Promise<Exit>;
};

const children = new Set<ChildProcess>();

/** Kills (SIGKILL) every child these helpers started that is still running; for afterEach. */
export async function killChildren(): Promise<void> {
  await Promise.all(
    [...children].map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL'); // only a child started here, by its handle
        await gone;
      }
      children.delete(child);
    }),
  );
}

/** Spawns the server; `waitHealthy` (default) resolves once /healthz answers 200. */
export async function startServer(dir: string, env: Record<string, string> = {}, opts: { waitHealthy?: boolean } = {}): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: childEnv(dir, { PORT: String(port), HOST: '127.0.0.1', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d) => (err += d));
  const exited = new Promise<Exit>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const server: Server = {
    child,
    port,
    origin: `http://127.0.0.1:${port}`,
    stdout: () => out,
    stderr: () => err,
    exited,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  if (opts.waitHealthy === false) return server;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${out}\n${err}`);
    try {
      const res = await request(server, 'GET', '/healthz');
      if (res.status === 200) return server;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`server did not become healthy:\n${out}\n${err}`);
    await sleep(50);
  }
}

export type Run = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** Spawns the CLI; `onSpawn` gets the child (to kill it mid-run). */
export function cli(dir: string, args: string[], o: { input?: string; env?: Record<string, string>; onSpawn?: (child: ChildProcess) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: childEnv(dir, o.env ?? {}), stdio: 'pipe' });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(o.input ?? '');
    o.onSpawn?.(child);
  });
}

export type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string; json: any };

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** One HTTP request to the server (JSON body when `body` is an object). */
export function request(s: { port: number }, method: string, urlPath: string, o: { headers?: Record<string, string>; body?: unknown; form?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...o.headers };
  let body: string | undefined;
  if (o.form) {
    body = new URLSearchParams(o.form).toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    headers.Origin ??= `http://127.0.0.1:${s.port}`;
    headers['Sec-Fetch-Site'] ??= 'same-origin';
  } else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['Content-Type'] = 'application/json';
  }
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, method, path: urlPath, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: any = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode!, headers: res.headers, body: text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The JSON lines a process wrote (other lines are ignored). */
export function jsonLines(text: string): Record<string, any>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

/** Every file under dir (relative paths), sorted; for "nothing was touched". */
export function listFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
}
