// Operator maintenance on the database, used by src/cli.ts: online backup and master key rotation.
//
// Rotation rewraps data keys only (envelope.ts): each credential's data key and the instance data
// keys (the audit key) are unwrapped with whichever ring key made them and wrapped again under
// ring.active. Sealed secrets and the audit chain are never touched, so the audit HMAC key and
// every hash stay the same. Each row is rewrapped in its own short transaction and only rows not
// yet on the active key are selected, so an interrupted rotation resumes where it stopped.
import { first, type Engine } from './engine';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { and, asc, eq, gt, isNotNull, isNull, ne, or } from 'drizzle-orm';

import { oauthAppBinding } from './oauth-apps';
import { rewrapDataKey, type Binding } from '../crypto/envelope';
import { fsyncDir, type KeyRing } from '../crypto/keyring';
import { AUDIT_KEY_BINDING, credentialBinding, keyUsage } from './keys';

export type RotateProgress = { credentials: number; dataKeys: number };
export type RotateResult = RotateProgress & {
  /** credentials + dataKeys rewrapped by this call. */
  total: number;
  /** False when `limit` stopped the call before every row was on the active key. */
  complete: boolean;
};

/** Bindings of the instance data keys in `data_keys`, by purpose. */
const DATA_KEY_BINDINGS: Record<string, Binding> = { audit: AUDIT_KEY_BINDING };

/**
 * Rewraps every data key not yet on ring.active (credentials first, then `data_keys`), one row per
 * transaction, and returns how many it rewrapped. Safe to interrupt and call again: it resumes.
 * `limit` stops after that many rows (complete: false); `batchSize` is how many ids are read at once.
 * A row that cannot be unwrapped stops the run with an Error naming it; rows done so far stay done.
 */
export async function rotateDataKeys(
  engine: Engine,
  ring: KeyRing,
  onProgress?: (p: RotateProgress) => void,
  opts: { batchSize?: number; limit?: number } = {},
): Promise<RotateResult> {
  const { db } = engine;
  const { credentials, dataKeys, oauthApps, workspaces } = engine.t;
  const active = ring.active.id;
  const batchSize = Math.max(1, opts.batchSize ?? 200);
  const limit = opts.limit ?? Infinity;
  const done: RotateProgress = { credentials: 0, dataKeys: 0 };
  const total = () => done.credentials + done.dataKeys;
  const notOnActive = or(isNull(credentials.keyId), ne(credentials.keyId, active));

  let lastId = 0;
  for (;;) {
    if (total() >= limit) return { ...done, total: total(), complete: false };
    const batch = await db
      .select({ id: credentials.id })
      .from(credentials)
      .where(and(gt(credentials.id, lastId), isNotNull(credentials.wrappedKey), notOnActive))
      .orderBy(asc(credentials.id))
      .limit(batchSize);
    if (batch.length === 0) break;
    for (const { id } of batch) {
      if (total() >= limit) return { ...done, total: total(), complete: false };
      lastId = id;
      const changed = await engine.write(async (tx) => {
          // Read again inside the write lock: the server may have changed or deleted the row since.
          const row = first(await tx
            .select({ wrappedKey: credentials.wrappedKey, keyId: credentials.keyId, kind: workspaces.kind, wsId: workspaces.id, ownerUserId: workspaces.ownerUserId })
            .from(credentials)
            .innerJoin(workspaces, eq(workspaces.id, credentials.workspaceId))
            .where(eq(credentials.id, id)));
          if (!row || !row.wrappedKey || row.keyId === active) return false;
          const binding = credentialBinding(id, { kind: row.kind, id: row.wsId, ownerUserId: row.ownerUserId });
          const wrappedKey = rewrap(ring, row.wrappedKey, binding, `credential row ${id}`);
          await tx.update(credentials).set({ wrappedKey, keyId: active }).where(eq(credentials.id, id));
          return true;
        });
      if (changed) {
        done.credentials++;
        onProgress?.({ ...done });
      }
    }
  }

  for (const { id, purpose } of await db.select({ id: dataKeys.id, purpose: dataKeys.purpose }).from(dataKeys).where(ne(dataKeys.keyId, active)).orderBy(asc(dataKeys.id))) {
    if (total() >= limit) return { ...done, total: total(), complete: false };
    const binding = DATA_KEY_BINDINGS[purpose];
    if (!binding) throw new Error(`data key "${purpose}" has no known binding; this version of Latchkey cannot rewrap it`);
    const changed = await engine.write(async (tx) => {
        const row = first(await tx.select().from(dataKeys).where(eq(dataKeys.id, id)));
        if (!row || row.keyId === active) return false;
        const wrappedKey = rewrap(ring, row.wrappedKey, binding, `${purpose} data key`);
        await tx.update(dataKeys).set({ wrappedKey, keyId: active }).where(eq(dataKeys.id, id));
        return true;
      });
    if (changed) {
      done.dataKeys++;
      onProgress?.({ ...done });
    }
  }
  // OAuth apps' client secrets (src/connect) are counted with the instance data keys.
  for (const { id } of await db.select({ id: oauthApps.id }).from(oauthApps).where(ne(oauthApps.keyId, active)).orderBy(asc(oauthApps.id))) {
    if (total() >= limit) return { ...done, total: total(), complete: false };
    const changed = await engine.write(async (tx) => {
        const row = first(await tx.select().from(oauthApps).where(eq(oauthApps.id, id)));
        if (!row || row.keyId === active) return false;
        await tx.update(oauthApps).set({ wrappedKey: rewrap(ring, row.wrappedKey, oauthAppBinding(id), `OAuth app ${row.name}`), keyId: active }).where(eq(oauthApps.id, id));
        return true;
      });
    if (changed) {
      done.dataKeys++;
      onProgress?.({ ...done });
    }
  }
  return { ...done, total: total(), complete: true };
}

