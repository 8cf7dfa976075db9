import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  formatKeyRing,
  generateKey,
  getKey,
  keyCheck,
  keyId,
  loadKeyRing,
  parseKeyRing,
  writeKeyFile,
  type KeyRing,
} from '../../src/crypto/keyring';
import {
  createDataKey,
  DecryptError,
  openSecrets,
  rewrapDataKey,
  sealSecrets,
  unwrapDataKey,
  wrapDataKey,
  wrappedKeyId,
  type Binding,
} from '../../src/crypto/envelope';
import { canonicalJson, chainHash, GENESIS_HASH } from '../../src/crypto/audit-hash';

const binding: Binding = { purpose: 'credential', rowId: 7, scope: 'project', ownerId: 3 };
const secrets = { token: 'ghp_example', 'x-api-key': 'é ünïcode ✓' };

// Layout offsets: version(1) ‖ key id(8) ‖ iv(12) ‖ tag(16) ‖ ciphertext
const FIELDS = { iv: 9, tag: 21, ciphertext: 37 } as const;

function flipBit(buf: Buffer, offset: number): Buffer {
  const copy = Buffer.from(buf);
  copy[offset] ^= 0x01;
  return copy;
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(os.tmpdir() + '/lk-');
  tempDirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('keyring', () => {
  it('parses keys newest first with order-independent ids', () => {
    const [a, b] = [generateKey(), generateKey()];
    const ring = parseKeyRing(` ${a} , ${b},\n`);
    expect(ring.keys.map((k) => k.key.toString('base64'))).toEqual([a, b]);
    expect(ring.active).toBe(ring.keys[0]);
    expect(ring.active.id).toMatch(/^[0-9a-f]{16}$/);

    const swapped = parseKeyRing(`${b},${a}`);
    expect(swapped.active.id).toBe(ring.keys[1].id);
    expect(getKey(swapped, ring.active.id)?.key.equals(ring.active.key)).toBe(true);
    expect(getKey(ring, '0000000000000000')).toBeUndefined();
    expect(keyId(Buffer.from(a, 'base64'))).toBe(ring.active.id);
  });

  it('generateKey returns base64 of 32 random bytes', () => {
    const k = generateKey();
    expect(Buffer.from(k, 'base64')).toHaveLength(32);
    expect(generateKey()).not.toBe(k);
  });

  it.each([
    ['bad base64', `${generateKey()},not*base64!!`, /entry #2 of 2 is not base64 of exactly 32 bytes/],
    ['16 bytes', Buffer.alloc(16, 0xab).toString('base64'), /entry #1 of 1 is not base64 of exactly 32 bytes/],
    ['33 bytes', Buffer.alloc(33, 0xab).toString('base64'), /not base64 of exactly 32 bytes/],
    ['unpadded', Buffer.alloc(32, 0xcd).toString('base64').replace(/=+$/, ''), /not base64 of exactly 32 bytes/],
    ['base64url', Buffer.alloc(32, 0xff).toString('base64url') + '=', /not base64 of exactly 32 bytes/],
    ['empty', '', /key ring is empty/],
    ['only commas', ' , ,, ', /key ring is empty/],
  ])('rejects %s without echoing the input', (_name, input, message) => {
    expect(() => parseKeyRing(input)).toThrow(message);
    const err = catchError(() => parseKeyRing(input));
    expect(err.message).not.toContain('\n');
    for (const entry of input.split(',').map((e) => e.trim()).filter(Boolean)) {
      expect(err.message).not.toContain(entry);
    }
  });

  it('rejects duplicates without echoing the input', () => {
    const [a, b] = [generateKey(), generateKey()];
    const err = catchError(() => parseKeyRing(`${a},${b},${a}`));
    expect(err.message).toBe('key ring entry #3 duplicates entry #1');
    expect(err.message).not.toContain(a);
  });

  it('keyCheck is a stable per-key HMAC', () => {
    const ring = parseKeyRing(`${generateKey()},${generateKey()}`);
    expect(keyCheck(ring.keys[0])).toMatch(/^[0-9a-f]{64}$/);
    expect(keyCheck(ring.keys[0])).toBe(keyCheck({ ...ring.keys[0] }));
    expect(keyCheck(ring.keys[0])).not.toBe(keyCheck(ring.keys[1]));
  });
});

describe('loadKeyRing / writeKeyFile', () => {
  it('creates secret.key once with mode 0600 and reuses it', () => {
    const dataDir = path.join(tempDir(), 'data'); // does not exist yet
    const first = loadKeyRing({ dataDir });
    expect(first).toMatchObject({ source: 'file', created: true, keyFile: path.join(dataDir, 'secret.key') });
    expect(fs.statSync(first.keyFile).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dataDir)).toEqual(['secret.key']); // no temp file left behind

    const second = loadKeyRing({ dataDir, secretKeyEnv: '' });
    expect(second.created).toBe(false);
    expect(second.source).toBe('file');
    expect(second.ring.active.id).toBe(first.ring.active.id);
  });

  it('prefers SECRET_KEY and does not touch the data dir', () => {
    const dataDir = tempDir();
    const env = `${generateKey()},${generateKey()}`;
    const { ring, source, created } = loadKeyRing({ dataDir, secretKeyEnv: env });
    expect({ source, created }).toEqual({ source: 'env', created: false });
    expect(formatKeyRing(ring)).toBe(env);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it('throws on a malformed SECRET_KEY or key file without echoing it', () => {
    const dataDir = tempDir();
    const bad = Buffer.alloc(16, 1).toString('base64');
    expect(() => loadKeyRing({ dataDir, secretKeyEnv: bad })).toThrow(/^SECRET_KEY: key ring entry #1/);

    fs.writeFileSync(path.join(dataDir, 'secret.key'), bad, { mode: 0o600 });
    const err = catchError(() => loadKeyRing({ dataDir }));
    expect(err.message).toContain('secret.key: key ring entry #1 of 1 is not base64');
    expect(err.message).not.toContain(bad);
  });

  it('throws if the key file is unreadable', () => {
    const dataDir = tempDir();
    fs.mkdirSync(path.join(dataDir, 'secret.key')); // a directory cannot be read as a file (even by root)
    expect(() => loadKeyRing({ dataDir })).toThrow(/cannot read key file .*secret\.key: EISDIR/);
  });

  it('writeKeyFile atomically rewrites the ring newest first with mode 0600', () => {
    const dataDir = tempDir();
    const { ring: old } = loadKeyRing({ dataDir });
    const fresh = parseKeyRing(generateKey()).active;
    const rotated: KeyRing = { active: fresh, keys: [fresh, ...old.keys] };
    const keyFile = writeKeyFile(dataDir, rotated);

    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dataDir)).toEqual(['secret.key']);
    const reloaded = loadKeyRing({ dataDir });
    expect(reloaded.created).toBe(false);
    expect(reloaded.ring.keys.map((k) => k.id)).toEqual([fresh.id, old.active.id]);
  });
});

describe('envelope', () => {
  const ring = parseKeyRing(generateKey());

  it('round-trips a data key and secrets', () => {
    const dataKey = createDataKey();
    expect(dataKey).toHaveLength(32);
    const wrapped = wrapDataKey(ring, dataKey, binding);
    expect(wrapped[0]).toBe(1);
    expect(wrappedKeyId(wrapped)).toBe(ring.active.id);
    expect(wrapped).toHaveLength(1 + 8 + 12 + 16 + 32);
    expect(unwrapDataKey(ring, wrapped, binding).equals(dataKey)).toBe(true);

    const blob = sealSecrets(dataKey, secrets, binding);
    expect(blob[0]).toBe(1);
    expect(blob.subarray(1, 9).equals(Buffer.alloc(8))).toBe(true);
    expect(blob.toString('latin1')).not.toContain('ghp_example');
    expect(openSecrets(dataKey, blob, binding)).toEqual(secrets);
    expect(openSecrets(dataKey, sealSecrets(dataKey, {}, binding), binding)).toEqual({});
  });

  it('uses a fresh IV for every encryption', () => {
    const dataKey = createDataKey();
    const a = sealSecrets(dataKey, secrets, binding);
    const b = sealSecrets(dataKey, secrets, binding);
    expect(a.subarray(FIELDS.iv, FIELDS.tag).equals(b.subarray(FIELDS.iv, FIELDS.tag))).toBe(false);
    expect(a.equals(b)).toBe(false);
  });

  describe('tampering fails with DecryptError', () => {
    const dataKey = createDataKey();
    const wrapped = wrapDataKey(ring, dataKey, binding);
    const blob = sealSecrets(dataKey, secrets, binding);

    it.each(Object.entries(FIELDS))('one bit flipped in the %s', (_field, offset) => {
      expectDecryptError(() => unwrapDataKey(ring, flipBit(wrapped, offset), binding));
      expectDecryptError(() => openSecrets(dataKey, flipBit(blob, offset), binding));
      // last byte too, for good measure
      expectDecryptError(() => unwrapDataKey(ring, flipBit(wrapped, wrapped.length - 1), binding));
      expectDecryptError(() => openSecrets(dataKey, flipBit(blob, blob.length - 1), binding));
    });

    it('version byte changed, key id slot changed, or blob truncated', () => {
      expectDecryptError(() => unwrapDataKey(ring, flipBit(wrapped, 0), binding));
      expectDecryptError(() => openSecrets(dataKey, flipBit(blob, 0), binding));
      expectDecryptError(() => openSecrets(dataKey, flipBit(blob, 3), binding));
      expectDecryptError(() => unwrapDataKey(ring, wrapped.subarray(0, wrapped.length - 1), binding));
      expectDecryptError(() => unwrapDataKey(ring, wrapped.subarray(0, 20), binding));
      expectDecryptError(() => openSecrets(dataKey, blob.subarray(0, 36), binding));
    });

    it.each<[string, Partial<Binding>]>([
      ['rowId', { rowId: 8 }],
      ['scope', { scope: 'private' }],
      ['ownerId', { ownerId: 4 }],
      ['purpose', { purpose: 'audit' }],
    ])('moved to another row (%s differs)', (_name, change) => {
      const other = { ...binding, ...change };
      expectDecryptError(() => unwrapDataKey(ring, wrapped, other));
      expectDecryptError(() => openSecrets(dataKey, blob, other));
    });

    it('treats ownerId 3 and "3" as the same owner', () => {
      expect(openSecrets(dataKey, blob, { ...binding, ownerId: '3' })).toEqual(secrets);
    });

    it('wrong data key', () => {
      expectDecryptError(() => openSecrets(createDataKey(), blob, binding));
    });

    it('wrong master key with the same id', () => {
      const impostor: KeyRing = { active: { id: ring.active.id, key: Buffer.alloc(32, 9) }, keys: [] };
      impostor.keys.push(impostor.active);
      expectDecryptError(() => unwrapDataKey(impostor, wrapped, binding));
    });
  });

  it('a ring without the wrapping key reports the missing key id', () => {
    const wrapped = wrapDataKey(ring, createDataKey(), binding);
    const other = parseKeyRing(generateKey());
    expect(() => unwrapDataKey(other, wrapped, binding)).toThrow(
      new Error(`master key ${ring.active.id} is not in the key ring`),
    );
  });

  it('rewraps under a new active key without touching the sealed blob', () => {
    const oldKey = formatKeyRing(ring);
    const dataKey = createDataKey();
    const wrapped = wrapDataKey(ring, dataKey, binding);
    const blob = sealSecrets(dataKey, secrets, binding);

    const newKey = generateKey();
    const both = parseKeyRing(`${newKey},${oldKey}`);
    const rewrapped = rewrapDataKey(both, wrapped, binding);
    expect(wrappedKeyId(rewrapped)).toBe(both.active.id);
    expect(wrappedKeyId(rewrapped)).not.toBe(ring.active.id);

    expect(openSecrets(unwrapDataKey(both, rewrapped, binding), blob, binding)).toEqual(secrets);
    const onlyNew = parseKeyRing(newKey);
    expect(openSecrets(unwrapDataKey(onlyNew, rewrapped, binding), blob, binding)).toEqual(secrets);
    // the old wrapped key still needs the old master key
    expect(() => unwrapDataKey(onlyNew, wrapped, binding)).toThrow(/is not in the key ring/);
    // a rewrapped key is still bound to its row
    expectDecryptError(() => unwrapDataKey(onlyNew, rewrapped, { ...binding, rowId: 99 }));
  });

  it('rejects invalid bindings and data keys up front', () => {
    const dataKey = createDataKey();
    expect(() => sealSecrets(dataKey, secrets, { ...binding, rowId: 1.5 })).toThrow(TypeError);
    expect(() => sealSecrets(dataKey, secrets, { ...binding, ownerId: undefined as never })).toThrow(TypeError);
    expect(() => sealSecrets(dataKey, secrets, { ...binding, scope: 'global' as never })).toThrow(TypeError);
    expect(() => sealSecrets(Buffer.alloc(16), secrets, binding)).toThrow(TypeError);
    expect(() => wrapDataKey(ring, Buffer.alloc(31), binding)).toThrow(TypeError);
    expect(() => sealSecrets(dataKey, { n: 1 } as never, binding)).toThrow(TypeError);
  });

  it('error messages never contain key material', () => {
    const dataKey = createDataKey();
    const blob = sealSecrets(dataKey, secrets, binding);
    const err = catchError(() => openSecrets(dataKey, flipBit(blob, FIELDS.tag), binding));
    for (const s of [dataKey.toString('hex'), dataKey.toString('base64'), ring.active.key.toString('base64')]) {
      expect(err.message).not.toContain(s);
    }
    expect(err.message).not.toContain('ghp_example');
  });
});

describe('audit chain hash', () => {
  const auditKey = Buffer.alloc(32, 5);
  const event = { action: 'credential.read', actor: { id: 1, role: 'admin' }, at: '2025-01-01T00:00:00Z', rowId: 7 };

  it('is a hex HMAC and GENESIS_HASH is 64 zeros', () => {
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    expect(chainHash(auditKey, GENESIS_HASH, event)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores key order, recursively', () => {
    const reordered = { rowId: 7, at: '2025-01-01T00:00:00Z', actor: { role: 'admin', id: 1 }, action: 'credential.read' };
    expect(chainHash(auditKey, GENESIS_HASH, reordered)).toBe(chainHash(auditKey, GENESIS_HASH, event));
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null, 10: 'x', 9: 'y' })).toBe(
      '{"10":"x","9":"y","a":null,"b":[{"c":2,"d":1}]}',
    );
  });

  it('hashes an event the same before and after a JSON round trip', () => {
    const withDate = { ...event, at: new Date('2025-01-01T00:00:00Z'), note: undefined };
    const stored = JSON.parse(JSON.stringify(withDate));
    expect(chainHash(auditKey, GENESIS_HASH, withDate)).toBe(chainHash(auditKey, GENESIS_HASH, stored));
  });

  it('changes when any field, nested field, array order, prevHash or key changes', () => {
    const base = chainHash(auditKey, GENESIS_HASH, event);
    const variants: Record<string, unknown>[] = [
      { ...event, action: 'credential.write' },
      { ...event, rowId: 8 },
      { ...event, rowId: '7' },
      { ...event, actor: { id: 2, role: 'admin' } },
      { ...event, extra: null },
      { ...event, list: [1, 2] },
    ];
    const hashes = new Set([base, ...variants.map((v) => chainHash(auditKey, GENESIS_HASH, v))]);
    expect(hashes.size).toBe(variants.length + 1);
    expect(chainHash(auditKey, GENESIS_HASH, { list: [1, 2] })).not.toBe(
      chainHash(auditKey, GENESIS_HASH, { list: [2, 1] }),
    );
    expect(chainHash(auditKey, base, event)).not.toBe(base);
    expect(chainHash(Buffer.alloc(32, 6), GENESIS_HASH, event)).not.toBe(base);
  });

  it('rejects a malformed prevHash', () => {
    expect(() => chainHash(auditKey, 'abc', event)).toThrow(TypeError);
    expect(() => chainHash(auditKey, GENESIS_HASH.toUpperCase().replace(/0/g, 'A'), event)).toThrow(TypeError);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the function to throw');
}

function expectDecryptError(fn: () => unknown): void {
  const err = catchError(fn);
  expect(err).toBeInstanceOf(DecryptError);
  expect(err.name).toBe('DecryptError');
}
