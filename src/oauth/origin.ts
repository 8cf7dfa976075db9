// The server's public origin: BASE_URL's when set (behind a proxy the request's Host is not the
// public one), else the request's own. Issuer, resource and every endpoint URL are built from it.
import type { Config } from '../config';

/** Returns `scheme://host[:port]` that clients reach this server at. */
export function publicOrigin(config: Pick<Config, 'baseUrl'>, requestUrl: string): string {
  return config.baseUrl?.origin ?? new URL(requestUrl).origin;
}
