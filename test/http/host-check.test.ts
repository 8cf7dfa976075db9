// Host header trust: without BASE_URL only loopback names and IP literals are served, so a
// DNS-rebinding page cannot drive the sign-up of a fresh instance; with BASE_URL only its host.
// /healthz answers any Host.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, type TestApp } from '../helpers/app';
import { isLocalHostname } from '../../src/http/host-check';

const users = async (t: TestApp) => (await t.sqlOne<{ n: number }>('SELECT count(*) AS n FROM users'))!.n;

describe('Host check without BASE_URL', () => {
  let t: TestApp;
  afterEach(() => t.close());

  it('refuses a rebound name with 421 before anything is written', async () => {
    t = await createTestApp();
    const rebound = 'http://attacker.example:3000';
    const res = await t.browser('POST', `${rebound}/signup`, { form: { username: 'mallory', password: PASSWORD }, headers: { Origin: rebound } });
    expect(res.status).toBe(421);
    expect(await res.text()).toContain('BASE_URL');
    expect(await users(t)).toBe(0);
    expect((await t.browser('GET', `${rebound}/login`)).status).toBe(421);
    expect((await t.app.request(`${rebound}/api/v1/me`)).status).toBe(421);
  });

  it('also checks a Host header that differs from the URL', async () => {
    t = await createTestApp();
    expect((await t.browser('GET', '/signup', { headers: { Host: 'attacker.example' } })).status).toBe(421);
  });

  it('serves localhost and IP literals', async () => {
    t = await createTestApp();
    for (const origin of ['http://localhost', 'http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000', 'http://192.168.1.20', 'http://app.localhost']) {
      expect((await t.browser('GET', `${origin}/signup`)).status, origin).toBe(200);
    }
    // The first sign-up through a loopback name works as before.
    expect((await t.browser('POST', 'http://127.0.0.1:3000/signup', { form: { username: 'alice', password: PASSWORD }, headers: { Origin: 'http://127.0.0.1:3000' } })).status).toBe(303);
  });

  it('keeps /healthz reachable under any name', async () => {
    t = await createTestApp();
    const res = await t.app.request('http://lb-probe.internal/healthz');
    expect(res.status).toBe(200);
  });
});

describe('Host check with BASE_URL', () => {
  let t: TestApp;
  afterEach(() => t.close());

  it('serves only BASE_URL\'s host (any port), and /healthz to anyone', async () => {
    t = await createTestApp({ env: { BASE_URL: 'https://latchkey.example.com' } });
    expect((await t.browser('GET', 'https://latchkey.example.com/signup')).status).toBe(200);
    expect((await t.browser('GET', 'http://latchkey.example.com:3000/signup')).status).toBe(200);
    const other = await t.browser('GET', 'http://localhost/signup');
    expect(other.status).toBe(421);
    expect(await other.text()).toContain('latchkey.example.com');
    expect((await t.browser('GET', 'https://evil.example/signup')).status).toBe(421);
    expect((await t.app.request('http://10.0.0.7/healthz')).status).toBe(200);
    // Scrapers too: /metrics (404 without METRICS_TOKEN) is judged by its token, not the Host.
    expect((await t.app.request('http://10.0.0.7/metrics')).status).toBe(404);
  });
});

describe('isLocalHostname', () => {
  it.each([
    ['localhost', true],
    ['app.localhost', true],
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['10.0.0.5', true],
    ['localhost.attacker.example', false],
    ['attacker.example', false],
    ['127.0.0.1.nip.io', false],
  ])('%s → %s', (host, expected) => {
    expect(isLocalHostname(host)).toBe(expected);
  });
});
