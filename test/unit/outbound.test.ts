import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutboundClient, isForbiddenAddress, parseAllowHosts } from '../../src/http/outbound';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((fn) => fn()));
});

// Real server on 127.0.0.1 that counts TCP connections and HTTP requests.
async function serve(handler: Handler) {
  const stats = { requests: 0, connections: 0 };
  const server = createServer((req, res) => {
    stats.requests++;
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  server.on('connection', () => stats.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(() => r()));
  });
  return { port, stats, url: `http://127.0.0.1:${port}` };
}

function client(allowHosts: string[], extra: { timeoutMs?: number; maxBytes?: number } = {}) {
  const c = createOutboundClient({ allowHosts, ...extra });
  cleanups.push(() => c.close());
  return c;
}

const json = (res: ServerResponse, value: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
const redirect = (res: ServerResponse, location: string, status = 302) => res.writeHead(status, { location }).end();
const echo: Handler = (req, res, body) => json(res, { method: req.method, headers: req.headers, body });

describe('isForbiddenAddress', () => {
  const forbidden = [
    '127.0.0.1', '127.255.255.254', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
    '100.64.0.1', '100.127.255.255', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', '[::1]', 'fe80::1%eth0',
    'fc00::1', 'fd12:3456::1', 'fd00:ec2::254', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1',
    '::ffff:169.254.169.254', '::ffff:100.64.0.1', '0:0:0:0:0:ffff:c0a8:0101', '::127.0.0.1', '64:ff9b::a9fe:a9fe',
    'not-an-ip', '', '1.2.3',
  ];
  const allowed = [
    '8.8.8.8', '1.1.1.1', '140.82.112.3', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1',
    '192.169.0.1', '169.255.0.1', '2606:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::808:808',
  ];
  it.each(forbidden)('forbids %s', (ip) => expect(isForbiddenAddress(ip)).toBe(true));
  it.each(allowed)('allows %s', (ip) => expect(isForbiddenAddress(ip)).toBe(false));
});

describe('parseAllowHosts', () => {
  it('splits, trims, lowercases and drops empties', () => {
    expect(parseAllowHosts(' Jira.Example.com:8443, ,127.0.0.1:4567,[::1]:8080,::1 ')).toEqual([
      'jira.example.com:8443', '127.0.0.1:4567', '[::1]:8080', '::1',
    ]);
    expect(parseAllowHosts(undefined)).toEqual([]);
  });
});

describe('destination checks', () => {
  it('refuses loopback without an allow-list entry and never connects', async () => {
    const s = await serve(echo);
    expect(await client([]).send({ method: 'GET', url: s.url })).toEqual({ ok: false, reason: 'destination_not_allowed', host: `127.0.0.1:${s.port}` });
    await expect(client(['127.0.0.1:1']).send({ method: 'GET', url: s.url })).resolves.toMatchObject({ reason: 'destination_not_allowed' });
    expect(s.stats).toEqual({ requests: 0, connections: 0 });
  });

  it('allows host:port and host-only entries (case-insensitive)', async () => {
    const s = await serve(echo);
    for (const entry of [`127.0.0.1:${s.port}`, '127.0.0.1', ...parseAllowHosts(`LOCALHOST:${s.port}`)]) {
      const url = entry.startsWith('localhost') ? `http://localhost:${s.port}/x` : `${s.url}/x`;
      expect(await client([entry]).send({ method: 'GET', url })).toMatchObject({ ok: true, status: 200 });
    }
  });

  it('refuses localhost, which resolves to loopback', async () => {
    const s = await serve(echo);
    const res = await client([]).send({ method: 'GET', url: `http://localhost:${s.port}/` });
    expect(res).toEqual({ ok: false, reason: 'destination_not_allowed', host: `localhost:${s.port}` });
    expect(s.stats.connections).toBe(0);
  });

  it('matches IPv6 literals and refuses IPv4-mapped loopback', async () => {
    const s = await serve(echo);
    expect(await client([]).send({ method: 'GET', url: `http://[::ffff:127.0.0.1]:${s.port}/` })).toMatchObject({ reason: 'destination_not_allowed' });
    expect(await client([]).send({ method: 'GET', url: 'http://[::1]:1/' })).toEqual({ ok: false, reason: 'destination_not_allowed', host: '[::1]:1' });
    // Allowed entries get past the check; port 1 is closed (or IPv6 is absent), so the socket fails instead.
    for (const entry of ['[::1]:1', '::1', '[0:0::1]']) {
      expect(await client([entry]).send({ method: 'GET', url: 'http://[::1]:1/' })).toMatchObject({ reason: 'unreachable' });
    }
    expect(s.stats.connections).toBe(0);
  });

  it('refuses non-http schemes, naming the scheme', async () => {
    const res = await client([]).send({ method: 'GET', url: 'file:///etc/passwd' });
    expect(res).toMatchObject({ ok: false, reason: 'unreachable' });
    expect(res.ok === false && res.reason === 'unreachable' && res.message).toMatch(/a file: URL cannot be called/);
  });

  it('refuses a redirect to a file: URL with a message that names the scheme', async () => {
    const s = await serve((_req, res) => redirect(res, 'file:///etc/passwd'));
    const res = await client([`127.0.0.1:${s.port}`]).send({ method: 'GET', url: s.url });
    expect(res).toEqual({ ok: false, reason: 'unreachable', message: 'the service redirected to a file: URL; only http and https redirects are followed' });
  });
});

describe('redirects', () => {
  it('checks every hop: redirect to a non-allowed port is refused and never reached', async () => {
    const target = await serve(echo);
    const s = await serve((_req, res) => redirect(res, `${target.url}/`));
    const res = await client([`127.0.0.1:${s.port}`]).send({ method: 'GET', url: s.url });
    expect(res).toEqual({ ok: false, reason: 'destination_not_allowed', host: `127.0.0.1:${target.port}` });
    expect(target.stats.connections).toBe(0);
  });

  it('follows at most 5 redirects', async () => {
    const s = await serve((req, res) => {
      const n = Number(req.url!.slice(1));
      if (n > 0) redirect(res, `/${n - 1}`);
      else json(res, 'done');
    });
    const c = client([`127.0.0.1:${s.port}`]);
    expect(await c.send({ method: 'GET', url: `${s.url}/5` })).toMatchObject({ ok: true, body: 'done' });
    const res = await c.send({ method: 'GET', url: `${s.url}/6` });
    expect(res).toMatchObject({ ok: false, reason: 'unreachable' });
    expect(res.ok === false && res.reason === 'unreachable' && res.message).toMatch(/too many redirects/);
  });

  it('drops credentials on cross-origin hops but keeps them on same-origin hops', async () => {
    const other = await serve(echo);
    const s = await serve((req, res, body) => {
      if (req.url === '/cross') redirect(res, `${other.url}/echo`, 307);
      else if (req.url === '/same') redirect(res, '/echo', 307);
      else echo(req, res, body);
    });
    const c = client([`127.0.0.1:${s.port}`, `127.0.0.1:${other.port}`]);
    const headers = { Authorization: 'Bearer tok-123456', 'X-Api-Key': 'k-abcdef', 'X-Trace': 'tok-123456!', Accept: 'application/json' };
    const same = await c.send({ method: 'GET', url: `${s.url}/same`, headers, secrets: ['tok-123456'] });
    expect(same.ok && (same.body as any).headers).toMatchObject({ authorization: 'Bearer [REDACTED]', 'x-api-key': 'k-abcdef' });
    const cross = await c.send({ method: 'GET', url: `${s.url}/cross`, headers, secrets: ['tok-123456'] });
    const seen = cross.ok && (cross.body as any).headers;
    expect(seen).toMatchObject({ accept: 'application/json' });
    expect(seen).not.toHaveProperty('authorization');
    expect(seen).not.toHaveProperty('x-api-key');
    expect(seen).not.toHaveProperty('x-trace');
  });

  it('turns 303 into a GET without body and keeps the body on 307', async () => {
    const s = await serve((req, res, body) => {
      if (req.url === '/303') redirect(res, '/echo', 303);
      else if (req.url === '/307') redirect(res, '/echo', 307);
      else echo(req, res, body);
    });
    const c = client([`127.0.0.1:${s.port}`]);
    const req = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' };
    expect(await c.send({ ...req, url: `${s.url}/303` })).toMatchObject({ body: { method: 'GET', body: '' } });
    expect(await c.send({ ...req, url: `${s.url}/307` })).toMatchObject({ body: { method: 'POST', body: '{"a":1}' } });
  });
});

describe('limits and failures', () => {
  it('caps the body at 1 MiB', async () => {
    const s = await serve((req, res) => {
      const size = req.url === '/big' ? 1024 * 1024 + 1 : 1024 * 1024;
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let sent = 0; sent < size; sent += 64 * 1024) res.write('x'.repeat(Math.min(64 * 1024, size - sent)));
      res.end();
    });
    const c = client([`127.0.0.1:${s.port}`]);
    expect(await c.send({ method: 'GET', url: `${s.url}/big` })).toEqual({ ok: false, reason: 'too_large' });
    const fits = await c.send({ method: 'GET', url: `${s.url}/fits` });
    expect(fits.ok && (fits.body as string).length).toBe(1024 * 1024);
    expect(await client([`127.0.0.1:${s.port}`], { maxBytes: 10 }).send({ method: 'GET', url: s.url })).toEqual({ ok: false, reason: 'too_large' });
  });

  it('times out on a server that never answers', async () => {
    const s = await serve(() => {});
    const started = Date.now();
    expect(await client([`127.0.0.1:${s.port}`], { timeoutMs: 200 }).send({ method: 'GET', url: s.url })).toEqual({ ok: false, reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reports a closed port as unreachable without leaking the URL', async () => {
    const s = await serve(echo);
    await cleanups.pop()!();
    const res = await client([`127.0.0.1:${s.port}`]).send({ method: 'GET', url: `${s.url}/?token=supersecret`, secrets: ['supersecret'] });
    expect(res).toMatchObject({ ok: false, reason: 'unreachable' });
    expect(JSON.stringify(res)).not.toContain('supersecret');
    expect(JSON.stringify(res)).toContain('127.0.0.1');
  });
});

describe('responses', () => {
  it('parses JSON by content type and returns other bodies as text', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/json') json(res, { a: [1, 2] });
      else if (req.url === '/vnd') res.writeHead(200, { 'content-type': 'application/vnd.api+json' }).end('{"b":true}');
      else if (req.url === '/broken') res.writeHead(200, { 'content-type': 'application/json' }).end('{oops');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('{"a":1}');
    });
    const c = client([`127.0.0.1:${s.port}`]);
    expect(await c.send({ method: 'GET', url: `${s.url}/json` })).toMatchObject({ ok: true, body: { a: [1, 2] } });
    expect(await c.send({ method: 'GET', url: `${s.url}/vnd` })).toMatchObject({ body: { b: true } });
    expect(await c.send({ method: 'GET', url: `${s.url}/broken` })).toMatchObject({ body: '{oops' });
    const text = await c.send({ method: 'GET', url: `${s.url}/text` });
    expect(text).toMatchObject({ ok: true, status: 200, body: '{"a":1}', headers: { 'content-type': 'text/plain' } });
    expect(text.ok && text.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('redacts an echoed token from body and headers', async () => {
    const s = await serve((req, res) => {
      const auth = req.headers.authorization!;
      res.writeHead(401, { 'content-type': 'application/json', 'x-echo': auth });
      res.end(JSON.stringify({ message: `bad credentials: ${auth}`, [auth]: [auth] }));
    });
    const token = 'ghp_0123456789abcdef';
    const res = await client([`127.0.0.1:${s.port}`]).send({ method: 'GET', url: s.url, headers: { authorization: `token ${token}` }, secrets: [token] });
    expect(res).toMatchObject({ ok: true, status: 401, headers: { 'x-echo': 'token [REDACTED]' }, body: { message: 'bad credentials: token [REDACTED]' } });
    expect(JSON.stringify(res)).not.toContain(token);
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const s = await serve(echo);
    const c = client([`127.0.0.1:${s.port}`]);
    for (let i = 0; i < 5; i++) expect(await c.send({ method: 'GET', url: `${s.url}/${i}` })).toMatchObject({ ok: true });
    expect(s.stats).toEqual({ requests: 5, connections: 1 });
  });
});
