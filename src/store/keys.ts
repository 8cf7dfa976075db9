// Master key checks and instance data keys (the audit key), kept in the database.
import { eq, isNotNull, sql } from 'drizzle-orm';
import { createDataKey, unwrapDataKey, wrapDataKey, type Binding } from '../crypto/envelope';
import { keyCheck, type KeyRing } from '../crypto/keyring';
import { first, type Engine } from './engine';

/** Thrown when the configured key ring cannot serve this database; start must stop. */
export class KeyMismatchError extends Error {
  override name = 'KeyMismatchError';
}

export const AUDIT_KEY_BINDING: Binding = { purpose: 'audit', rowId: 0, scope: 'instance', ownerId: 'instance' };

/** Returns the ids of master keys that wrapped data in this database still uses, with counts. */
export async function keyUsage(engine: Engine): Promise<Map<string, number>> {
  const { db, t } = engine;
  const { credentials, dataKeys, oauthApps } = t;
  const usage = new Map<string, number>();
  const rows = [
    ...await db.select({ keyId: credentials.keyId, n: sql<number>`count(*)` }).from(credentials).where(isNotNull(credentials.keyId)).groupBy(credentials.keyId),
    ...await db.select({ keyId: dataKeys.keyId, n: sql<number>`count(*)` }).from(dataKeys).groupBy(dataKeys.keyId),
    ...await db.select({ keyId: oauthApps.keyId, n: sql<number>`count(*)` }).from(oauthApps).groupBy(oauthApps.keyId),
  ];
  for (const r of rows) if (r.keyId) usage.set(r.keyId, (usage.get(r.keyId) ?? 0) + r.n);
  return usage;
}

/**
 * Checks the key ring against the check values stored in the database and records new keys.
 * Throws KeyMismatchError (touching nothing) when the ring holds no key this database knows, or
 * lacks a key that wrapped data still needs. Never silently starts over with a new key.
 */
export async function checkKeyRing(engine: Engine, ring: KeyRing): Promise<void> {
  const { masterKeys } = engine.t;
  const known = new Map((await engine.db.select().from(masterKeys)).map((r) => [r.keyId, r.check]));
  for (const k of ring.keys) {
    const stored = known.get(k.id);
    if (stored !== undefined && stored !== keyCheck(k)) throw new KeyMismatchError(`master key ${k.id} does not match the check value stored in the database`);
  }
  if (known.size > 0 && !ring.keys.some((k) => known.has(k.id))) {
    throw new KeyMismatchError('the master key does not match this database (check SECRET_KEY or DATA_DIR/secret.key); refusing to start');
  }
  for (const [id, n] of await keyUsage(engine)) {
    if (!ring.keys.some((k) => k.id === id)) throw new KeyMismatchError(`master key ${id} is still needed for ${n} wrapped data key(s) but is not in the key ring`);
  }
  const fresh = ring.keys.filter((k) => !known.has(k.id));
  if (fresh.length === 0) return;
  await engine.write(async (tx) => {
    // Another instance may have recorded the same key meanwhile: the same check value, so keep theirs.
    for (const k of fresh) await tx.insert(masterKeys).values({ keyId: k.id, check: keyCheck(k) }).onConflictDoNothing();
  });
}

/** Returns the audit HMAC key, creating and storing it (wrapped) the first time. */
export async function loadAuditKey(engine: Engine, ring: KeyRing): Promise<Buffer> {
  const { dataKeys } = engine.t;
  return engine.write(async (tx) => {
    // Inside the write lock: instances starting together on a new database make one audit key.
    const row = first(await tx.select().from(dataKeys).where(eq(dataKeys.purpose, 'audit')));
    if (row) return unwrapDataKey(ring, row.wrappedKey, AUDIT_KEY_BINDING);
    const key = createDataKey();
    await tx.insert(dataKeys).values({ purpose: 'audit', wrappedKey: wrapDataKey(ring, key, AUDIT_KEY_BINDING), keyId: ring.active.id });
    return key;
  });
}

/**
 * Returns the binding of a credential's wrapped key and sealed secrets: its row, its scope, and
 * its owner (the user for a private credential, the project for a project credential).
 */
export function credentialBinding(rowId: number, ws: { kind: 'private' | 'project'; id: number; ownerUserId: string | null }): Binding {
  return ws.kind === 'private'
    ? { purpose: 'credential', rowId, scope: 'private', ownerId: ws.ownerUserId! }
    : { purpose: 'credential', rowId, scope: 'project', ownerId: ws.id };
}
