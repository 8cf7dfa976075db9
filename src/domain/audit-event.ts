// The audit log's shapes as the pages and the API read them. Pure: the store fills them.

export type AuditOutcome = 'success' | 'failure' | 'denied';

export type AuditEvent = {
  id: number;
  at: number;
  actorUserId: string | null;
  actor: string | null;
  workspaceId: number | null;
  workspace: string | null;
  action: string;
  target: string | null;
  outcome: string;
  details: Record<string, unknown>;
};

export type ChainState = { verifiedThrough: number; checkedAt: number; latestId: number; broken?: { id: number; reason: string } };

/** What a user may read of the log: everything (instance admin) or the projects they administer. */
export type AuditScope = { kind: 'all' } | { kind: 'projects'; workspaceIds: number[] };

export type AuditEventFull = AuditEvent & { prevHash: string; hash: string };

export const DAY_MS = 86_400_000;

export type ExecutionStats = {
  /** UTC days, oldest first, each with its successful and failed runs. */
  days: { day: number; success: number; failure: number }[];
  /** The most-run toolkits, most runs first. */
  toolkits: { target: string; name: string; workspace: string | null; success: number; failure: number }[];
};
