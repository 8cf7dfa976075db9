// Every table of Latchkey, for SQLite. Migrations in db/migrations are generated from this file by
// drizzle-kit (`npm run db:generate`) and committed; hand-written SQL (audit triggers) is
// appended to the generated migration that creates the table it guards.
// db/schema-pg.ts is the same tables for PostgreSQL: value lists and defaults come from
// db/columns.ts, and test/unit/schema-drift.test.ts fails when the two differ.
import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import {
  CONNECTION_STATUSES,
  CREDENTIAL_SCOPES,
  MEMBER_ROLES,
  nowMs,
  OAUTH_CLIENT_KINDS,
  OAUTH_TOKEN_KINDS,
  WORKSPACE_KINDS,
} from './columns';

const now = nowMs.sqlite;

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  username: text('username').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  isAdmin: integer('is_admin', { mode: 'boolean' }).notNull().default(false),
  disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull().default(now),
  /** The newest audit event the user's notices ("alice added you to …") were dismissed through. */
  noticesSeenId: integer('notices_seen_id').notNull().default(0),
});

/** Lucia sessions. `id` is the SHA-256 of the token in the cookie; the token itself is never stored. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at').notNull(), // seconds, as lucia expects
    createdAt: integer('created_at').notNull(), // ms; the absolute limit counts from here
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

/** Personal access tokens for the JSON API, stored as SHA-256 only. */
export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: integer('created_at').notNull().default(now),
    lastUsedAt: integer('last_used_at'),
  },
  (t) => [index('api_tokens_user_idx').on(t.userId)],
);

/**
 * A workspace is either a user's Private workspace (kind 'private', owner set, no slug) or a
 * team project (kind 'project', slug set). Credentials and toolkits belong to a workspace.
 */
export const workspaces = sqliteTable('workspaces', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  kind: text('kind', { enum: WORKSPACE_KINDS }).notNull(),
  slug: text('slug').unique(),
  name: text('name').notNull(),
  ownerUserId: text('owner_user_id')
    .unique()
    .references(() => users.id, { onDelete: 'cascade' }),
  createdAt: integer('created_at').notNull().default(now),
});

