// createApp: the whole web application, built from its dependencies (database, config, clock).
import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import { loadSession, requireUser, sameOriginOnly } from './auth/guards';
import { createSessionAuth } from './auth/session';
import { createThrottle } from './auth/throttle';
import type { Config } from './config';
import type { Db } from './data/db';
import { createStore, type Clock } from './data/store';
import type { KeyRing } from './crypto/keyring';
import type { AppEnv, Deps } from './env';
import { createOutboundClient, type OutboundClient } from './http/outbound';
import { staticRoutes } from './http/static';
import { iconSprite } from '../views/ui';
import { createLogger, type Logger } from './log';
import { apiFallback, apiRoutes } from './routes/api';
import { authRoutes } from './routes/auth';
import { errorHandler, notFound } from './routes/errors';
import { settingsRoutes } from './routes/settings';
import { loadWorkspace, workspaceRoutes } from './routes/workspaces';
import { credentialRoutes } from './routes/credentials';
import { toolkitRoutes } from './routes/toolkits';

export type AppOptions = {
  db: Db;
  config: Config;
  ring: KeyRing;
  clock?: Clock;
  log?: Logger;
  outbound?: OutboundClient;
};

const CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  objectSrc: ["'none'"],
};

/** Returns the Hono app and the dependencies it was built with (tests reach into deps). */
export function createApp(opts: AppOptions) {
  const clock = opts.clock ?? { now: () => Date.now() };
  const store = createStore(opts.db, opts.ring, clock);
  const log = opts.log ?? createLogger(opts.config.logLevel);
  const deps: Deps = {
    store,
    config: opts.config,
    log,
    auth: createSessionAuth(store, opts.config),
    outbound: opts.outbound ?? createOutboundClient({ allowHosts: opts.config.outboundAllowHosts }),
    throttle: {
      account: createThrottle({ max: 5, windowMs: 15 * 60_000 }, clock.now),
      address: createThrottle({ max: 30, windowMs: 15 * 60_000 }, clock.now),
    },
  };

  const app = new Hono<AppEnv>();
  app.use('*', async (c, next) => {
    const started = performance.now();
    const requestId = c.req.header('X-Request-Id')?.slice(0, 64).replace(/[^\w.-]/g, '') || randomBytes(8).toString('hex');
    c.set('requestId', requestId);
    c.set('user', null);
    await next();
    c.header('X-Request-Id', requestId);
    log.info('request', {
      requestId,
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      user: c.get('user')?.username ?? null,
    });
  });
  app.use('*', secureHeaders({ contentSecurityPolicy: CSP, referrerPolicy: 'same-origin', crossOriginEmbedderPolicy: false }));

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.route('/', staticRoutes({ 'icons.svg': iconSprite() }));
  app.route('/api/v1', apiRoutes(deps));
  app.route('/api', apiFallback());

  const pages = new Hono<AppEnv>();
  pages.use('*', csrf({ origin: (origin, c) => origin === (opts.config.baseUrl?.origin ?? new URL(c.req.url).origin) }));
  pages.use('*', sameOriginOnly(deps));
  pages.use('*', loadSession(deps));
  pages.use('*', async (c, next) => {
    await next();
    if (c.get('user')) c.header('Cache-Control', 'no-store');
  });
  pages.route('/', authRoutes(deps));
  pages.use('*', requireUser());
  pages.use('/w/:ws/*', loadWorkspace(deps));
  pages.route('/', workspaceRoutes(deps));
  pages.route('/', credentialRoutes(deps));
  pages.route('/', toolkitRoutes(deps));
  pages.route('/', settingsRoutes(deps));
  app.route('/', pages);

  app.notFound(notFound);
  app.onError(errorHandler(deps));
  return { app, deps };
}
