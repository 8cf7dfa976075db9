// The process entry point: the only file that reads process.env. Opens and migrates the
// database, checks the keys, serves, and shuts down cleanly on SIGTERM.
import { serve } from '@hono/node-server';
import { createApp } from './app';
import { loadConfig } from './config';
import type { Engine } from './store/engine';
import { openDataDir } from './store/startup';
import { safeTarget } from './store/pg-errors';
import { createLogger } from './log';

function fail(message: string): never {
  process.stderr.write(`latchkey: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
  process.exit(1);
}

const startedAt = performance.now();
let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  fail((err as Error).message);
}
const log = createLogger(config.logLevel);

let app: Awaited<ReturnType<typeof createApp>>['app'];
let deps: Awaited<ReturnType<typeof createApp>>['deps'];
let engine: Engine | undefined;
try {
  // Database first (a damaged file stops here, touching nothing), then the key (see startup.ts).
  let keys;
  ({ engine, keys } = await openDataDir(config, { backupBeforeMigrate: true }));
  if (keys.created) log.warn('generated a new master key; back it up, without it the stored secrets cannot be read', { keyFile: keys.keyFile });
  else log.info('master key loaded', { source: keys.source === 'env' ? 'SECRET_KEY' : keys.keyFile, keys: keys.ring.keys.length });
  ({ app, deps } = await createApp({ engine, config, ring: keys.ring, log }));
  log.info('database and keys checked', { database: config.databaseUrl ? safeTarget(config.databaseUrl) : config.dbFile, engine: engine.dialect, ...(engine.dialect === 'sqlite' ? { quickCheck: 'ok' } : {}), activeKey: keys.ring.active.id });
} catch (err) {
  await engine?.close().catch(() => undefined);
  fail((err as Error).message);
}

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  log.info('listening', { url: `http://${config.host}:${info.port}`, startupMs: Math.round(performance.now() - startedAt) });
});

let stopping = false;
// Answers still being written when SIGTERM arrives end their keep-alive connection, so a busy
// client (a proxy reusing connections) cannot keep the server from stopping.
const active = new Set<import('node:http').ServerResponse>();
(server as unknown as import('node:http').Server).on('request', (_req, res) => {
  if (stopping) res.setHeader('Connection', 'close');
  active.add(res);
  res.on('close', () => active.delete(res));
});

function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info('shutting down', { signal });
  for (const res of active) if (!res.headersSent) res.setHeader('Connection', 'close');
  // Stop accepting connections; requests in flight finish, idle keep-alive sockets close.
  server.close(async () => {
    await deps.outbound.close().catch(() => {});
    await engine!.close().catch(() => undefined);
    log.info('stopped');
    process.exit(0);
  });
  (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  setTimeout(() => {
    log.error('requests still running after 25 s; exiting');
    process.exit(1);
  }, 25_000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