export const memberships = sqliteTable(
  'memberships',
  {
    workspaceId: integer('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: MEMBER_ROLES }).notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.userId] }), index('memberships_user_idx').on(t.userId)],
);

/**
 * Credentials. Secrets live only in `secretBlob`, sealed with the credential's own data key;
 * `wrappedKey` is that data key wrapped by the master key `keyId` (see src/crypto/envelope.ts).
 */
export const credentials = sqliteTable(
  'credentials',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    credentialId: text('credential_id').notNull(),
    name: text('name').notNull(),
    type: text('type').notNull(),
    fieldsJson: text('fields_json').notNull().default('{}'),
    secretBlob: blob('secret_blob', { mode: 'buffer' }),
    wrappedKey: blob('wrapped_key', { mode: 'buffer' }),
    keyId: text('key_id'),
    createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
    lastUsedAt: integer('last_used_at'),
    lastTestAt: integer('last_test_at'),
    lastTestOk: integer('last_test_ok', { mode: 'boolean' }),
    lastTestMessage: text('last_test_message'),
    /** When the credential stops working (ms), as its owner typed it or the service reported it; null: unknown. */
    expiresAt: integer('expires_at'),
    /** Connected accounts (src/connect): the OAuth app it came from, null for a pasted secret. */
    connectedApp: text('connected_app'),
    /** The account the provider's user call named (`Connected as @alice`). */
    connectedAccount: text('connected_account'),
    /** 'active' or 'reconnect_required'; null for a credential that is not connected. */
    connectionStatus: text('connection_status', { enum: CONNECTION_STATUSES }),
    /** When the access token expires and when to refresh it ahead of that (ms); null: only on a 401. */
    tokenExpiresAt: integer('token_expires_at'),
    tokenRefreshAt: integer('token_refresh_at'),
    /** A refresh in progress holds this lease (ms): one refresh at a time across instances. */
    refreshingUntil: integer('refreshing_until'),
  },
  (t) => [
    uniqueIndex('credentials_workspace_cid_idx').on(t.workspaceId, t.credentialId),
    index('credentials_key_idx').on(t.keyId),
  ],
);

/**
 * Toolkits. `credentialScope` 'project' points at a credential row of the same project
 * (`credentialRowId`, nulled when that credential is deleted); 'private' names the Credential ID
 * every executing member's own Private credential must have.
 */
export const toolkits = sqliteTable(
  'toolkits',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workspaceId: integer('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    type: text('type').notNull(),
    settingsJson: text('settings_json').notNull().default('{}'),
    credentialScope: text('credential_scope', { enum: CREDENTIAL_SCOPES }).notNull(),
    credentialId: text('credential_id').notNull(),
    credentialRowId: integer('credential_row_id').references(() => credentials.id, { onDelete: 'set null' }),
    /** Private-scope project toolkits only: the project credential members without their own run with
     *  (its ID kept for display; the row nulled when that credential is deleted). */
    fallbackCredentialId: text('fallback_credential_id'),
    fallbackRowId: integer('fallback_row_id').references(() => credentials.id, { onDelete: 'set null' }),
    createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [index('toolkits_workspace_idx').on(t.workspaceId), index('toolkits_cred_row_idx').on(t.credentialRowId)],
);

/**
 * Append-only audit log (triggers refuse UPDATE and DELETE). `hash` chains each event to the
 * previous one with an HMAC keyed by the audit key; actor and workspace are copied as text so
 * the record still reads right after a user or project is gone.
 */
export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    actorUserId: text('actor_user_id'),
    actor: text('actor'),
    workspaceId: integer('workspace_id'),
    workspace: text('workspace'),
    action: text('action').notNull(),
    target: text('target'),
    outcome: text('outcome').notNull(),
    detailsJson: text('details_json').notNull().default('{}'),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    index('audit_at_idx').on(t.at),
    index('audit_actor_idx').on(t.actorUserId, t.id),
    index('audit_workspace_idx').on(t.workspaceId, t.id),
    index('audit_action_idx').on(t.action, t.id),
    // A person's "you were added" notices, read on every page: every column it compares, so the
    // planner never walks the (far larger) success outcomes instead.
    index('audit_notice_idx').on(t.action, t.target, t.outcome, t.id),
    // Rare outcomes (failure, denied) and "any Private workspace" (the copied ref) would otherwise
    // walk the whole log to fill a page; see the driver choice in src/store/audit.ts.
    index('audit_outcome_idx').on(t.outcome, t.id),
    index('audit_workspace_ref_idx').on(t.workspace, t.id),
    // Each event names its predecessor's hash, so no two events share a prev_hash: a forked chain
    // (two appends that read the same last event) fails loudly instead of being written.
    uniqueIndex('audit_prev_hash_idx').on(t.prevHash),
  ],
);

/** Check values of the master keys this database has seen, so a wrong key refuses to start. */
export const masterKeys = sqliteTable('master_keys', {
  keyId: text('key_id').primaryKey(),
  check: text('check').notNull(),
  createdAt: integer('created_at').notNull().default(now),
});

/** Instance-wide data keys (the audit HMAC key), wrapped by the master key like a credential's. */
export const dataKeys = sqliteTable('data_keys', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  purpose: text('purpose').notNull().unique(),
  wrappedKey: blob('wrapped_key', { mode: 'buffer' }).notNull(),
  keyId: text('key_id').notNull(),
});

/**
 * OAuth apps an instance admin registered, so members can connect their own account at a service
 * (the OAuth client side, src/connect). The client secret is sealed like a credential's secrets.
 */
