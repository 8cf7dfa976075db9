// Users and their Private workspaces.
import { first, one } from './engine';
import { randomBytes } from 'node:crypto';
import { and, asc, count, eq, ne } from 'drizzle-orm';

import { appendAudit, type AuditActor } from './audit';
import { writeTx, type Store, type Tx } from './store';
import { revokeUserGrantsTx } from './oauth';

import type { users } from '../../db/schema';

export type UserRow = typeof users.$inferSelect;
import type { PublicUser, UserWithProjects } from '../domain/models';

export type { PublicUser, UserWithProjects };

function toPublic(u: UserRow): PublicUser {
  return { id: u.id, username: u.username, isAdmin: u.isAdmin, disabled: u.disabled, createdAt: u.createdAt };
}

export type CreateUserResult =
  | { ok: true; user: PublicUser }
  | { ok: false; reason: 'username_taken' | 'signup_closed' };

/**
 * Creates a user and their Private workspace in one transaction. The first user ever is made
 * instance admin; with `onlyIfFirst` (closed sign-up) a non-first user is refused.
 */
export async function createUser(
  store: Store,
  input: { username: string; passwordHash: string; isAdmin?: boolean; onlyIfFirst?: boolean },
  audit: { actor: AuditActor; action: 'user.signup' | 'user.create' },
): Promise<CreateUserResult> {
  const { users, workspaces } = store.t;
  return writeTx(store, async (tx) => {
    const total = first(await tx.select({ n: count() }).from(users))!.n;
    if (input.onlyIfFirst && total > 0) return { ok: false, reason: 'signup_closed' } as const;
    if (first(await tx.select({ id: users.id }).from(users).where(eq(users.username, input.username)))) {
      return { ok: false, reason: 'username_taken' } as const;
    }
    const id = randomBytes(12).toString('hex');
    const row = one(await tx
      .insert(users)
      .values({ id, username: input.username, passwordHash: input.passwordHash, isAdmin: total === 0 || !!input.isAdmin })
      .returning());
    await tx.insert(workspaces).values({ kind: 'private', name: 'Private', ownerUserId: id });
    await appendAudit(store, tx, {
      actor: audit.actor ?? { id, username: input.username },
      workspace: null,
      action: audit.action,
      target: `user:${input.username}`,
      details: { is_admin: row.isAdmin },
    });
    return { ok: true, user: toPublic(row) } as const;
  });
}

/** Returns the user with this username (passwordHash included, for sign-in), or undefined. */
export async function findUserForLogin(store: Store, username: string): Promise<UserRow | undefined> {
  const { users } = store.t;
  return first(await store.db.select().from(users).where(eq(users.username, username)));
}

/** Returns the user with this id, or undefined. */
export async function getUser(store: Store, id: string): Promise<PublicUser | undefined> {
  const { users } = store.t;
  const u = first(await store.db.select().from(users).where(eq(users.id, id)));
  return u ? toPublic(u) : undefined;
}

/** Returns every user, oldest first (instance admin pages). */
export async function listUsers(store: Store): Promise<PublicUser[]> {
  const { users } = store.t;
  return (await store.db.select().from(users).orderBy(asc(users.createdAt))).map(toPublic);
}

/** Returns true when at least one user exists (the first sign-up is always allowed). */
export async function hasAnyUser(store: Store): Promise<boolean> {
  const { users } = store.t;
  return !!first(await store.db.select({ id: users.id }).from(users).limit(1));
}

/** Returns the user with this username, or undefined. */
export async function findUserByUsername(store: Store, username: string): Promise<PublicUser | undefined> {
  const { users } = store.t;
  const u = first(await store.db.select().from(users).where(eq(users.username, username)));
  return u ? toPublic(u) : undefined;
}


/** Returns every user with the number of projects they belong to, oldest first (the Users page). */
export async function listUsersWithProjects(store: Store): Promise<UserWithProjects[]> {
  const { memberships, workspaces } = store.t;
  const counts = new Map(
    (await store.db
      .select({ userId: memberships.userId, n: count() })
      .from(memberships)
      .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
      .where(eq(workspaces.kind, 'project'))
      .groupBy(memberships.userId))
      .map((r) => [r.userId, r.n]),
  );
  return (await listUsers(store)).map((u) => ({ ...u, projects: counts.get(u.id) ?? 0 }));
}

/**
 * Sets a new password hash and ends every session of that user; false when no such user.
 * `action` tells a person's own change from an administrator's reset in the audit log.
 * With `revokeTokens`, the user's personal access tokens are deleted in the same transaction.
 */
