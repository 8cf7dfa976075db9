// Settings are read once, from the environment handed in by src/server.ts or src/cli.ts, and
// checked here so a bad value stops start with a clear message instead of failing later.
import path from 'node:path';
import { parseAllowHosts } from './http/outbound';

export type Config = {
  port: number;
  host: string;
  dataDir: string;
  dbFile: string;
  /** PostgreSQL instead of the SQLite file in DATA_DIR (src/store/postgres.ts). */
  databaseUrl: string | undefined;
  secretKey: string | undefined;
  outboundAllowHosts: string[];
  signup: 'open' | 'closed';
  baseUrl: URL | undefined;
  /** Cookies get Secure and the __Host- prefix when the public URL is https. */
  secureCookies: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  metricsToken: string | undefined;
  /** Behind a reverse proxy: take the client address from the last X-Forwarded-For entry. */
  trustProxy: boolean;
};

function parseFlag(name: string, value: string | undefined): boolean {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === '0' || v === 'false' || v === 'no') return false;
  if (v === '1' || v === 'true' || v === 'yes') return true;
  throw new Error(`${name} must be 1 or 0 (true or false), got "${value}"`);
}

/** Returns the checked settings, or throws an Error whose message names the bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const port = Number(env.PORT ?? '3000');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  const signup = (env.SIGNUP ?? 'open').trim().toLowerCase();
  if (signup !== 'open' && signup !== 'closed') throw new Error(`SIGNUP must be "open" or "closed", got "${env.SIGNUP}"`);
  let baseUrl: URL | undefined;
  if (env.BASE_URL) {
    try {
      baseUrl = new URL(env.BASE_URL);
    } catch {
      throw new Error(`BASE_URL must be an absolute URL such as https://latchkey.example.com, got "${env.BASE_URL}"`);
    }
    if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') throw new Error('BASE_URL must start with http:// or https://');
  }
  const logLevel = (env.LOG_LEVEL ?? 'info').toLowerCase();
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) {
    throw new Error(`LOG_LEVEL must be one of debug, info, warn, error, silent; got "${env.LOG_LEVEL}"`);
  }
  const dataDir = path.resolve(env.DATA_DIR || './data');
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl) {
    if (!/^postgres(ql)?:\/\//i.test(databaseUrl)) throw new Error('DATABASE_URL must start with postgres:// or postgresql:// (leave it unset for the SQLite file in DATA_DIR)');
    if (!env.SECRET_KEY?.trim()) throw new Error('SECRET_KEY is required with DATABASE_URL: every instance needs the same master key (make one with `npm run cli -- keys generate`)');
  }
  return {
    port,
    host: env.HOST || '0.0.0.0',
    dataDir,
    dbFile: path.join(dataDir, 'latchkey.db'),
    databaseUrl,
    secretKey: env.SECRET_KEY?.trim() || undefined,
    outboundAllowHosts: parseAllowHosts(env.OUTBOUND_ALLOW_HOSTS),
    signup,
    baseUrl,
    secureCookies: baseUrl?.protocol === 'https:',
    logLevel: logLevel as Config['logLevel'],
    metricsToken: env.METRICS_TOKEN || undefined,
    trustProxy: parseFlag('TRUST_PROXY', env.TRUST_PROXY),
  };
}

/** Returns the server's public origin: BASE_URL's when set, else the origin the request was sent to. */
export function publicOrigin(config: Pick<Config, 'baseUrl'>, requestUrl: string): string {
  return config.baseUrl?.origin ?? new URL(requestUrl).origin;
}
