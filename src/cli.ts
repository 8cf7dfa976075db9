// The command line (CONTRACT.md section 2): `npm run --silent cli -- <command>`.
//
// Like src/server.ts it reads process.env once (loadConfig), loads the key ring, opens and
// migrates the database and checks the keys before any command touches data. Results go to
// standard output; errors are one line on standard error, `latchkey: <message>`.
// Exit codes: 0 done, 1 failed (or the audit chain is broken), 2 bad command line.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { hashPassword } from './auth/password';
import { createApiToken, TOKEN_NAME_MAX } from './services/create-api-token';
import { revokeApiToken } from './store/tokens';
import { loadConfig, type Config } from './config';
import { generateKey, loadKeyRing, parseKeyRing, writeKeyFile } from './crypto/keyring';
import { recordAudit, verifyAuditChain } from './store/audit';
import type { Engine } from './store/engine';
import { checkKeyRing } from './store/keys';
import { backupDatabase, olderKeysInUse, rotateDataKeys } from './store/maintenance';
import { openDataDir } from './store/startup';
import { createStore, type Store } from './store/store';
import { createUser, findUserForLogin, setPassword } from './store/users';
import { normalizeUsername, validatePassword, validateUsername } from './domain/names';
import { USER_FAILURES } from './domain/failures';
import { deactivateUser } from './services/offboard-user';

const USAGE = `usage: npm run --silent cli -- <command>

commands:
  user create <username> [--admin]       create a user and their Private workspace;
                                         the password is the first line of standard input
  user set-password <username>           set a user's password (first line of standard input),
                                         end all their sessions and revoke their API tokens
  user deactivate <username>             deactivate a user: end their sessions, API tokens and
                                         OAuth grants at once (their data stays)
  token create <username> [--name NAME]  print a new personal access token for the user
  token revoke <username> <name>         revoke the user's personal access token with that name
  audit verify                           check the audit log's hash chain
  backup <file>                          write a consistent copy of the database to a new file
  keys generate                          print a new random master key (base64)
  keys rotate                            rewrap every data key under the newest master key

Settings come from the environment: DATA_DIR (default ./data) and SECRET_KEY
(default: the key file DATA_DIR/secret.key).
`;

/** A bad command line: the message and the usage go to standard error, exit 2. */
class UsageError extends Error {}

/** A failure the user can act on: one line on standard error, exit 1. */
class CliError extends Error {}

type Args = { positionals: string[]; admin: boolean; name: string | undefined; help: boolean; /** after the command's words */ rest: string[] };

