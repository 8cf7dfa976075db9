// Master key ring.
//
// Text format (env SECRET_KEY or DATA_DIR/secret.key): base64 keys of exactly 32 random bytes,
// comma-separated, newest first. The first key is the active one (used for new encryptions);
// the others are only used to decrypt data wrapped before a rotation.
//
//   secret.key = base64(key_newest) "," base64(key_older) ... "\n"     (mode 0600)
//
// Key id = first 16 hex chars of SHA-256("latchkey-key-id:" ‖ key bytes): it depends only on
// the key, never on its position, and reveals nothing useful about it.

import { createHash, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type MasterKey = { id: string; key: Buffer };
export type KeyRing = { active: MasterKey; keys: MasterKey[] };

export const KEY_BYTES = 32;
export const KEY_FILE_NAME = 'secret.key';

// Canonical base64 of 32 bytes: 43 chars + one '=' (checked again by re-encoding below).
const KEY_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

/** Returns the stable id (16 hex chars) of a raw 32-byte master key. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('latchkey-key-id:').update(key).digest('hex').slice(0, 16);
}

/** Finds a master key in the ring by its id. */
export function getKey(ring: KeyRing, id: string): MasterKey | undefined {
  return ring.keys.find((k) => k.id === id);
}

/** Parses "key1,key2,..." (newest first); throws a one-line Error that never echoes key material. */
export function parseKeyRing(text: string): KeyRing {
  const entries = text
    .trim()
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) {
    throw new Error(`key ring is empty: expected one or more comma-separated base64 keys of ${KEY_BYTES} bytes`);
  }
  const keys: MasterKey[] = [];
  entries.forEach((entry, i) => {
    const key = Buffer.from(entry, 'base64');
    if (!KEY_PATTERN.test(entry) || key.length !== KEY_BYTES || key.toString('base64') !== entry) {
      throw new Error(
        `key ring entry #${i + 1} of ${entries.length} is not base64 of exactly ${KEY_BYTES} bytes ` +
          `(generate one with: openssl rand -base64 32)`,
      );
    }
    const id = keyId(key);
    const dup = keys.findIndex((k) => k.id === id);
    if (dup !== -1) throw new Error(`key ring entry #${i + 1} duplicates entry #${dup + 1}`);
    keys.push({ id, key });
  });
  return { active: keys[0], keys };
}

/** Returns a new random master key as base64 of 32 bytes. */
export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** Serializes a ring to the text format, active (newest) key first. */
export function formatKeyRing(ring: KeyRing): string {
  const keys = [ring.active, ...ring.keys.filter((k) => k.id !== ring.active.id)];
  return keys.map((k) => k.key.toString('base64')).join(',');
}

/** Loads the ring from SECRET_KEY if set, else from DATA_DIR/secret.key, creating that file once if missing. */
export function loadKeyRing(opts: { secretKeyEnv?: string; dataDir: string }): {
  ring: KeyRing;
  source: 'env' | 'file';
  created: boolean;
  keyFile: string;
} {
  const keyFile = path.join(opts.dataDir, KEY_FILE_NAME);
  if (opts.secretKeyEnv !== undefined && opts.secretKeyEnv !== '') {
    return { ring: parseOrExplain(opts.secretKeyEnv, 'SECRET_KEY'), source: 'env', created: false, keyFile };
  }

  let text = readKeyFile(keyFile);
  let created = false;
  if (text === undefined) {
    fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    const fresh = generateKey() + '\n';
    // link() never overwrites: if another process created the file first, use its key instead.
    created = writeAtomic(keyFile, fresh, 'create');
    text = created ? fresh : readKeyFile(keyFile);
    if (text === undefined) throw new Error(`key file ${keyFile} disappeared while it was being created`);
  }
  return { ring: parseOrExplain(text, `key file ${keyFile}`), source: 'file', created, keyFile };
}

/** Atomically rewrites DATA_DIR/secret.key (newest first, mode 0600) and returns its path; used by `keys rotate`. */
export function writeKeyFile(dataDir: string, ring: KeyRing): string {
  const keyFile = path.join(dataDir, KEY_FILE_NAME);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeAtomic(keyFile, formatKeyRing(ring) + '\n', 'replace');
  return keyFile;
}

/** Returns hex HMAC-SHA256(key, "latchkey-key-check-v1"), stored so a wrong key is detected at start. */
export function keyCheck(key: MasterKey): string {
  return createHmac('sha256', key.key).update('latchkey-key-check-v1').digest('hex');
}

function parseOrExplain(text: string, source: string): KeyRing {
  try {
    return parseKeyRing(text);
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
}

/** Reads the key file; undefined if it does not exist, a clear Error if it cannot be read. */
function readKeyFile(keyFile: string): string | undefined {
  try {
    return fs.readFileSync(keyFile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new Error(`cannot read key file ${keyFile}: ${code ?? (err as Error).message}`, { cause: err });
  }
}

/**
 * Writes `content` to a temp file (mode 0600, fsynced) in the same directory, then moves it into place,
 * so a crash never leaves a half-written key file. 'create' uses link() and returns false if `file`
 * already exists; 'replace' uses rename() and always returns true.
 */
function writeAtomic(file: string, content: string, mode: 'create' | 'replace'): boolean {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    try {
      fs.fchmodSync(fd, 0o600); // in case of an unusual umask
      fs.writeSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (mode === 'replace') {
      fs.renameSync(tmp, file);
    } else {
      try {
        fs.linkSync(tmp, file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        // Filesystems without hard links: fall back to rename (atomic, but not race-free against a peer).
        if (!(code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') || fs.existsSync(file)) throw err;
        fs.renameSync(tmp, file);
      }
    }
    fsyncDir(path.dirname(file));
    return true;
  } finally {
    fs.rmSync(tmp, { force: true }); // after rename this is a no-op; after link it drops the extra name
  }
}

/** Flushes a directory entry to disk (after a rename), where the filesystem allows it. */
export function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Best effort: not every platform/filesystem allows fsync on a directory.
  }
}
