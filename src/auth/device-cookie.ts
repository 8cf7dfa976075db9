// Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser that
// once signed in as a person carries a signed cookie naming that person. Sign-in attempts with it
// are limited per cookie, not per account, so failures sent from anywhere else cannot lock the
// owner out, while guesses from untrusted clients stay throttled per account and per address.
//
// Cookie value: base64url(username) "." nonce "." HMAC-SHA256(key, "device:v1|" username "|" nonce),
// all base64url. Nothing secret is in it: the nonce only names the cookie for its own counter, and
// the MAC key is derived from the master key ring (the active key signs; any key of the ring
// verifies, so a `keys rotate` does not untrust every browser at once).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyRing } from '../crypto/keyring';

const MAX_AGE_S = 180 * 24 * 60 * 60;

export type DeviceCookies = {
  name: string;
  /** Returns the Set-Cookie value of a new device cookie for this (normalized) username. */
  issue(username: string): string;
  /** Returns the cookie's nonce when it is genuine and names this username, else null. */
  verify(value: string | undefined, username: string): string | null;
};

function macKey(masterKey: Buffer): Buffer {
  return createHmac('sha256', masterKey).update('latchkey device cookie key v1').digest();
}

/** Returns the device cookie signer for the ring; the cookie gets Secure and __Host- over https. */
export function createDeviceCookies(ring: KeyRing, opts: { secure: boolean }): DeviceCookies {
  const active = macKey(ring.active.key);
  const all = ring.keys.map((k) => macKey(k.key));
  const mac = (key: Buffer, username: string, nonce: string) => createHmac('sha256', key).update(`device:v1|${username}|${nonce}`).digest();
  const name = opts.secure ? '__Host-latchkey_device' : 'latchkey_device';
  return {
    name,
    issue(username) {
      const nonce = randomBytes(16).toString('base64url');
      const value = `${Buffer.from(username).toString('base64url')}.${nonce}.${mac(active, username, nonce).toString('base64url')}`;
      return `${name}=${value}; Max-Age=${MAX_AGE_S}; Path=/; HttpOnly; SameSite=Strict${opts.secure ? '; Secure' : ''}`;
    },
    verify(value, username) {
      const parts = (value ?? '').split('.');
      if (parts.length !== 3 || !username) return null;
      const [user, nonce, sig] = parts;
      if (Buffer.from(user, 'base64url').toString('utf8') !== username || !/^[\w-]{22}$/.test(nonce)) return null;
      const given = Buffer.from(sig, 'base64url');
      return all.some((key) => {
        const expected = mac(key, username, nonce);
        return given.length === expected.length && timingSafeEqual(given, expected);
      })
        ? nonce
        : null;
    },
  };
}
