// The command line run for real as a child process (`node --import tsx src/cli.ts ...`) against a
// DATA_DIR, for tests that need a second process on the same database.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type Run = { code: number | null; stdout: string; stderr: string };

/** Runs the CLI with DATA_DIR = dir, no SECRET_KEY or DATABASE_URL unless given (an empty value: unset), and `input` on standard input. */
export function cli(dir: string, args: string[], o: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dir, ...o.env };
  if (!o.env?.SECRET_KEY) delete env.SECRET_KEY;
  if (!o.env?.DATABASE_URL) delete env.DATABASE_URL; // never a database from the developer's shell
  for (const k of ['PORT', 'HOST', 'SIGNUP', 'BASE_URL', 'OUTBOUND_ALLOW_HOSTS']) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {}); // the CLI may exit before reading
    child.stdin.end(o.input ?? '');
  });
}