function rewrap(ring: KeyRing, wrapped: Buffer, binding: Binding, what: string): Buffer {
  try {
    return rewrapDataKey(ring, wrapped, binding);
  } catch (err) {
    throw new Error(`cannot rewrap the ${what}: ${(err as Error).message}`, { cause: err });
  }
}

/** Returns the ids of ring keys other than the active one that wrapped data still uses, with counts. */
export async function olderKeysInUse(engine: Engine, ring: KeyRing): Promise<Map<string, number>> {
  const inUse = new Map<string, number>();
  for (const [id, n] of await keyUsage(engine)) if (id !== ring.active.id) inUse.set(id, n);
  return inUse;
}

/**
 * Writes a consistent copy of the open database to `file` with SQLite's online backup (readers and
 * writers elsewhere, such as the running server, are not blocked) and returns its absolute path.
 * Never overwrites: it refuses an existing `file`, copies into `file.partial` (mode 0600), checks
 * the copy, and only then links it into place, so `file` is either absent or complete.
 */
export async function backupDatabase(engine: Engine, file: string): Promise<string> {
  if (!engine.sqlite) throw new Error('backup copies the SQLite database; with PostgreSQL use pg_dump');
  const target = path.resolve(file);
  const partial = `${target}.partial`;
  if (fs.existsSync(target)) throw new Error(`${target} already exists; choose a new file name`);
  try {
    fs.closeSync(fs.openSync(partial, 'wx', 0o600));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new Error(`${partial} already exists: another backup is running, or one was interrupted (then delete it)`);
    if (code === 'ENOENT') throw new Error(`directory ${path.dirname(target)} does not exist`);
    throw new Error(`cannot write ${partial}: ${code ?? (err as Error).message}`, { cause: err });
  }
  let published = false;
  try {
    await engine.sqlite.backup(partial);
    checkCopy(partial);
    fsyncFile(partial);
    publish(partial, target);
    published = true;
    fsyncDir(path.dirname(target));
    return target;
  } finally {
    // After publishing this drops the second name only; before, it removes the unfinished copy.
    fs.rmSync(partial, { force: true });
    if (!published) fs.rmSync(`${partial}-journal`, { force: true });
  }
}

/**
 * Checks the copy and makes it a single self-contained file: the copy inherits WAL mode, which would
 * make even a read-only open create -wal and -shm files next to it. Restoring it as latchkey.db
 * turns WAL back on at start (src/store/db.ts).
 */
function checkCopy(file: string): void {
  const copy = new Database(file);
  try {
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`the copy failed quick_check: ${String(check)}`);
  } finally {
    copy.close();
  }
}

/** Gives `partial` the name `target` without ever replacing an existing file. */
function publish(partial: string, target: string): void {
  try {
    fs.linkSync(partial, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new Error(`${target} already exists; choose a new file name`);
    // Filesystems without hard links: rename (atomic, but not race-free against another writer).
    if (!(code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') || fs.existsSync(target)) throw err;
    fs.renameSync(partial, target);
  }
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

