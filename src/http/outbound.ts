// Outbound HTTP client used by toolkits to call external services (GitHub, Jira, ...).
//
// Behaviour:
// - Only http: and https: URLs. The host is resolved inside the undici connector and every resolved
//   address is checked with isForbiddenAddress (loopback, private, link-local, unique-local, CGNAT,
//   0/8, multicast, reserved, cloud metadata, and the IPv4-mapped / IPv4-compatible / NAT64 forms of
//   the v4 ranges). If any address is forbidden the request is refused, unless `host` or `host:port`
//   is in the allow list (OUTBOUND_ALLOW_HOSTS; an entry without port allows every port).
//   The socket is opened to the address that was checked, so DNS rebinding has no window.
// - One keep-alive Agent per client: connections are pooled per origin and reused across requests.
// - Redirects are followed manually, at most 5, each hop checked again. Once a hop leaves the original
//   origin (scheme+host+port), credential headers (Authorization, Cookie, API-key headers, and any
//   header whose value contains a secret) are dropped for the rest of the chain. 303, and 301/302 after
//   POST, become GET without body.
// - A 15 s deadline covers the whole chain including body reading; bodies above 1 MiB are refused.
// - Expected failures are returned as values; messages never carry URLs (query strings may hold
//   tokens) and are passed through redactSecrets (src/http/redaction.ts: every encoding of a secret).
// - With `secrets`, response headers and body are redacted so upstream cannot echo a token back.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector, request } from 'undici';
import { redactSecrets, redactor } from './redaction';

export { redactSecrets };

export type OutboundResult =
  | { ok: true; status: number; headers: Record<string, string>; body: unknown; durationMs: number }
  | { ok: false; reason: 'destination_not_allowed'; host: string }
  | { ok: false; reason: 'unreachable'; message: string }
  | { ok: false; reason: 'too_large' }
  | { ok: false; reason: 'timeout' };

export type OutboundRequest = {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | undefined;
  secrets?: string[];
};

export type OutboundClient = { send(req: OutboundRequest): Promise<OutboundResult>; close(): Promise<void> };

const MAX_REDIRECTS = 5;
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'private-token', 'x-auth-token']);
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];

/** Parses OUTBOUND_ALLOW_HOSTS (comma-separated `host`, `host:port`, `[v6]:port` or bare v6) into lowercase entries. */
export function parseAllowHosts(csv: string | undefined): string[] {
  return (csv ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

// 16 bytes; IPv4 is returned in its IPv4-mapped form so v4 ranges apply to mapped v6 addresses as-is.
function ipBytes(ip: string): number[] | null {
  const addr = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIP(addr) === 4) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...addr.split('.').map(Number)];
  if (isIP(addr) !== 6) return null;
  let text = addr;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const words = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

function cidr(spec: string): [number[], number] {
  const [addr, bits] = spec.split('/');
  return [ipBytes(addr)!, Number(bits) + (isIP(addr) === 4 ? 96 : 0)];
}

function inRange(bytes: number[], [net, bits]: [number[], number]): boolean {
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i] & mask) !== (net[i] & mask)) return false;
  }
  return true;
}

const FORBIDDEN = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.168.0.0/16', '224.0.0.0/4', '240.0.0.0/4', '169.254.169.254/32',
  '::/128', '::1/128', 'fe80::/10', 'fec0::/10', 'fc00::/7', 'ff00::/8', 'fd00:ec2::254/128',
].map(cidr);
// Prefixes whose last 32 bits are an IPv4 address the packet may end up at: IPv4-compatible, NAT64.
const EMBEDS_V4 = ['::/96', '64:ff9b::/96'].map(cidr);

/** True when the address must not be contacted (internal, reserved or metadata); unparseable input counts as forbidden. */
export function isForbiddenAddress(ip: string): boolean {
  const bytes = ipBytes(ip);
  if (!bytes || bytes.some((b) => !(b >= 0 && b <= 255))) return true;
  if (FORBIDDEN.some((r) => inRange(bytes, r))) return true;
  if (EMBEDS_V4.some((r) => inRange(bytes, r))) {
    const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...bytes.slice(12)];
    return FORBIDDEN.some((r) => inRange(mapped, r));
  }
  return false;
}

// Canonical hostname as the WHATWG URL parser writes it (lowercase, compressed IPv6 without brackets).
function canonicalHost(host: string): string {
  try {
    return new URL(`http://${isIP(host) === 6 ? `[${host}]` : host}`).hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  } catch {
    return host.toLowerCase();
  }
}

function parseEntry(entry: string): { host: string; port?: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? /^([^:]+):(\d+)$/.exec(entry);
  if (!m) return { host: canonicalHost(entry) };
  return { host: canonicalHost(m[1]), port: m[2] === undefined ? undefined : Number(m[2]) };
}

class DestinationNotAllowedError extends Error {
  override name = 'DestinationNotAllowedError';
}

