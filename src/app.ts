// createApp: the whole web application, built from its dependencies (database, config, clock).
import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { csrf } from 'hono/csrf';
import { matchedRoutes } from 'hono/route';
import { secureHeaders } from 'hono/secure-headers';
import { loadSession, requireUser, sameOriginOnly } from './auth/guards';
import { createSessionAuth } from './auth/session';
import { createThrottle } from './auth/throttle';
import { createDeviceCookies } from './auth/device-cookie';
import { publicOrigin, type Config } from './config';
import { createStore, type Clock } from './store/store';
import type { Engine } from './store/engine';
import { latestAuditId } from './store/audit';
import type { KeyRing } from './crypto/keyring';
import type { AppEnv, Deps } from './env';
import { bearerMatches, createMetrics } from './http/metrics';
import { createOutboundClient, type OutboundClient } from './http/outbound';
import { staticRoutes } from './http/static';
import { limitBodies } from './http/body-limit';
import { checkHost } from './http/host-check';
import { iconSprite } from '../views/ui';
import { createLogger, type Logger } from './log';
import { apiFallback, apiRoutes } from './routes/api';
import { authRoutes } from './routes/auth';
import { errorHandler, notFound } from './routes/errors';
import { settingsRoutes } from './routes/settings';
import { loadWorkspace, workspaceRoutes } from './routes/workspaces';
import { credentialRoutes } from './routes/credentials';
import { toolkitRoutes } from './routes/toolkits';
import { adminRoutes } from './routes/admin';
import { oauthAppAdminRoutes } from './routes/admin-oauth-apps';
import { connectRoutes } from './routes/connect';
import { oauthRoutes } from './routes/oauth';
import { consentFormAction, oauthAuthorizeRoutes, oauthSettingsRoutes } from './routes/oauth-pages';
import { mcpRoutes } from './routes/mcp';

export type AppOptions = {
  engine: Engine;
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
  // The consent page also posts to its client's redirect URI (see consentFormAction).
  formAction: ["'self'", consentFormAction],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  objectSrc: ["'none'"],
};

/**
 * Returns the route pattern ('/api/v1/workspaces/:ws/credentials') that answered the request, for
 * logs and metrics: the handler that ran last, or, when a middleware answered first (a 401, a
 * redirect to /login), the handler it stood in front of. Never the raw path, so ids and names in
 * URLs stay out of metric labels. 'unmatched' when no handler matched (a 404).
 */
function routePattern(c: Context<AppEnv>): string {
  const routes = matchedRoutes(c);
  const ran = routes[c.req.routeIndex];
  if (ran && ran.method !== 'ALL') return ran.path;
  const handler = routes.find((r) => r.method !== 'ALL');
  if (handler) return handler.path;
  return c.res.status === 404 ? 'unmatched' : (ran?.path ?? 'unmatched');
}

/** Returns the Hono app and the dependencies it was built with (tests reach into deps). */
export async function createApp(opts: AppOptions) {
  const clock = opts.clock ?? { now: () => Date.now() };
  const store = await createStore(opts.engine, opts.ring, clock);
  const log = opts.log ?? createLogger(opts.config.logLevel);
  const deps: Deps = {
    store,
    config: opts.config,
    log,
    metrics: createMetrics(),
    auth: createSessionAuth(store, opts.config),
    outbound: opts.outbound ?? createOutboundClient({ allowHosts: opts.config.outboundAllowHosts }),
    throttle: {
      account: createThrottle(store, 'signin', { max: 5, windowMs: 15 * 60_000 }),
      address: createThrottle(store, 'signin', { max: 30, windowMs: 15 * 60_000 }),
      device: createThrottle(store, 'signin', { max: 5, windowMs: 15 * 60_000 }),
    },
    devices: createDeviceCookies(opts.ring, { secure: opts.config.secureCookies }),
  };

  const app = new Hono<AppEnv>();
  app.use('*', async (c, next) => {
    const started = performance.now();
    // 16 hex digits (60 random bits) from randomUUID, which draws on a cached pool of entropy
    // instead of a call into OpenSSL per request like randomBytes(8).
    const requestId = c.req.header('X-Request-Id')?.slice(0, 64).replace(/[^\w.-]/g, '') || randomUUID().replace(/-/g, '').slice(0, 16);
    c.set('requestId', requestId);
    c.set('user', null);
    await next();
    // On the response's own headers, as secureHeaders does: c.header() after the handler would
    // rebuild the response around its body stream, off @hono/node-server's fast path.
    c.res.headers.set('X-Request-Id', requestId);
    const route = routePattern(c);
    deps.metrics.httpRequest(route, c.req.method, c.res.status);
    log.info('request', {
      requestId,
      method: c.req.method,
      route,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      user: c.get('user')?.username ?? null,
    });
  });
  app.use('*', secureHeaders({ contentSecurityPolicy: CSP, referrerPolicy: 'same-origin', crossOriginEmbedderPolicy: false }));
  // Before any other work: refuse a Host this instance does not serve, then cap the body.
  app.use('*', checkHost(opts.config.baseUrl));
  app.use('*', limitBodies());

  // 503 while the database cannot be reached, 200 again once it can (load balancers take the instance out meanwhile).
  app.get('/healthz', async (c) => {
    try {
      await store.engine.ping();
      return c.json({ ok: true });
    } catch {
      return c.json({ ok: false }, 503);
    }
  });
  // Prometheus metrics: only when METRICS_TOKEN is set (else it does not exist), only with it.
  app.get('/metrics', async (c) => {
    const token = opts.config.metricsToken;
    if (!token) return notFound(c);
    if (!bearerMatches(c.req.header('Authorization'), token)) {
      c.header('WWW-Authenticate', 'Bearer realm="metrics"');
      return c.text('A valid metrics token is required.\n', 401);
    }
    // Audit ids are consecutive and the table is append-only, so the highest id is the count.
    const n = await latestAuditId(deps.store);
    c.header('Cache-Control', 'no-store');
    return c.body(deps.metrics.render({ auditEvents: n }), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
  app.route('/', staticRoutes({ 'icons.svg': iconSprite() }));
  app.route('/api/v1', apiRoutes(deps));
  app.route('/api', apiFallback());
  app.route('/', oauthRoutes(deps));
  app.route('/', mcpRoutes(deps));

  const pages = new Hono<AppEnv>();
  pages.use('*', csrf({ origin: (origin, c) => origin === publicOrigin(opts.config, c.req.url) }));
  pages.use('*', sameOriginOnly(deps));
  pages.use('*', loadSession(deps));
  pages.use('*', async (c, next) => {
    await next();
    if (c.get('user')) c.header('Cache-Control', 'no-store');
  });
  pages.route('/', authRoutes(deps));
  pages.route('/', oauthAuthorizeRoutes(deps));
  pages.use('*', requireUser());
  pages.use('/w/:ws/*', loadWorkspace(deps));
  pages.route('/', workspaceRoutes(deps));
  pages.route('/w/:ws/credentials', credentialRoutes(deps));
  pages.route('/w/:ws/toolkits', toolkitRoutes(deps));
  pages.route('/', settingsRoutes(deps));
  pages.route('/', oauthSettingsRoutes(deps));
  pages.route('/', adminRoutes(deps));
  pages.route('/', oauthAppAdminRoutes(deps));
  pages.route('/', connectRoutes(deps));
  app.route('/', pages);

  app.notFound(notFound);
  app.onError(errorHandler(deps));
  return { app, deps };
}
