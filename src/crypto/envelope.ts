// Envelope encryption with AES-256-GCM.
//
// Each row gets its own random 32-byte data key. The data key encrypts the row's secrets and is
// itself stored wrapped (encrypted) under the active master key. Rotating the master key only
// rewraps data keys; sealed blobs are never re-encrypted.
//
// Stored byte layout, shared by wrapped data keys and sealed blobs:
//
//   offset  size  field
//   0       1     format version (= 1)
//   1       8     key id: master key id (16 hex chars decoded) for a wrapped key;
//                 8 zero bytes for a sealed blob (the data key has no id)
//   9       12    IV, random per encryption
//   21      16    GCM tag
//   37      n     ciphertext (wrapped key: n = 32; sealed blob: UTF-8 JSON of the secrets)
//
// Additional authenticated data (never stored) binds each blob to its row, as JSON of a fixed-order array:
//
//   wrapped key: ["latchkey-envelope", 1, "data-key", purpose, rowId, scope, String(ownerId), masterKeyId]
//   sealed blob: ["latchkey-envelope", 1, "secrets",  purpose, rowId, scope, String(ownerId)]
//
// so a blob copied to another row (other rowId, scope or owner) or another purpose fails to decrypt.
// ownerId is stringified so 42 and "42" name the same owner.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { getKey, type KeyRing } from './keyring';

export type Binding = {
  purpose: 'credential' | 'audit' | 'oauth_app';
  rowId: number;
  scope: 'project' | 'private' | 'instance';
  ownerId: string | number;
};

/** Thrown when a blob fails authentication: tampered, truncated, wrong key, or bound to another row. */
export class DecryptError extends Error {
  override name = 'DecryptError';
}

const VERSION = 1;
const ALGORITHM = 'aes-256-gcm';
const DATA_KEY_BYTES = 32;
const KEY_ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES; // 37
const NO_KEY_ID = Buffer.alloc(KEY_ID_BYTES);

const PURPOSES: readonly string[] = ['credential', 'audit', 'oauth_app'];
const SCOPES: readonly string[] = ['project', 'private', 'instance'];

/** Returns a new random 32-byte data key. */
export function createDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES);
}

/** Encrypts a data key under ring.active, bound to `binding`. */
export function wrapDataKey(ring: KeyRing, dataKey: Buffer, binding: Binding): Buffer {
  checkDataKey(dataKey);
  const { id, key } = ring.active;
  return encrypt(key, Buffer.from(id, 'hex'), dataKey, aad('data-key', binding, id));
}

/** Returns the master key id (16 hex chars) a wrapped data key was made with. */
export function wrappedKeyId(wrapped: Buffer): string {
  if (wrapped.length < HEADER_BYTES) throw new DecryptError('wrapped data key is truncated');
  return wrapped.subarray(1, 1 + KEY_ID_BYTES).toString('hex');
}

/** Decrypts a wrapped data key with the master key that made it; throws DecryptError on any mismatch. */
export function unwrapDataKey(ring: KeyRing, wrapped: Buffer, binding: Binding): Buffer {
  const id = wrappedKeyId(wrapped);
  const master = getKey(ring, id);
  if (!master) throw new Error(`master key ${id} is not in the key ring`);
  const dataKey = decrypt(master.key, wrapped, aad('data-key', binding, id), 'wrapped data key');
  if (dataKey.length !== DATA_KEY_BYTES) throw new DecryptError('wrapped data key has the wrong length');
  return dataKey;
}

/** Unwraps with whichever ring key made `wrapped` and wraps again under ring.active. */
export function rewrapDataKey(ring: KeyRing, wrapped: Buffer, binding: Binding): Buffer {
  const dataKey = unwrapDataKey(ring, wrapped, binding);
  try {
    return wrapDataKey(ring, dataKey, binding);
  } finally {
    dataKey.fill(0);
  }
}

/** Encrypts a name → secret map under a data key, bound to `binding`. */
export function sealSecrets(dataKey: Buffer, secrets: Record<string, string>, binding: Binding): Buffer {
  checkDataKey(dataKey);
  if (!isStringRecord(secrets)) throw new TypeError('secrets must be an object whose values are all strings');
  return encrypt(dataKey, NO_KEY_ID, Buffer.from(JSON.stringify(secrets), 'utf8'), aad('secrets', binding));
}

/** Decrypts a blob made by sealSecrets; throws DecryptError on any mismatch. */
export function openSecrets(dataKey: Buffer, blob: Buffer, binding: Binding): Record<string, string> {
  checkDataKey(dataKey);
  if (blob.length >= HEADER_BYTES && !blob.subarray(1, 1 + KEY_ID_BYTES).equals(NO_KEY_ID)) {
    throw new DecryptError('sealed secrets failed authentication (key id slot is not empty)');
  }
  const plaintext = decrypt(dataKey, blob, aad('secrets', binding), 'sealed secrets');
  const secrets: unknown = JSON.parse(plaintext.toString('utf8'));
  if (!isStringRecord(secrets)) throw new DecryptError('sealed secrets do not hold a string map');
  return secrets;
}

function encrypt(key: Buffer, keyIdBytes: Buffer, plaintext: Buffer, additionalData: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(VERSION), keyIdBytes, iv, cipher.getAuthTag(), ciphertext]);
}

function decrypt(key: Buffer, blob: Buffer, additionalData: Buffer, what: string): Buffer {
  if (blob.length < HEADER_BYTES) throw new DecryptError(`${what} is truncated`);
  if (blob[0] !== VERSION) throw new DecryptError(`${what} has unsupported format version ${blob[0]}`);
  let off = 1 + KEY_ID_BYTES;
  const iv = blob.subarray(off, (off += IV_BYTES));
  const tag = blob.subarray(off, (off += TAG_BYTES));
  const ciphertext = blob.subarray(off);
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new DecryptError(`${what} failed authentication (wrong key, tampered data, or bound to another row)`);
  }
}

/** Unambiguous AAD: JSON of a fixed-order array of validated primitives. */
function aad(kind: 'data-key' | 'secrets', b: Binding, masterKeyId?: string): Buffer {
  if (!PURPOSES.includes(b.purpose)) throw new TypeError(`invalid binding purpose: ${String(b.purpose)}`);
  if (!SCOPES.includes(b.scope)) throw new TypeError(`invalid binding scope: ${String(b.scope)}`);
  if (!Number.isSafeInteger(b.rowId)) throw new TypeError(`invalid binding rowId: ${String(b.rowId)}`);
  if (typeof b.ownerId !== 'string' && !Number.isSafeInteger(b.ownerId)) {
    throw new TypeError(`invalid binding ownerId: ${String(b.ownerId)}`);
  }
  const fields: (string | number)[] = ['latchkey-envelope', VERSION, kind, b.purpose, b.rowId, b.scope, String(b.ownerId)];
  if (masterKeyId !== undefined) fields.push(masterKeyId);
  return Buffer.from(JSON.stringify(fields), 'utf8');
}

function checkDataKey(dataKey: Buffer): void {
  if (!Buffer.isBuffer(dataKey) || dataKey.length !== DATA_KEY_BYTES) {
    throw new TypeError(`data key must be a Buffer of ${DATA_KEY_BYTES} bytes`);
  }
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}
