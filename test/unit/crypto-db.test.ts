// Secrets at rest with a real database (SECURITY.md, "Secrets at rest"): a tampered sealed blob or
// wrapped key fails to decrypt, a blob moved to another row fails to decrypt, and a master key that
// does not match the database refuses to start, in createApp and in the real server process.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { DecryptError } from '../../src/crypto/envelope';
import { generateKey, parseKeyRing } from '../../src/crypto/keyring';
import { loadCredentialForUse } from '../../src/store/credentials';
import { openDatabase, sqliteEngine } from '../../src/store/db';
import { KeyMismatchError } from '../../src/store/keys';
import { getPrivateWorkspace, findWorkspace } from '../../src/store/workspaces';
import { createLogger } from '../../src/log';
import { createTestApp, type TestApp } from '../helpers/app';
import { ENGINE } from '../helpers/database';
import { startFakeService, type FakeService } from '../helpers/fake-services';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Stored layout (src/crypto/envelope.ts): version(1) ‖ key id(8) ‖ iv(12) ‖ tag(16) ‖ ciphertext
const OFFSETS = { version: 0, iv: 9, tag: 21, ciphertext: 37 } as const;

let apps: TestApp[] = [];
let services: FakeService[] = [];
let dirs: string[] = [];
afterEach(async () => {
  for (const t of apps) await t.close();
  for (const s of services) await s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  apps = [];
  services = [];
  dirs = [];
});
async function fresh(opts: Parameters<typeof createTestApp>[0] = {}) {
  const t = await createTestApp(opts);
  apps.push(t);
  return t;
}
function tempDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cryptodb-'));
  dirs.push(d);
  return d;
}

type Row = { id: number; secret_blob: Buffer; wrapped_key: Buffer };
async function row(t: TestApp, credentialId: string, workspaceId?: number): Promise<Row> {
  const r = await t.sqlOne<Row>(
    `SELECT id, secret_blob, wrapped_key FROM credentials WHERE credential_id = ? ${workspaceId === undefined ? '' : 'AND workspace_id = ?'}`,
    workspaceId === undefined ? [credentialId] : [credentialId, workspaceId],
  );
  return r!;
}
async function setColumn(t: TestApp, id: number, column: 'secret_blob' | 'wrapped_key', value: Buffer) {
  await t.exec(`UPDATE credentials SET ${column} = ? WHERE id = ?`, [value, id]);
}
function flipBit(buf: Buffer, offset: number, bit = 0): Buffer {
  const copy = Buffer.from(buf);
  copy[offset] ^= 1 << bit;
  return copy;
}

/** An app with alice and two private GitHub credentials, a and b. */
async function withTwoCredentials(opts: Parameters<typeof createTestApp>[0] = {}) {
  const t = await fresh(opts);
  const alice = await t.user('alice');
  for (const [name, token] of [
    ['A', 'ghp_secret_of_a'],
    ['B', 'ghp_secret_of_b'],
  ]) {
    const res = await t.api('POST', '/workspaces/private/credentials', alice.token, { name, type: 'github', secrets: { token } });
    expect(res.status).toBe(201);
  }
  const ws = await getPrivateWorkspace(t.deps.store, alice.id);
  const load = (cid: string) => loadCredentialForUse(t.deps.store, ws, cid);
  expect((await load('a'))!.secrets).toEqual({ token: 'ghp_secret_of_a' });
  expect((await load('b'))!.secrets).toEqual({ token: 'ghp_secret_of_b' });
  return { t, alice, ws, load };
}

