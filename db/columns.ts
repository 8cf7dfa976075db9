// What the two schema modules share: db/schema.ts (SQLite) and db/schema-pg.ts (PostgreSQL) build
// every table from these lists, so a value list or a default is defined once. The rest (table,
// column and index names, nullability, keys) is kept identical by test/unit/schema-drift.test.ts.
import { sql } from 'drizzle-orm';

/** A user's Private workspace or a team project. */
export const WORKSPACE_KINDS = ['private', 'project'] as const;
/** A member's role in a project. */
export const MEMBER_ROLES = ['admin', 'editor', 'viewer'] as const;
/** A connected credential's state; null for a pasted secret. */
export const CONNECTION_STATUSES = ['active', 'reconnect_required'] as const;
/** Where a toolkit's credential comes from. */
export const CREDENTIAL_SCOPES = ['project', 'private'] as const;
/** How an OAuth client of the authorization server came to be known. */
export const OAUTH_CLIENT_KINDS = ['registered', 'metadata'] as const;
/** The two kinds of token the authorization server issues. */
export const OAUTH_TOKEN_KINDS = ['access', 'refresh'] as const;

/**
 * "Now" in milliseconds since the epoch, as a column default, per dialect. PostgreSQL uses
 * clock_timestamp() (the wall clock at the insert) rather than now() (the start of the
 * transaction), like SQLite's unixepoch('subsec').
 */
export const nowMs = {
  sqlite: sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`,
  pg: sql`(extract(epoch from clock_timestamp()) * 1000)::bigint`,
} as const;
