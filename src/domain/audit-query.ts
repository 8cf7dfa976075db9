// The audit log's filters as they travel in a URL (the page, its exports and GET /api/v1/audit):
// parsing with a message per bad field, and writing them back as a canonical query string.
import type { AuditOutcome, AuditQuery } from '../store/audit';

export const AUDIT_OUTCOMES: AuditOutcome[] = ['success', 'failure', 'denied'];

/** The raw text of each filter, as typed (kept to re-render the form). */
export type AuditFilterText = { actor: string; workspace: string; action: string; outcome: string; since: string; until: string };

export type ParsedAuditQuery = { ok: true; query: AuditQuery; text: AuditFilterText } | { ok: false; fields: Record<string, string>; text: AuditFilterText };

const DAY_MS = 86_400_000;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Returns the instant an ISO 8601 date or date-time names, or null. A bare date is a whole UTC
 * day: its start for `since`, its last millisecond for `until`, so both ends are inclusive.
 */
export function parseIsoTime(text: string, end: 'start' | 'end'): number | null {
  const d = DATE_ONLY.exec(text);
  if (d) {
    const t = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]));
    if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== text) return null;
    return end === 'start' ? t : t + DAY_MS - 1;
  }
  if (!DATE_TIME.test(text)) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

function positiveInt(text: string): number | null {
  if (!/^\d{1,15}$/.test(text)) return null;
  const n = Number(text);
  return n >= 1 ? n : null;
}

/** Parses the filters from query parameters; `limit` defaults to `defaultLimit` and may not exceed `maxLimit`. */
export function parseAuditQuery(get: (name: string) => string | undefined, opts: { defaultLimit: number; maxLimit: number }): ParsedAuditQuery {
  const raw = (name: string) => (get(name) ?? '').trim();
  const text: AuditFilterText = {
    actor: raw('actor').toLowerCase(),
    workspace: raw('workspace').toLowerCase(),
    action: raw('action'),
    outcome: raw('outcome'),
    since: raw('since'),
    until: raw('until'),
  };
  const fields: Record<string, string> = {};
  const query: AuditQuery = { limit: opts.defaultLimit };

  if (text.actor) {
    if (text.actor.length > 64) fields.actor = 'Give a username of at most 64 characters.';
    else query.actor = text.actor;
  }
  if (text.workspace) {
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(text.workspace)) fields.workspace = 'Give a project slug or "private".';
    else query.workspace = text.workspace;
  }
  if (text.action) {
    if (!/^[a-z][a-z_]*(\.[a-z_]+){0,3}$/.test(text.action) || text.action.length > 64) fields.action = 'Give an action such as toolkit.execute.';
    else query.action = text.action;
  }
  if (text.outcome) {
    if (!(AUDIT_OUTCOMES as string[]).includes(text.outcome)) fields.outcome = 'Outcome must be success, failure or denied.';
    else query.outcome = text.outcome as AuditOutcome;
  }
  if (text.since) {
    const t = parseIsoTime(text.since, 'start');
    if (t === null) fields.since = 'Give an ISO 8601 date (2026-01-31) or date and time (2026-01-31T09:00:00Z).';
    else query.since = t;
  }
  if (text.until) {
    const t = parseIsoTime(text.until, 'end');
    if (t === null) fields.until = 'Give an ISO 8601 date (2026-01-31) or date and time (2026-01-31T18:00:00Z).';
    else query.until = t;
  }
  if (query.since !== undefined && query.until !== undefined && query.until < query.since) fields.until = 'Must not be before since.';
  const before = raw('before');
  if (before) {
    const n = positiveInt(before);
    if (n === null) fields.before = 'Give the id of an event (a positive whole number).';
    else query.before = n;
  }
  const limit = raw('limit');
  if (limit) {
    const n = positiveInt(limit);
    if (n === null || n > opts.maxLimit) fields.limit = `Give a whole number from 1 to ${opts.maxLimit}.`;
    else query.limit = n;
  }
  return Object.keys(fields).length ? { ok: false, fields, text } : { ok: true, query, text };
}

/** Returns the canonical query string ("?actor=bob&…", or '') of filter text plus extra parameters. */
export function auditQueryString(text: Partial<AuditFilterText>, extra: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const key of ['actor', 'workspace', 'action', 'outcome', 'since', 'until'] as const) {
    const v = text[key];
    if (v) params.set(key, v);
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}