/** Creates a client with its own pooled Agent; call close() on shutdown. */
export function createOutboundClient(opts: { allowHosts: string[]; timeoutMs?: number; maxBytes?: number }): OutboundClient {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  const allow = opts.allowHosts.map(parseEntry);
  const isAllowed = (host: string, port: number) => allow.some((e) => e.host === host && (e.port === undefined || e.port === port));

  const base = buildConnector({});
  const agent = new Agent({
    // Resolve + check here and hand the checked IP to the real connector; `host` stays untouched so
    // TLS SNI and certificate verification still use the hostname.
    connect: (options, callback) => {
      const host = canonicalHost(options.hostname);
      const port = Number(options.port || (options.protocol === 'https:' ? 443 : 80));
      const resolve = isIP(host) ? Promise.resolve([host]) : lookup(host, { all: true }).then((r) => r.map((a) => a.address));
      resolve.then(
        (addresses) => {
          if (addresses.length === 0) throw new Error(`no address for ${host}`);
          if (!isAllowed(host, port) && addresses.some(isForbiddenAddress)) throw new DestinationNotAllowedError(host);
          base({ ...options, hostname: addresses[0] }, callback);
        },
      ).catch((err: Error) => callback(err, null));
    },
  });

  async function send(req: OutboundRequest): Promise<OutboundResult> {
    const started = performance.now();
    const secrets = req.secrets ?? [];
    const signal = AbortSignal.timeout(timeoutMs);
    let method = req.method.toUpperCase();
    let body = req.body;
    let headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return { ok: false, reason: 'unreachable', message: 'invalid URL' };
    }
    const origin = url.origin;
    let crossedOrigin = false;

    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        // A file:, data: or ftp: URL has no host to name; say which scheme was refused instead.
        const scheme = url.protocol.slice(0, -1).slice(0, 20);
        const message = hop === 0 ? `a ${scheme}: URL cannot be called; only http and https are` : `the service redirected to a ${scheme}: URL; only http and https redirects are followed`;
        return { ok: false, reason: 'unreachable', message };
      }
      if (url.origin !== origin && !crossedOrigin) {
        crossedOrigin = true;
        headers = Object.fromEntries(Object.entries(headers).filter(([k, v]) => !CREDENTIAL_HEADERS.has(k) && redactSecrets(v, secrets) === v));
      }
      try {
        const res = await request(url, { method: method as 'GET', headers, body, signal, dispatcher: agent });
        const location = [res.headers.location].flat()[0];
        if ([301, 302, 303, 307, 308].includes(res.statusCode) && location) {
          await res.body.dump();
          await socketReleased();
          if (hop >= MAX_REDIRECTS) return { ok: false, reason: 'unreachable', message: `too many redirects (more than ${MAX_REDIRECTS})` };
          try {
            url = new URL(location, url);
          } catch {
            return { ok: false, reason: 'unreachable', message: `invalid redirect location from ${url.host}` };
          }
          if (res.statusCode === 303 ? method !== 'HEAD' : res.statusCode <= 302 && method === 'POST') {
            method = 'GET';
            body = undefined;
            for (const h of BODY_HEADERS) delete headers[h];
          }
          continue;
        }
        if (Number(res.headers['content-length']) > maxBytes) {
          res.body.destroy();
          return { ok: false, reason: 'too_large' };
        }
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body) {
          size += chunk.length;
          if (size > maxBytes) {
            res.body.destroy();
            return { ok: false, reason: 'too_large' };
          }
          chunks.push(chunk);
        }
        await socketReleased();
        const text = Buffer.concat(chunks).toString('utf8');
        const outHeaders: Record<string, string> = {};
        const redact = redactor(secrets);
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) outHeaders[k] = [v].flat().join(', ');
        return {
          ok: true,
          status: res.statusCode,
          headers: redact(outHeaders) as Record<string, string>,
          body: redact(parseBody(text, outHeaders['content-type'])),
          durationMs: Math.round(performance.now() - started),
        };
      } catch (err) {
        if (err instanceof DestinationNotAllowedError) return { ok: false, reason: 'destination_not_allowed', host: url.host };
        if (signal.aborted) return { ok: false, reason: 'timeout' };
        const message = err instanceof Error ? `${url.host}: ${err.message}` : `${url.host}: request failed`;
        return { ok: false, reason: 'unreachable', message: redactSecrets(message, secrets) as string };
      }
    }
  }

  return { send, close: () => agent.close() };
}

// undici hands a keep-alive socket back to the pool one event-loop turn (setImmediate) after the
// response ends; a request issued before that opens a second connection. Waiting that turn lets
// sequential calls (pagination, redirect hops) reuse one socket.
const socketReleased = () => new Promise<void>((resolve) => setImmediate(resolve));

// JSON when the content type says so and it parses; anything else is the text as received.
function parseBody(text: string, contentType: string | undefined): unknown {
  if (!contentType || !/[/+]json\b/i.test(contentType)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