describe('tampering with the stored secrets', () => {
  const positions = (len: number) => [
    ['version', OFFSETS.version],
    ['iv', OFFSETS.iv],
    ['iv (last byte)', OFFSETS.tag - 1],
    ['tag', OFFSETS.tag],
    ['tag (last byte)', OFFSETS.ciphertext - 1],
    ['ciphertext', OFFSETS.ciphertext],
    ['ciphertext (last byte)', len - 1],
  ] as const;

  it('a flipped bit anywhere in secret_blob makes loadCredentialForUse throw DecryptError', async () => {
    const { t, load } = await withTwoCredentials();
    const original = await row(t, 'a');
    const cases = [...positions(original.secret_blob.length), ['key id slot (empty for blobs)', 1] as const];
    for (const [where, offset] of cases) {
      for (const bit of [0, 7]) {
        await setColumn(t, original.id, 'secret_blob', flipBit(original.secret_blob, offset, bit));
        await expect(load('a'), `${where} bit ${bit}`).rejects.toBeInstanceOf(DecryptError);
      }
    }
    await setColumn(t, original.id, 'secret_blob', original.secret_blob.subarray(0, original.secret_blob.length - 1));
    await expect(load('a'), 'truncated').rejects.toBeInstanceOf(DecryptError);
    await setColumn(t, original.id, 'secret_blob', original.secret_blob);
    expect((await load('a'))!.secrets).toEqual({ token: 'ghp_secret_of_a' });
    expect((await load('b'))!.secrets).toEqual({ token: 'ghp_secret_of_b' }); // untouched neighbour
  });

  it('a flipped bit in wrapped_key makes loadCredentialForUse throw DecryptError', async () => {
    const { t, load } = await withTwoCredentials();
    const original = await row(t, 'a');
    for (const [where, offset] of positions(original.wrapped_key.length)) {
      await setColumn(t, original.id, 'wrapped_key', flipBit(original.wrapped_key, offset));
      await expect(load('a'), where).rejects.toBeInstanceOf(DecryptError);
    }
    // A changed key id names a master key the ring does not have: refused too (not a DecryptError).
    await setColumn(t, original.id, 'wrapped_key', flipBit(original.wrapped_key, 1));
    await expect(load('a')).rejects.toThrow(/not in the key ring/);
    await setColumn(t, original.id, 'wrapped_key', original.wrapped_key);
    expect((await load('a'))!.secrets).toEqual({ token: 'ghp_secret_of_a' });
  });

  it('a tampered credential is never sent: the connection test fails without an outbound request', async () => {
    const svc = await startFakeService({ tokens: { ghp_tampered: 'alice' } });
    services.push(svc);
    const t = await fresh({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
    const alice = await t.user('alice');
    await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'T', type: 'github', fields: { base_url: svc.url }, secrets: { token: 'ghp_tampered' } });
    const r = await row(t, 't');
    await setColumn(t, r.id, 'secret_blob', flipBit(r.secret_blob, OFFSETS.ciphertext));
    const res = await t.api('POST', '/workspaces/private/credentials/t/test', alice.token, {});
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.text).not.toContain('ghp_tampered');
    const page = await t.browser('POST', '/w/private/credentials/t/test', { cookie: alice.cookie });
    expect(page.status).toBeGreaterThanOrEqual(500);
    expect(svc.requests).toEqual([]);
    expect(t.logs.join('\n')).not.toContain('ghp_tampered');
  });
});

describe('a blob moved to another row', () => {
  it('fails to decrypt in the same workspace', async () => {
    const { t, load } = await withTwoCredentials();
    const a = await row(t, 'a');
    const b = await row(t, 'b');
    // Both columns of A copied over B: the binding names B's row id, so neither opens.
    await t.exec('UPDATE credentials SET secret_blob = (SELECT secret_blob FROM credentials WHERE id = ?), wrapped_key = (SELECT wrapped_key FROM credentials WHERE id = ?) WHERE id = ?', [a.id, a.id, b.id]);
    await expect(load('b')).rejects.toBeInstanceOf(DecryptError);
    // Only the sealed blob moved (B keeps its own wrapped key): fails too.
    await setColumn(t, b.id, 'wrapped_key', b.wrapped_key);
    await setColumn(t, b.id, 'secret_blob', a.secret_blob);
    await expect(load('b')).rejects.toBeInstanceOf(DecryptError);
    // Put back, both open again.
    await setColumn(t, b.id, 'secret_blob', b.secret_blob);
    expect((await load('b'))!.secrets).toEqual({ token: 'ghp_secret_of_b' });
    expect((await load('a'))!.secrets).toEqual({ token: 'ghp_secret_of_a' });
  });

  it("fails to decrypt in another user's workspace and in a project", async () => {
    const t = await fresh();
    const alice = await t.user('alice');
    const bob = await t.user('bob');
    const team = (await t.api('POST', '/projects', alice.token, { name: 'Team' })).json.slug;
    await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'Same', type: 'github', secrets: { token: 'ghp_alice_same' } });
    await t.api('POST', '/workspaces/private/credentials', bob.token, { name: 'Same', type: 'github', secrets: { token: 'ghp_bob_same' } });
    await t.api('POST', `/workspaces/${team}/credentials`, alice.token, { name: 'Same', type: 'github', secrets: { token: 'ghp_team_same' } });
    const aliceWs = await getPrivateWorkspace(t.deps.store, alice.id);
    const bobWs = await getPrivateWorkspace(t.deps.store, bob.id);
    const teamWs = (await findWorkspace(t.deps.store, alice.id, team))!;
    const from = await row(t, 'same', aliceWs.id);
    for (const target of [bobWs, teamWs]) {
      const to = await row(t, 'same', target.id);
      await setColumn(t, to.id, 'secret_blob', from.secret_blob);
      await setColumn(t, to.id, 'wrapped_key', from.wrapped_key);
      await expect(loadCredentialForUse(t.deps.store, target, 'same'), target.ref).rejects.toBeInstanceOf(DecryptError);
    }
    expect((await loadCredentialForUse(t.deps.store, aliceWs, 'same'))!.secrets).toEqual({ token: 'ghp_alice_same' });
  });
});

