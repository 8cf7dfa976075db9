// Seeds a Latchkey data directory through the real app (in-process), for the benchmarks.
import path from 'node:path';
import { createApp } from '../src/app';
import { hashPassword } from '../src/auth/password';
import { loadConfig } from '../src/config';
import { formatKeyRing, generateKey, parseKeyRing } from '../src/crypto/keyring';
import { openDatabase, sqliteEngine } from '../src/store/db';
import { openPostgres } from '../src/store/postgres';
import { createUser } from '../src/store/users';
import { createLogger } from '../src/log';
import { createApiToken } from '../src/services/create-api-token';

type App = Awaited<ReturnType<typeof createApp>>;
export type Seeded = { dataDir: string; secretKey: string; close(): Promise<void>; app: App['app']; deps: App['deps'] };

/** Opens (creating) a data directory, or the PostgreSQL database `databaseUrl`, with a fresh key and returns the in-process app on it. */
export async function openSeedApp(dataDir: string, env: Record<string, string> = {}, databaseUrl?: string): Promise<Seeded> {
  const secretKey = formatKeyRing(parseKeyRing(generateKey()));
  const config = loadConfig({ DATA_DIR: dataDir, SECRET_KEY: secretKey, LOG_LEVEL: 'silent', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...env });
  const engine = databaseUrl ? await openPostgres(databaseUrl, { max: 2 }) : sqliteEngine(openDatabase(path.join(dataDir, 'latchkey.db')));
  const { app, deps } = await createApp({ engine, config, ring: parseKeyRing(secretKey), log: createLogger('silent') });
  return { dataDir, secretKey, app, deps, close: () => engine.close() };
}

/** Creates a user (password hashed once) and returns them with a personal access token. */
export async function seedUser(s: Seeded, username: string, isAdmin = false) {
  const made = await createUser(s.deps.store, { username, passwordHash: await hashPassword('correct horse battery staple'), isAdmin }, { actor: null, action: 'user.create' });
  if (!made.ok) throw new Error(made.reason);
  const created = await createApiToken(s.deps, made.user, 'bench');
  if (!created.ok) throw new Error('token not created');
  const token = created.token;
  return { ...made.user, token };
}

/** Calls the JSON API in-process; throws on an unexpected status. */
export async function api(s: Seeded, token: string, method: string, url: string, body?: unknown, expect = [200, 201, 204]) {
  const res = await s.app.request(`http://localhost/api/v1${url}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!expect.includes(res.status)) throw new Error(`${method} ${url} → ${res.status}: ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}
