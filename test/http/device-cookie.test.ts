// Sign-in lockout cannot be used against the owner (OWASP device cookies): a browser that signed
// in as a person before carries a signed device cookie and is limited per that cookie only, so
// failures sent from elsewhere do not lock it out; everyone else is throttled as before.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeviceCookies } from '../../src/auth/device-cookie';
import { generateKey, parseKeyRing } from '../../src/crypto/keyring';
import { createTestApp, PASSWORD, type TestApp } from '../helpers/app';

const OWNER = '198.51.100.7';
const ATTACKER = '203.0.113.66';

/** Returns "name=value" of the device cookie a response sets, or ''. */
function deviceCookieFrom(res: Response): string {
  const line = res.headers.getSetCookie().find((l) => /^(__Host-)?latchkey_device=/.test(l));
  return line ? line.split(';')[0] : '';
}

describe('device cookies', () => {
  let t: TestApp;
  let device: string;
  const signIn = (from: string, password: string, cookie?: string, username = 'alice') =>
    t.browser('POST', '/login', { cookie, form: { username, password }, headers: { 'X-Forwarded-For': from } });

  beforeEach(async () => {
    t = await createTestApp({ env: { TRUST_PROXY: '1' } });
    await t.user('alice');
    await t.user('bob');
    const res = await signIn(OWNER, PASSWORD);
    expect(res.status).toBe(303);
    device = deviceCookieFrom(res);
    expect(device).toMatch(/^latchkey_device=/);
  });
  afterEach(() => t.close());

  it('is HttpOnly, holds no secret and names the person', async () => {
    const res = await signIn(OWNER, PASSWORD, device);
    const line = res.headers.getSetCookie().find((l) => l.startsWith('latchkey_device='))!;
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/SameSite=Strict/i);
    const value = device.split('=')[1];
    expect(value).not.toContain(PASSWORD);
    expect(Buffer.from(value.split('.')[0], 'base64url').toString()).toBe('alice');
    expect(value).not.toContain(t.ring.active.key.toString('base64'));
  });

  it('a lockout from a foreign address does not block the browser with the device cookie', async () => {
    for (let i = 0; i < 5; i++) expect((await signIn(ATTACKER, 'wrong password guess')).status).toBe(401);
    // The account is locked for untrusted clients: the attacker, and a fresh browser anywhere.
    expect((await signIn(ATTACKER, PASSWORD)).status).toBe(429);
    expect((await signIn(OWNER, PASSWORD)).status).toBe(429);
    // The owner's browser still signs in, and gets a fresh device cookie.
    const res = await signIn(OWNER, PASSWORD, device);
    expect(res.status).toBe(303);
    expect(deviceCookieFrom(res)).toMatch(/^latchkey_device=/);
    // Its success does not reset the attacker's count.
    expect((await signIn(ATTACKER, PASSWORD)).status).toBe(429);
  });

  it('still limits the device cookie\'s own failures', async () => {
    for (let i = 0; i < 5; i++) expect((await signIn(OWNER, 'wrong password guess', device)).status).toBe(401);
    const blocked = await signIn(OWNER, PASSWORD, device);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('does not trust a cookie for another person, or a tampered one', async () => {
    const bobRes = await signIn(OWNER, PASSWORD, undefined, 'bob');
    const bobDevice = deviceCookieFrom(bobRes);
    for (let i = 0; i < 5; i++) await signIn(ATTACKER, 'wrong password guess');
    expect((await signIn(OWNER, PASSWORD, bobDevice)).status).toBe(429);
    const [name, value] = device.split('=');
    const [, nonce, mac] = value.split('.');
    const forged = `${name}=${Buffer.from('alice').toString('base64url')}.${nonce.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A'))}.${mac}`;
    expect((await signIn(OWNER, PASSWORD, forged)).status).toBe(429);
    const bobForAlice = `${name}=${Buffer.from('alice').toString('base64url')}.${bobDevice.split('.').slice(1).join('.')}`;
    expect((await signIn(OWNER, PASSWORD, bobForAlice)).status).toBe(429);
  });

  it('is also issued at sign-up', async () => {
    const res = await t.browser('POST', '/signup', { form: { username: 'carol', password: PASSWORD } });
    expect(res.status).toBe(303);
    expect(deviceCookieFrom(res)).toMatch(/^latchkey_device=/);
  });
});

describe('device cookie keys', () => {
  it('verify with any key of the ring, so a rotation keeps browsers trusted', () => {
    const oldKey = generateKey();
    const before = createDeviceCookies(parseKeyRing(oldKey), { secure: false });
    const value = before.issue('alice').split(';')[0].split('=')[1];
    expect(createDeviceCookies(parseKeyRing(`${generateKey()},${oldKey}`), { secure: false }).verify(value, 'alice')).toMatch(/^[\w-]{22}$/);
    expect(createDeviceCookies(parseKeyRing(generateKey()), { secure: false }).verify(value, 'alice')).toBeNull();
    expect(before.verify(value, 'bob')).toBeNull();
  });

  it('is __Host- prefixed and Secure over https', () => {
    const line = createDeviceCookies(parseKeyRing(generateKey()), { secure: true }).issue('alice');
    expect(line).toMatch(/^__Host-latchkey_device=/);
    expect(line).toMatch(/; Secure/);
    expect(line).not.toMatch(/Domain=/i);
  });
});