// About DATA_DIR (the SQLite file and the key file): PostgreSQL's start checks are in test/cli/cli.test.ts.
describe.skipIf(ENGINE === 'pg')('a wrong master key refuses to start', () => {
  /** A data directory whose database holds a credential sealed under `key`. */
  async function dataDirWithSecrets(key: string) {
    const dir = tempDir();
    const t = await createTestApp({ dir, ring: parseKeyRing(key) });
    const alice = await t.user('alice');
    expect((await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'Kept', type: 'github', secrets: { token: 'ghp_kept_secret' } })).status).toBe(201);
    await t.close();
    return dir;
  }

  async function open(dir: string, key: string) {
    const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' });
    const engine = sqliteEngine(openDatabase(config.dbFile));
    try {
      return { app: await createApp({ engine, config, ring: parseKeyRing(key), log: createLogger('silent') }), engine };
    } catch (err) {
      await engine.close();
      throw err;
    }
  }

  it('createApp throws KeyMismatchError with a clear message and changes nothing', async () => {
    const key = generateKey();
    const dir = await dataDirWithSecrets(key);
    const masterKeysBefore = readMasterKeys(dir);
    let error: unknown;
    try {
      await open(dir, generateKey());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KeyMismatchError);
    expect((error as Error).message).toMatch(/master key does not match this database/);
    expect((error as Error).message).toMatch(/SECRET_KEY/);
    expect(readMasterKeys(dir)).toEqual(masterKeysBefore);

    // A ring that lists the right key (even second, after a new one) still opens and decrypts.
    for (const ring of [key, `${generateKey()},${key}`]) {
      const { app, engine } = await open(dir, ring);
      try {
        const alice = (await engine.rows<{ id: string }>(`SELECT id FROM users WHERE username = 'alice'`))[0].id;
        const ws = await getPrivateWorkspace(app.deps.store, alice);
        expect((await loadCredentialForUse(app.deps.store, ws, 'kept'))!.secrets).toEqual({ token: 'ghp_kept_secret' });
      } finally {
        await engine.close();
      }
    }
  });

  function readMasterKeys(dir: string) {
    const db = openDatabase(path.join(dir, 'latchkey.db'));
    try {
      return db.$client.prepare('SELECT key_id, "check" FROM master_keys ORDER BY key_id').all();
    } finally {
      db.$client.close();
    }
  }

  /** Runs the real server; resolves when it exits or once it says it is listening (then stops it). */
  function runServer(env: Record<string, string | undefined>): Promise<{ code: number | null; stdout: string; stderr: string; listened: boolean }> {
    return new Promise((resolve, reject) => {
      // A clean environment: vitest puts Vite's BASE_URL ('/') and others into process.env.
      const inherited = { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR };
      const childEnv: Record<string, string> = {};
      for (const [k, v] of Object.entries({ ...inherited, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env })) if (v !== undefined) childEnv[k] = v;
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let listened = false;
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (!listened && /"msg":"listening"/.test(stdout)) {
          listened = true;
          child.kill('SIGTERM');
        }
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, listened });
      });
    });
  }

  it('the server process exits non-zero with a clear message on stderr for a wrong SECRET_KEY', async () => {
    const key = generateKey();
    const dir = await dataDirWithSecrets(key);
    const before = fs.readFileSync(path.join(dir, 'latchkey.db'));

    const wrong = await runServer({ DATA_DIR: dir, SECRET_KEY: generateKey() });
    expect(wrong.listened).toBe(false);
    expect(wrong.code).not.toBe(0);
    expect(wrong.code).not.toBeNull();
    expect(wrong.stderr).toMatch(/^latchkey: the master key does not match this database \(check SECRET_KEY or DATA_DIR\/secret\.key\); refusing to start$/m);
    expect(fs.readdirSync(dir)).not.toContain('secret.key'); // no key was invented
    expect(fs.readFileSync(path.join(dir, 'latchkey.db')).equals(before)).toBe(true);

    // The right key starts (and stops cleanly on SIGTERM): the refusal above was about the key.
    const right = await runServer({ DATA_DIR: dir, SECRET_KEY: key });
    expect(right.listened, right.stderr).toBe(true);
    expect(right.code).toBe(0);
  }, 90_000);

  it('refuses a database with secrets when the key file is missing, instead of starting over', async () => {
    const key = generateKey();
    const dir = await dataDirWithSecrets(key); // made with SECRET_KEY, so there is no key file
    const res = await runServer({ DATA_DIR: dir, SECRET_KEY: undefined });
    expect(res.listened).toBe(false);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/^latchkey: .*secret\.key is missing and SECRET_KEY is not set.*refusing to start$/m);
    expect(fs.readdirSync(dir)).not.toContain('secret.key'); // no new key was generated
  }, 60_000);
});
