// GET /api/v1/audit: the audit log for scripts, scoped like the Audit page (instance admins see
// everything, project admins their projects' events, everyone else 403).
import { Hono } from 'hono';
import { auditScopeFor, listAuditEvents, type AuditEvent } from '../store/audit';
import { parseAuditQuery } from '../domain/audit-query';
import type { AppEnv, Deps } from '../env';
import { apiError, invalidInput } from './api-helpers';

/** Returns an event in the contract's shape. */
export function auditEventJson(e: AuditEvent) {
  return {
    id: e.id,
    at: new Date(e.at).toISOString(),
    actor: e.actor,
    workspace: e.workspace,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    details: e.details,
  };
}

/** Returns the sub-app with the audit API (mounted under /api/v1, after the token check). */
export function auditApiRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get('/audit', async (c) => {
    const scope = await auditScopeFor(deps.store, c.get('user')!);
    if (!scope) return apiError(c, 403, 'forbidden', 'Only instance admins and project admins can read the audit log.');
    const parsed = parseAuditQuery((k) => c.req.query(k), { defaultLimit: 50, maxLimit: 500 });
    if (!parsed.ok) return invalidInput(c, parsed.fields);
    const page = await listAuditEvents(deps.store, scope, parsed.query);
    c.header('Cache-Control', 'no-store');
    return c.json({ events: page.events.map(auditEventJson), next_before: page.nextBefore });
  });

  return app;
}