export const oauthApps = sqliteTable('oauth_apps', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  provider: text('provider').notNull(),
  clientId: text('client_id').notNull(),
  authorizeUrl: text('authorize_url').notNull(),
  tokenUrl: text('token_url').notNull(),
  scopes: text('scopes').notNull().default(''),
  baseUrl: text('base_url'),
  secretBlob: blob('secret_blob', { mode: 'buffer' }).notNull(),
  wrappedKey: blob('wrapped_key', { mode: 'buffer' }).notNull(),
  keyId: text('key_id').notNull(),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: integer('created_at').notNull().default(now),
});

/**
 * Connect flows in progress: `stateHash` is the SHA-256 of the `state` sent to the provider; a row
 * is deleted when its callback arrives (single use) and is good for 10 minutes.
 */
export const oauthClientStates = sqliteTable(
  'oauth_client_states',
  {
    stateHash: text('state_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    appName: text('app_name').notNull(),
    credentialId: text('credential_id').notNull(),
    codeVerifier: text('code_verifier').notNull(),
    returnTo: text('return_to').notNull(),
    reconnect: integer('reconnect', { mode: 'boolean' }).notNull().default(false),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('oauth_client_states_expires_idx').on(t.expiresAt)],
);

/**
 * OAuth clients of the authorization server (MCP clients). `clientId` is either one Latchkey
 * issued at registration (kind 'registered', RFC 7591) or the https URL of the client's metadata
 * document (kind 'metadata'), whose name and redirect URIs are refreshed at every authorization.
 */
export const oauthClients = sqliteTable('oauth_clients', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  clientId: text('client_id').notNull().unique(),
  kind: text('kind', { enum: OAUTH_CLIENT_KINDS }).notNull(),
  name: text('name').notNull(),
  redirectUrisJson: text('redirect_uris_json').notNull(),
  createdAt: integer('created_at').notNull().default(now),
  updatedAt: integer('updated_at').notNull().default(now),
});

/**
 * One person's consent for one client: every code and token hangs off a grant, so revoking it
 * (from Settings, by the client, or on a reused code or refresh token) ends them all at once.
 */
export const oauthGrants = sqliteTable(
  'oauth_grants',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    clientRowId: integer('client_row_id')
      .notNull()
      .references(() => oauthClients.id, { onDelete: 'cascade' }),
    /** The client's name when the person consented: what they agreed to is what Settings shows. */
    clientName: text('client_name').notNull(),
    redirectUri: text('redirect_uri').notNull(),
    resource: text('resource').notNull(),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('oauth_grants_user_idx').on(t.userId)],
);

/** Authorization codes, by SHA-256 only; single-use (`usedAt`) and short-lived. */
export const oauthCodes = sqliteTable(
  'oauth_codes',
  {
    codeHash: text('code_hash').primaryKey(),
    grantId: integer('grant_id')
      .notNull()
      .references(() => oauthGrants.id, { onDelete: 'cascade' }),
    codeChallenge: text('code_challenge').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [index('oauth_codes_grant_idx').on(t.grantId)],
);

/**
 * Access and refresh tokens, by SHA-256 only. A refresh token that was exchanged keeps its row
 * with `rotatedAt` set until it expires, so presenting it again is recognised as reuse.
 */
export const oauthTokens = sqliteTable(
  'oauth_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    grantId: integer('grant_id')
      .notNull()
      .references(() => oauthGrants.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: OAUTH_TOKEN_KINDS }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    /** The audience: `<origin>/mcp`. */
    resource: text('resource').notNull(),
    expiresAt: integer('expires_at').notNull(),
    rotatedAt: integer('rotated_at'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('oauth_tokens_grant_idx').on(t.grantId)],
);

/**
 * Failed sign-in and registration attempts, one row each (`key` names what is throttled, `at` in
 * ms), in the database so every instance counts the same attempts; old rows are pruned.
 */
export const authThrottle = sqliteTable(
  'auth_throttle',
  {
    key: text('key').notNull(),
    at: integer('at').notNull(),
  },
  // By key for a window's count; by time alone for the sweep of stale rows (src/store/throttle.ts).
  (t) => [index('auth_throttle_key_at_idx').on(t.key, t.at), index('auth_throttle_at_idx').on(t.at)],
);
