// An upstream that echoes the http_basic Authorization header in encoded forms (the way a
// misbehaving API puts it in an error URL or a debug field) gets every form redacted before the
// answer reaches the caller, the audit trail or the logs.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';

const PASSWORD_CANARY = 'canary-basic pw/+=?é';

let upstream: http.Server;
let base: string;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const pair = auth.replace(/^Basic /, '');
    const unpadded = pair.replace(/=+$/, '');
    const body = {
      uri: encodeURIComponent(auth),
      lower: encodeURIComponent(auth).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
      form: new URLSearchParams({ a: auth }).toString(),
      unpadded,
      base64url: unpadded.replace(/\+/g, '-').replace(/\//g, '_'),
      decoded: Buffer.from(pair, 'base64').toString('utf8'),
      next: `https://api.example/retry?auth=${encodeURIComponent(auth)}`,
    };
    res.writeHead(400, { 'content-type': 'application/json', 'x-debug-auth': encodeURIComponent(auth) });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

describe('redaction of an echoing upstream', () => {
  let t: TestApp;
  afterAll(() => t.close());

  it('redacts every encoded form of the Basic credential in the run result, audit and logs', async () => {
    t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
    const alice = await t.user('alice');
    const created = await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'Echo', type: 'http_basic', fields: { base_url: base, username: 'alice' }, secrets: { password: PASSWORD_CANARY } });
    expect(created.status).toBe(201);
    const tk = await t.api('POST', '/workspaces/private/toolkits', alice.token, { name: 'Echo', type: 'http', settings: {}, credential: { scope: 'private', credential_id: 'echo' } });
    const run = await t.api('POST', `/workspaces/private/toolkits/${tk.json.id}/execute`, alice.token, { tool: 'request', input: { method: 'GET', path: '/anything' } });
    expect(run.status).toBe(200);
    const body = run.json.result.body;
    for (const key of ['uri', 'lower', 'form', 'unpadded', 'base64url', 'decoded']) expect(body[key], key).toContain('[REDACTED]');
    expect(body.next).toBe('https://api.example/retry?auth=[REDACTED]');

    const pair = Buffer.from(`alice:${PASSWORD_CANARY}`).toString('base64');
    const leaks = [PASSWORD_CANARY, pair.replace(/=+$/, ''), encodeURIComponent(PASSWORD_CANARY), 'canary-basic'];
    const audit = JSON.stringify(await t.sql('SELECT * FROM audit_events'));
    for (const leak of leaks) {
      expect(run.text).not.toContain(leak);
      expect(audit).not.toContain(leak);
      expect(t.logs.join('\n')).not.toContain(leak);
    }
  });
});
