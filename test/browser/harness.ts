// Browser test harness: runs the real server (`node --import tsx src/server.ts`) as a child
// process on a temp DATA_DIR and a free port, and drives Debian's Chromium with playwright-core.
// Playwright never downloads a browser here: it launches /usr/bin/chromium (or CHROMIUM_PATH).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOT_DIR = path.join(ROOT, 'test-results/screenshots');
export const PASSWORD = 'correct horse battery staple';

export type Server = { baseUrl: string; dataDir: string; output: () => string; stop: () => Promise<number | null> };

/** Returns a TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The environment the server child starts from: only the basics of this process's. Vitest puts
 * Vite's BASE_URL=/, MODE, DEV, PROD and VITEST* into process.env, and BASE_URL is one of the
 * server's own settings, so passing process.env through would make it refuse to start (and a
 * developer's SECRET_KEY, SIGNUP, ... would leak into the test).
 */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'LC_ALL'];
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!]));
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * Starts the real server with a fresh DATA_DIR and waits until GET /healthz answers 200.
 * `stop()` sends SIGTERM, waits for the exit (SIGKILL after 10 s), removes DATA_DIR and
 * resolves with the exit code.
 */
export async function startServer(env: Record<string, string> = {}, opts: { timeoutMs?: number } = {}): Promise<Server> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-browser-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...baseEnv(), NODE_ENV: 'test', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const output = () => out;

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
    return child.exitCode;
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before /healthz answered:\n${out}`);
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server did not answer ${baseUrl}/healthz within ${opts.timeoutMs ?? 30_000} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { baseUrl, dataDir, output, stop };
}

/** Launches Debian's headless Chromium. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-quic',
      '--disable-sync',
    ],
  });
}

/**
 * Returns a page in a new browser context (its own cookies), 1280×800. Page errors and
 * console errors are collected on `page.errors` so a test can assert there were none.
 */
export async function newPage(browser: Browser): Promise<Page & { errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(15_000);
  const page = (await context.newPage()) as Page & { errors: string[] };
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.errors.push(`console: ${msg.text()}`);
  });
  return page;
}

/** Signs up through /signup and waits to land on a signed-in page. */
export async function signUp(page: Page, baseUrl: string, username: string, password = PASSWORD) {
  await page.goto(`${baseUrl}/signup`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signup'));
}

/** Signs in through /login and waits to land on a signed-in page. */
export async function signIn(page: Page, baseUrl: string, username: string, password = PASSWORD) {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** Creates a personal access token on the Settings page and returns it (shown once there). */
export async function createToken(page: Page, baseUrl: string, name: string): Promise<string> {
  await page.goto(`${baseUrl}/settings`);
  await page.getByLabel('Token name').fill(name);
  await page.getByRole('button', { name: 'Create token' }).click();
  return (await page.locator('#new-token-value').innerText()).trim();
}

/** Signs out through the user menu in the top bar and waits for the sign-in page. */
export async function signOut(page: Page) {
  await page.locator('details.user-menu > summary').click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/login');
}

/** Saves a full-page PNG to test-results/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Where the look-over screenshots go (ignored by git): one PNG per page and window width. */
export const LOOK_DIR = path.join(ROOT, '.screenshots');

/**
 * Saves the window as .screenshots/<name>-1280.png and -1024.png (the widths people use most),
 * then puts the window back to 1280×800.
 */
export async function screenshotWidths(page: Page, name: string): Promise<void> {
  fs.mkdirSync(LOOK_DIR, { recursive: true });
  for (const width of [1280, 1024]) {
    await page.setViewportSize({ width, height: 800 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(LOOK_DIR, `${name}-${width}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

const AXE_SOURCE = fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core's WCAG 2.0/2.1 A and AA rules on the page and returns the violations as short
 * lines ("rule: target — message"), [] when there are none.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, o: unknown) => Promise<{ violations: { id: string; nodes: { target: unknown[]; failureSummary?: string }[] }[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} — ${(n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 200)}`));
  });
  return violations;
}

/**
 * Closes the browser and any fake services, stops the server and returns its exit code (null
 * when there was no server), for a test's afterAll to assert a clean SIGTERM exit.
 */
export async function tearDown(o: { browser?: Browser; server?: Server; fakes?: ({ close(): Promise<unknown> } | undefined)[] }): Promise<{ code: number | null; output: string } | null> {
  await o.browser?.close();
  for (const f of o.fakes ?? []) await f?.close();
  if (!o.server) return null;
  return { code: await o.server.stop(), output: o.server.output() };
}
