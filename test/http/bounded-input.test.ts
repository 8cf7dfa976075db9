// Request bodies are capped before CSRF, session or parsing work: 64 KiB for sign-in and sign-up,
// 1 MiB elsewhere, 413 with a clear message; a streamed body is read no further than the cap.
import type http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, ORIGIN, PASSWORD, type TestApp } from '../helpers/app';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A body of `total` bytes of 'x' that counts how much of it was read. */
function countingStream(total: number, chunk = 16 * KiB) {
  const seen = { bytes: 0 };
  const piece = new TextEncoder().encode('x'.repeat(chunk));
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (seen.bytes >= total) return controller.close();
        seen.bytes += piece.length;
        controller.enqueue(piece);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

const count = async (t: TestApp, table: string) => (await t.sqlOne<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n;

describe('request body limits', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  it('refuses a 2 MiB API body with 413 payload_too_large and writes nothing', async () => {
    const alice = await t.user('alice');
    const before = { workspaces: await count(t, 'workspaces'), audit: await count(t, 'audit_events') };
    const res = await t.api('POST', '/projects', alice.token, { name: 'x'.repeat(2 * MiB) });
    expect(res.status).toBe(413);
    expect(res.json).toEqual({ error: 'payload_too_large', message: expect.stringContaining('1 MiB') });
    expect({ workspaces: await count(t, 'workspaces'), audit: await count(t, 'audit_events') }).toEqual(before);
    // Just under the cap is parsed as usual.
    expect((await t.api('POST', '/projects', alice.token, { name: 'Apollo' })).status).toBe(201);
  });

  it('never echoes a huge project name back', async () => {
    const alice = await t.user('alice');
    const huge = 'N'.repeat(10 * 1000 * 1000);
    const refused = await t.api('POST', '/projects', alice.token, { name: huge });
    expect(refused.status).toBe(413);
    expect(refused.text).not.toContain('NNNNNNNNNN');
    // Under the body cap but over the field's cap: refused by validation, still not echoed.
    const long = await t.api('POST', '/projects', alice.token, { name: 'N'.repeat(500 * KiB) });
    expect(long.status).toBe(400);
    expect(long.text).not.toContain('NNNNNNNNNN');
    expect(long.text.length).toBeLessThan(2000);
  });

  it('refuses a 100 KiB sign-in with a 413 page, before the password is checked', async () => {
    await t.user('alice');
    const audit = await count(t, 'audit_events');
    const res = await t.browser('POST', '/login', { form: { username: 'alice', password: 'p'.repeat(100 * KiB) } });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('larger than 64 KiB');
    expect(await count(t, 'audit_events')).toBe(audit); // no user.login_failed: the handler never ran
    // And it counted as no failure: the right password still works at once.
    expect((await t.browser('POST', '/login', { form: { username: 'alice', password: PASSWORD } })).status).toBe(303);
  });

  it('refuses a 100 KiB page form elsewhere only above 1 MiB', async () => {
    const alice = await t.user('alice');
    const ok = await t.browser('POST', '/projects', { cookie: alice.cookie, form: { name: 'Apollo', filler: 'f'.repeat(100 * KiB) } });
    expect(ok.status).not.toBe(413);
    const big = await t.browser('POST', '/projects', { cookie: alice.cookie, form: { name: 'Apollo', filler: 'f'.repeat(MiB + 1) } });
    expect(big.status).toBe(413);
    expect(await big.text()).toContain('larger than 1 MiB');
  });

  it('reads a chunked anonymous 8 MiB sign-in no further than the cap', async () => {
    const audit = await count(t, 'audit_events');
    const { stream, seen } = countingStream(8 * MiB);
    const res = await t.app.request(`${ORIGIN}/login`, {
      method: 'POST',
      headers: { Origin: ORIGIN, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(seen.bytes).toBeLessThanOrEqual(64 * KiB + 16 * KiB);
    expect(await count(t, 'audit_events')).toBe(audit);
  });

  it('refuses an 8 MiB Content-Length without reading the body at all', async () => {
    const { stream, seen } = countingStream(8 * MiB);
    const res = await t.app.request(`${ORIGIN}/api/v1/projects`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(8 * MiB) },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).error).toBe('payload_too_large');
    expect(seen.bytes).toBe(0);
  });

  it('over a real socket, stops reading an anonymous chunked 8 MiB sign-in and closes the connection', async () => {
    const server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }) as http.Server;
    const accepted: net.Socket[] = [];
    server.on('connection', (s) => accepted.push(s));
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const answer = await new Promise<string>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        let received = '';
        let sent = 0;
        let stopped = false;
        socket.on('data', (d) => (received += d.toString('latin1')));
        socket.on('error', () => (stopped = true)); // EPIPE/ECONNRESET once the server hangs up
        socket.on('close', () => resolve(received));
        const chunk = `${(16 * KiB).toString(16)}\r\n${'x'.repeat(16 * KiB)}\r\n`;
        const pump = () => {
          while (!stopped && !received && sent < 8 * MiB) {
            sent += 16 * KiB;
            if (!socket.write(chunk)) return void socket.once('drain', pump);
          }
          if (!stopped && !received) socket.end('0\r\n\r\n');
        };
        socket.write(
          `POST /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://127.0.0.1:${port}\r\n` +
            'Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n',
          pump,
        );
      });
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toMatch(/connection: close/i);
      // The server read the cap and a socket buffer or two, not the 8 MiB.
      expect(accepted[0].bytesRead).toBeLessThan(512 * KiB);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
