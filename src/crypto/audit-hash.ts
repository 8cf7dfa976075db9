// Tamper-evident audit chain.
//
//   hash_n = hex HMAC-SHA256(auditKey, "latchkey-audit-v1\n" ‖ hash_{n-1} ‖ "\n" ‖ canonicalJson(event_n))
//   hash_0 = GENESIS_HASH (64 zeros)
//
// prevHash is always 64 lowercase hex chars, so the concatenation is unambiguous.
// canonicalJson sorts object keys recursively (by UTF-16 code units) and keeps array order; it first
// normalizes the event exactly as JSON storage would (toJSON, dropped undefined), so an event hashes
// the same before it is stored and after it is read back.

import { createHmac } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Returns hex HMAC-SHA256(auditKey, prevHash + canonical JSON of event): the next link of the chain. */
export function chainHash(auditKey: Buffer, prevHash: string, event: Record<string, unknown>): string {
  if (!Buffer.isBuffer(auditKey) || auditKey.length === 0) throw new TypeError('audit key must be a non-empty Buffer');
  if (!HASH_PATTERN.test(prevHash)) throw new TypeError('prevHash must be 64 lowercase hex chars');
  return createHmac('sha256', auditKey)
    .update(`latchkey-audit-v1\n${prevHash}\n`)
    .update(canonicalJson(event), 'utf8')
    .digest('hex');
}

/** Returns JSON with object keys sorted recursively, so equal values always serialize identically. */
export function canonicalJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('value has no JSON representation');
  return serialize(JSON.parse(json));
}

function serialize(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(serialize).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${serialize(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