export async function setPassword(
  store: Store,
  actor: AuditActor,
  username: string,
  passwordHash: string,
  action: 'user.password_change' | 'user.password_reset' = 'user.password_change',
  revokeTokens = false,
): Promise<boolean> {
  const { apiTokens, sessions, users } = store.t;
  return writeTx(store, async (tx) => {
    const u = first(await tx.select({ id: users.id }).from(users).where(eq(users.username, username)));
    if (!u) return false;
    await tx.update(users).set({ passwordHash }).where(eq(users.id, u.id));
    await tx.delete(sessions).where(eq(sessions.userId, u.id));
    const revoked = revokeTokens ? (await tx.delete(apiTokens).where(eq(apiTokens.userId, u.id)).returning({ id: apiTokens.id })).length : 0;
    await appendAudit(store, tx, { actor, workspace: null, action, target: `user:${username}`, ...(revokeTokens ? { details: { tokens_revoked: revoked } } : {}) });
    return true;
  });
}

export type UserChange = { ok: true; user: PublicUser } | { ok: false; reason: 'not_found' | 'last_admin' | 'self' };

/** True when `userId` is the only enabled instance admin (read inside the caller's transaction). */
async function isLastAdmin(store: Store, tx: Tx, userId: string): Promise<boolean> {
  const { users } = store.t;
  const others = first(await tx
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.isAdmin, true), eq(users.disabled, false), ne(users.id, userId))))!.n;
  return others === 0;
}

/**
 * Disables or enables a user; disabling ends their sessions, API tokens and OAuth grants at once.
 * The last enabled instance admin cannot be disabled, and nobody disables themselves.
 */
export async function setUserDisabled(store: Store, actor: AuditActor, userId: string, disabled: boolean): Promise<UserChange> {
  const { apiTokens, sessions, users } = store.t;
  return writeTx(store, async (tx) => {
    const u = first(await tx.select().from(users).where(eq(users.id, userId)));
    if (!u) return { ok: false, reason: 'not_found' } as const;
    if (disabled && u.isAdmin && !u.disabled && await isLastAdmin(store, tx, userId)) return { ok: false, reason: 'last_admin' } as const;
    if (disabled && actor?.id === userId) return { ok: false, reason: 'self' } as const;
    if (u.disabled === disabled) return { ok: true, user: toPublic(u) } as const;
    const row = one(await tx.update(users).set({ disabled }).where(eq(users.id, userId)).returning());
    // Everything that lets them in is deleted in this transaction, in the database every instance
    // reads at each request (no per-process cache): the next request of any of them is a 401.
    const ended = disabled
      ? {
          sessions_ended: (await tx.delete(sessions).where(eq(sessions.userId, userId)).returning({ id: sessions.id })).length,
          tokens_revoked: (await tx.delete(apiTokens).where(eq(apiTokens.userId, userId)).returning({ id: apiTokens.id })).length,
          oauth_grants_revoked: await revokeUserGrantsTx(store, tx, userId),
        }
      : null;
    await appendAudit(store, tx, { actor, workspace: null, action: disabled ? 'user.disable' : 'user.enable', target: `user:${u.username}`, ...(ended ? { details: ended } : {}) });
    return { ok: true, user: toPublic(row) } as const;
  });
}

/**
 * Grants or removes instance admin. Removing it ends that user's sessions; the last enabled
 * instance admin keeps it, and nobody removes their own.
 */
export async function setUserAdmin(store: Store, actor: AuditActor, userId: string, isAdmin: boolean): Promise<UserChange> {
  const { sessions, users } = store.t;
  return writeTx(store, async (tx) => {
    const u = first(await tx.select().from(users).where(eq(users.id, userId)));
    if (!u) return { ok: false, reason: 'not_found' } as const;
    if (!isAdmin && u.isAdmin && !u.disabled && await isLastAdmin(store, tx, userId)) return { ok: false, reason: 'last_admin' } as const;
    if (!isAdmin && actor?.id === userId) return { ok: false, reason: 'self' } as const;
    if (u.isAdmin === isAdmin) return { ok: true, user: toPublic(u) } as const;
    const row = one(await tx.update(users).set({ isAdmin }).where(eq(users.id, userId)).returning());
    if (!isAdmin) await tx.delete(sessions).where(eq(sessions.userId, userId));
    await appendAudit(store, tx, { actor, workspace: null, action: isAdmin ? 'user.admin_grant' : 'user.admin_revoke', target: `user:${u.username}` });
    return { ok: true, user: toPublic(row) } as const;
  });
}
