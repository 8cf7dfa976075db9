// A fresh Latchkey app on a temporary database (SQLite, or PostgreSQL with
// LATCHKEY_TEST_DATABASE_URL: see database.ts), migrated with the real migrations, plus
// small helpers to act as a browser (cookies, same-origin form posts) or an API client.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { generateKey, parseKeyRing, type KeyRing } from '../../src/crypto/keyring';
import { openTestEngine } from './database';
import { rawSql, type Orm } from '../../src/store/engine';
import { createLogger } from '../../src/log';
import { createApiToken } from '../../src/services/create-api-token';

export const ORIGIN = 'http://localhost';
export const PASSWORD = 'correct horse battery staple';

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/** Returns a new app on a temp database; `logs` collects every log line it writes. */
export async function createTestApp(opts: { env?: Record<string, string>; ring?: KeyRing; now?: () => number; dir?: string } = {}) {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-test-'));
  const config: Config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'debug', ...opts.env });
  const { engine, databaseUrl, drop } = await openTestEngine(config.dbFile);
  /** SQLite only: the writing connection, for tests that look at the file itself. */
  const db = engine.sqlite ? { $client: engine.sqlite } : (undefined as unknown as { $client: import('better-sqlite3').Database });
  const ring = opts.ring ?? parseKeyRing(generateKey());
  const logs: string[] = [];
  const { app, deps } = await createApp({ engine, config, ring, log: createLogger('debug', (l) => logs.push(l)), clock: opts.now ? { now: opts.now } : undefined });

  /** Sends a request as a browser on this origin would (Origin header, cookies, form bodies); `url` is a path, or absolute for another origin. */
  async function browser(method: string, url: string, o: { cookie?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...o.headers };
    if (o.cookie) headers.Cookie = o.cookie;
    let body: string | undefined;
    if (method !== 'GET' && method !== 'HEAD') {
      headers.Origin ??= ORIGIN;
      headers['Sec-Fetch-Site'] ??= 'same-origin';
      if (o.form) {
        headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
        body = new URLSearchParams(o.form).toString();
      }
    }
    return app.request(/^https?:/.test(url) ? url : `${ORIGIN}${url}`, { method, headers, body });
  }

  /** Signs up (or in, if the user exists) through the real pages; returns the session cookie. */
  async function session(username: string, password = PASSWORD): Promise<string> {
    let res = await browser('POST', '/signup', { form: { username, password } });
    if (res.status !== 303) res = await browser('POST', '/login', { form: { username, password } });
    const cookie = cookieFrom(res);
    if (!cookie) throw new Error(`could not sign in ${username}: ${res.status}`);
    return cookie;
  }

  /** Creates a user with a session and a personal access token. */
  async function user(username: string) {
    const cookie = await session(username);
    const me = (await deps.store.db.query.users.findFirst({ where: (u, { eq }) => eq(u.username, username) }))!;
    const created = await createApiToken(deps, { id: me.id, username }, 'test');
    if (!created.ok) throw new Error('token not created');
    const token = created.token;
    return { username, id: me.id, cookie, token };
  }

  /** Calls the JSON API with a bearer token. */
  async function api(method: string, url: string, token: string | null, body?: unknown) {
    const headers: Record<string, string> = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await app.request(`${ORIGIN}/api/v1${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  async function close() {
    await deps.outbound.close().catch(() => {});
    await engine.close();
    await drop();
    if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
  }

  /** Rows of a raw SQL text with `?` placeholders, on either engine (reads). */
  const sql = <R = Record<string, any>>(text: string, params: unknown[] = []) => engine.rows<R>(text, params);
  /** The first row of `sql`, or undefined. */
  const sqlOne = async <R = Record<string, any>>(text: string, params: unknown[] = []) => (await engine.rows<R>(text, params))[0];
  /** Runs a raw SQL write (a test tampering with the data) in a write transaction. */
  const exec = (text: string, params: unknown[] = []) =>
    engine.write(async (tx) => {
      // better-sqlite3 refuses .all() on a statement that returns no data (UPDATE, DDL): run it.
      if (engine.sqlite && !engine.sqlite.prepare(text).reader) {
        (tx as Orm).run(rawSql(text, params));
        return [];
      }
      return engine.rows(text, params, tx);
    });

  return { app, deps, db, engine, databaseUrl, dir, config, ring, logs, browser, session, user, api, close, sql, sqlOne, exec };
}

/** Returns "name=value" of the session cookie a response sets, or ''. */
export function cookieFrom(res: Response): string {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    if (/session=/.test(pair) && !/=$/.test(pair)) return pair;
  }
  return '';
}
