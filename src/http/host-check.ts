// Which Host a request may name. The expected Origin of a form post is derived from the request's
// own URL when BASE_URL is unset, so a page on a DNS-rebound name (attacker.example resolving to
// this server) would otherwise pass the CSRF checks and could, for one, sign up the first admin
// of a fresh instance. Without BASE_URL only loopback names and IP literals are served (a rebound
// name is never an IP literal); with BASE_URL, only its host. /healthz and /metrics answer any
// Host, since load balancers and scrapers use whatever name or address they know; neither uses
// cookies (/metrics needs its bearer token), so a rebound page gains nothing there.
import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';

const EXEMPT_PATHS = new Set(['/healthz', '/metrics']);

/** Returns the hostname part of a Host header value (brackets and port removed, lowercase), or null when it is not one. */
export function hostnameOf(host: string): string | null {
  try {
    return new URL(`http://${host}`).hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  } catch {
    return null;
  }
}

/** True when a hostname may be served by an instance without BASE_URL: localhost (and *.localhost) or an IP literal. */
export function isLocalHostname(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || isIP(hostname) !== 0;
}

/** Returns the middleware that answers 421 to a request naming a Host this instance does not serve. */
export function checkHost(baseUrl: URL | undefined): MiddlewareHandler<AppEnv> {
  const expected = baseUrl ? hostnameOf(baseUrl.host) : null;
  const allowed = (hostname: string | null) => hostname !== null && (expected ? hostname === expected : isLocalHostname(hostname));
  return async (c, next) => {
    if (EXEMPT_PATHS.has(c.req.path)) return next();
    // The URL is built from the Host header (or an absolute request target); a test client may set
    // a Host header apart from the URL, so both are checked.
    const header = c.req.header('Host');
    if (allowed(hostnameOf(new URL(c.req.url).host)) && (header === undefined || allowed(hostnameOf(header)))) return next();
    const message = expected
      ? `This server answers only to ${expected} (BASE_URL).`
      : 'This server answers only to localhost or an IP address until BASE_URL is set to its public URL.';
    return c.text(`${message}\n`, 421);
  };
}