function parse(argv: string[]): Args {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { admin: { type: 'boolean' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    return { positionals, admin: !!values.admin, name: values.name, help: !!values.help, rest: [] };
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
}

/** The database and keys every data command needs; close() releases the database. */
type Opened = { config: Config; engine: Engine; store: Store; keys: ReturnType<typeof loadKeyRing>; close(): Promise<void> };

async function open(config: Config): Promise<Opened> {
  // Database first, then the key, the same way as the server (src/store/startup.ts).
  const { engine, keys } = await openDataDir(config, { backupBeforeMigrate: true });
  if (keys.created) warn(`generated a new master key in ${keys.keyFile}; back it up, without it the stored secrets cannot be read`);
  try {
    const store = await createStore(engine, keys.ring);
    return { config, engine, store, keys, close: () => engine.close() };
  } catch (err) {
    await engine.close().catch(() => undefined);
    throw err;
  }
}

function out(line: string): void {
  process.stdout.write(line + '\n');
}

function warn(message: string): void {
  process.stderr.write(`latchkey: ${message}\n`);
}

/** Returns true when another process (the server?) has the database open. Call after closing ours:
 *  the last connection to close a WAL database checkpoints it and deletes the -wal file. */
function openElsewhere(config: Config): boolean {
  return fs.existsSync(`${config.dbFile}-wal`);
}

function expectArgs(args: Args, count: number, usage: string): string[] {
  const rest = args.rest;
  if (rest.length < count) throw new UsageError(`missing argument: ${usage}`);
  if (rest.length > count) throw new UsageError(`unexpected argument "${rest[count]}": ${usage}`);
  return rest;
}

function username(raw: string): string {
  const name = normalizeUsername(raw);
  const problem = validateUsername(name);
  if (problem) throw new CliError(`username "${raw}" is not valid: ${problem}`);
  return name;
}

async function newPassword(): Promise<string> {
  const password = await readPassword();
  if (password === null) throw new CliError('no password on standard input (give it as the first line)');
  const problem = validatePassword(password);
  if (problem) throw new CliError(`password is not valid: ${problem}`);
  return password;
}

const MAX_LINE = 64 * 1024;

/** Reads the first line of standard input (without echo on a terminal); null when there is none. */
async function readPassword(): Promise<string | null> {
  const stdin = process.stdin;
  if (stdin.isTTY && typeof stdin.setRawMode === 'function') return readHidden(stdin);
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const finish = (line: Buffer | null) => {
      stdin.off('data', onData).off('end', onEnd).off('error', onError);
      stdin.destroy();
      resolve(line === null ? null : line.toString('utf8').replace(/\r$/, ''));
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl !== -1) finish(buf.subarray(0, nl));
      else if (buf.length > MAX_LINE) finish(buf.subarray(0, MAX_LINE));
    };
    const onEnd = () => finish(buf.length > 0 ? buf : null);
    const onError = (err: Error) => reject(new CliError(`cannot read standard input: ${err.message}`));
    stdin.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

function readHidden(stdin: NodeJS.ReadStream): Promise<string | null> {
  process.stderr.write('Password: ');
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let line = '';
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (text: string) => {
      for (const ch of text) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new CliError('cancelled'));
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else if (line.length < MAX_LINE) line += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

// ---------------------------------------------------------------------------------------------
// Commands

async function userCreate(config: Config, args: Args): Promise<void> {
  const [raw] = expectArgs(args, 1, 'user create <username> [--admin]');
  const name = username(raw);
  const password = await newPassword();
  const passwordHash = await hashPassword(password);
  const o = await open(config);
  try {
    const result = await createUser(o.store, { username: name, passwordHash, isAdmin: args.admin }, { actor: null, action: 'user.create' });
    if (!result.ok) throw new CliError(`username "${name}" is already taken`);
    out(`created user ${name}${result.user.isAdmin ? ' (instance admin)' : ''}`);
  } finally {
    await o.close();
  }
}

async function userSetPassword(config: Config, args: Args): Promise<void> {
  const [raw] = expectArgs(args, 1, 'user set-password <username>');
  const name = username(raw);
  const password = await newPassword();
  const passwordHash = await hashPassword(password);
  const o = await open(config);
  try {
    if (!(await setPassword(o.store, null, name, passwordHash, 'user.password_change', true))) throw new CliError(`there is no user "${name}"`);
    out(`changed the password of ${name}, ended their sessions and revoked their personal access tokens`);
  } finally {
    await o.close();
  }
}

async function userDeactivate(config: Config, args: Args): Promise<void> {
  const [raw] = expectArgs(args, 1, 'user deactivate <username>');
  const name = username(raw);
  const o = await open(config);
  try {
    const r = await deactivateUser(o, null, name);
    if (!r.ok) throw new CliError(r.reason === 'not_found' ? `there is no user "${name}"` : USER_FAILURES[r.reason].message);
    out(`deactivated ${name}: their sessions, personal access tokens and OAuth grants ended`);
  } finally {
    await o.close();
  }
}

async function tokenRevoke(config: Config, args: Args): Promise<void> {
  const [raw, tokenName] = expectArgs(args, 2, 'token revoke <username> <name>');
  const name = username(raw);
  const o = await open(config);
  try {
    const user = await findUserForLogin(o.store, name);
    if (!user) throw new CliError(`there is no user "${name}"`);
    if (!(await revokeApiToken(o.store, { id: user.id, username: user.username }, { name: tokenName }))) {
      throw new CliError(`${user.username} has no token named "${tokenName}"`);
    }
  } finally {
    await o.close();
  }
}

async function tokenCreate(config: Config, args: Args): Promise<void> {
  const [raw] = expectArgs(args, 1, 'token create <username> [--name NAME]');
  const name = username(raw);
  const tokenName = (args.name ?? 'cli').trim();
  if (!tokenName || tokenName.length > TOKEN_NAME_MAX) throw new CliError(`the token name must be 1 to ${TOKEN_NAME_MAX} characters`);
  const o = await open(config);
  try {
    const user = await findUserForLogin(o.store, name);
    if (!user) throw new CliError(`there is no user "${name}"`);
    if (user.disabled) throw new CliError(`user "${name}" is disabled`);
    // Without --name the default name is made free, so `token create alice` works every time.
    const created = await createApiToken(o, { id: user.id, username: user.username }, tokenName, { renameIfTaken: args.name === undefined });
    if (!created.ok) throw new CliError(created.reason === 'name_taken' ? `${user.username} already has a token named "${tokenName}"` : created.errors.name);
    out(created.token);
  } finally {
    await o.close();
  }
}

async function auditVerify(config: Config, args: Args): Promise<number> {
  expectArgs(args, 0, 'audit verify');
  const o = await open(config);
  try {
    const result = await verifyAuditChain(o.store);
    if (result.ok) {
      out(`ok ${result.count}`);
      return 0;
    }
    out(`broken at event ${result.brokenId}: ${result.reason}`);
    warn(`the audit log is broken at event ${result.brokenId}: ${result.reason} (${result.count} events before it are intact)`);
    return 1;
  } finally {
    await o.close();
  }
}

async function backup(config: Config, args: Args): Promise<void> {
  const [file] = expectArgs(args, 1, 'backup <file>');
  if (config.databaseUrl) throw new UsageError('backup copies the SQLite database in DATA_DIR; with DATABASE_URL (PostgreSQL) back up with pg_dump (see "Scaling out" in the README)');
  const o = await open(config);
  // Ctrl-C or SIGTERM during the copy: drop the unfinished copy (only if this run made it).
  const partial = `${path.resolve(file)}.partial`;
  const ours = !fs.existsSync(partial);
  const stop = () => {
    if (ours) fs.rmSync(partial, { force: true });
    process.exit(130);
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    out(await backupDatabase(o.engine, file));
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
    await o.close();
  }
}

function keysGenerate(args: Args): void {
  expectArgs(args, 0, 'keys generate');
  out(generateKey());
}

async function keysRotate(config: Config, args: Args): Promise<void> {
  expectArgs(args, 0, 'keys rotate');
  const o = await open(config);
  const fromFile = o.keys.source === 'file';
  let ring = o.keys.ring;
  const lines: string[] = [];
  let newKey = false;
  const done = { credentials: 0, dataKeys: 0 };
  const total = () => done.credentials + done.dataKeys;
  let stillUsed = new Map<string, number>();
  const audit = (outcome: 'success' | 'failure', extra: Record<string, unknown> = {}) =>
    recordAudit({ ...o.store, ring }, {
      actor: null,
      workspace: null,
      action: 'keys.rotate',
      target: `key:${ring.active.id}`,
      outcome,
      details: { key_id: ring.active.id, new_key: newKey, rewrapped: total(), credentials: done.credentials, instance_keys: done.dataKeys, ...extra },
    });
  try {
    if (fromFile && ring.keys.length > 1) {
      // The key file lists older keys only while a rotation is unfinished: finish that one.
      lines.push(`resuming the rotation to key ${ring.active.id} (first in ${o.keys.keyFile})`);
    } else if (fromFile) {
      const fresh = parseKeyRing(generateKey()).active;
      ring = { active: fresh, keys: [fresh, ...ring.keys] };
      // The new key is on disk (with the old ones after it) before anything is wrapped under it.
      writeKeyFile(config.dataDir, ring);
      await checkKeyRing(o.engine, ring);
      newKey = true;
      lines.push(`new key ${fresh.id} written first in ${o.keys.keyFile}`);
    }
    const tty = process.stderr.isTTY;
    try {
      await rotateDataKeys(o.engine, ring, (p) => {
        Object.assign(done, p);
        if (tty && total() % 100 === 0) process.stderr.write(`\rrewrapped ${total()}…`);
      });
    } finally {
      if (tty) process.stderr.write('\r\x1b[K');
    }
    stillUsed = (await olderKeysInUse(o.engine, ring));
    lines.push(
      `rewrapped ${total()} data key${total() === 1 ? '' : 's'} under key ${ring.active.id} ` +
        `(${done.credentials} credential${done.credentials === 1 ? '' : 's'}, ${done.dataKeys} instance key${done.dataKeys === 1 ? '' : 's'})`,
    );
    if (newKey || total() > 0) await audit('success');
  } catch (err) {
    if (newKey || total() > 0) {
      lines.push(`rewrapped ${total()} data key${total() === 1 ? '' : 's'} under key ${ring.active.id} before the rotation stopped; fix the problem and run \`keys rotate\` again to resume`);
      await audit('failure', { error: oneLine((err as Error).message) }).catch(() => {});
    }
    for (const l of lines) out(l);
    throw err;
  } finally {
    await o.close();
  }

  const older = ring.keys.filter((k) => k.id !== ring.active.id).map((k) => k.id);
  const busy = openElsewhere(config);
  if (stillUsed.size > 0) {
    const n = [...stillUsed.values()].reduce((a, b) => a + b, 0);
    lines.push(
      `older keys are still needed: ${[...stillUsed.keys()].join(', ')} wrap ${n} data key${n === 1 ? '' : 's'} written during the rotation; ` +
        `make sure the server runs with key ${ring.active.id} first, then run \`keys rotate\` again`,
    );
  } else if (older.length === 0) {
    lines.push('no older keys to remove');
  } else if (!fromFile) {
    lines.push(`older keys are no longer needed; you may remove them from SECRET_KEY (keep only its first key, ${ring.active.id})`);
    if (busy) lines.push('the database is open in another process: make sure the server runs with the new SECRET_KEY before you remove them');
  } else if (busy) {
    // A server started before the rotation still holds only the old key and wraps new secrets with it:
    // removing that key now could strand them. Keep it until a run with the server stopped.
    lines.push(
      `older keys are no longer needed but were kept in ${o.keys.keyFile}, because the database is open in another process (the server?): ` +
        'restart it now so it uses the new key, and run `keys rotate` again while it is stopped to remove them',
    );
  } else {
    writeKeyFile(config.dataDir, { active: ring.active, keys: [ring.active] });
    lines.push(`older keys are no longer needed; removed ${older.join(', ')} from ${o.keys.keyFile} (backups made before this rotation still need them)`);
  }
  for (const l of lines) out(l);
}

// ---------------------------------------------------------------------------------------------

const COMMANDS: Record<string, (config: Config, args: Args) => Promise<number | void>> = {
  'user create': userCreate,
  'user set-password': userSetPassword,
  'user deactivate': userDeactivate,
  'token create': tokenCreate,
  'token revoke': tokenRevoke,
  'audit verify': auditVerify,
  backup,
  'keys rotate': keysRotate,
};

async function run(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [group, action] = args.positionals;
  if (!group) throw new UsageError('no command given');
  const words = group === 'backup' ? 1 : 2;
  const command = args.positionals.slice(0, words).join(' ');
  args.rest = args.positionals.slice(words);
  if (args.admin && command !== 'user create') throw new UsageError('--admin only goes with `user create`');
  if (args.name !== undefined && command !== 'token create') throw new UsageError('--name only goes with `token create`');
  if (command === 'keys generate') {
    // Needs no settings, keys or database.
    keysGenerate(args);
    return 0;
  }
  const handler = COMMANDS[command];
  if (!handler) {
    const known = ['keys generate', ...Object.keys(COMMANDS)].some((c) => c.startsWith(`${group} `));
    throw new UsageError(known && action === undefined ? `"${group}" needs a subcommand` : `unknown command "${command}"`);
  }
  return (await handler(loadConfig(process.env), args)) ?? 0;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim() || 'unexpected error';
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`latchkey: ${oneLine(err.message)}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    warn(oneLine(err instanceof Error ? err.message : String(err)));
    process.exitCode = 1;
  },
);
