// Workspaces (each user's Private one and team projects) and project membership.
import { first, one } from './engine';
import { and, asc, count, eq, inArray, like, sql } from 'drizzle-orm';

import type { ProjectRole } from '../domain/access';
import { pickFreeSlug, slugFromName } from '../domain/names';
import { appendAudit, type AuditActor } from './audit';
import { prepared } from './prepared';
import { writeTx, type Store, type Tx } from './store';

import type { Member, ProjectSummary, Workspace } from '../domain/models';

export type { Member, ProjectSummary, Workspace };

/** Returns the caller's Private workspace. */
export async function getPrivateWorkspace(store: Store, userId: string): Promise<Workspace> {
  const { workspaces } = store.t;
  const w = one(await prepared(store, 'privateWorkspace', () =>
    store.db.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.ownerUserId, sql.placeholder('userId')))
  )({ userId }));
  if (!w) throw new Error('user has no Private workspace');
  return { id: w.id, kind: 'private', ref: 'private', name: 'Private', role: 'owner', ownerUserId: userId };
}

/**
 * Returns the workspace `ref` names ('private' or a slug) if the user may see it, else null.
 * Membership is checked in the same query, so a project the user is not in looks absent.
 */
export async function findWorkspace(store: Store, userId: string, ref: string): Promise<Workspace | null> {
  const { memberships, workspaces } = store.t;
  if (ref === 'private') return getPrivateWorkspace(store, userId);
  const row = first(await prepared(store, 'projectForMember', () =>
    store.db
      .select({ id: workspaces.id, slug: workspaces.slug, name: workspaces.name, role: memberships.role })
      .from(workspaces)
      .innerJoin(memberships, and(eq(memberships.workspaceId, workspaces.id), eq(memberships.userId, sql.placeholder('userId'))))
      .where(and(eq(workspaces.slug, sql.placeholder('slug')), eq(workspaces.kind, 'project')))
      
  )({ userId, slug: ref }));
  return row ? { id: row.id, kind: 'project', ref: row.slug!, name: row.name, role: row.role, ownerUserId: null } : null;
}

/** Returns the projects the user belongs to, by name. */
export async function listProjects(store: Store, userId: string): Promise<ProjectSummary[]> {
  const { memberships, workspaces } = store.t;
  return (await prepared(store, 'projectsOfUser', () =>
    store.db
      .select({ id: workspaces.id, slug: workspaces.slug, name: workspaces.name, role: memberships.role })
      .from(memberships)
      .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
      .where(eq(memberships.userId, sql.placeholder('userId')))
      .orderBy(asc(workspaces.name))
      
  )({ userId })) as ProjectSummary[];
}

/** Returns the admins' usernames of each of these projects, by project id (alphabetical). */
export async function projectAdmins(store: Store, projectIds: number[]): Promise<Map<number, string[]>> {
  const { memberships, users } = store.t;
  const admins = new Map<number, string[]>();
  if (!projectIds.length) return admins;
  const rows = await store.db
    .select({ workspaceId: memberships.workspaceId, username: users.username })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(inArray(memberships.workspaceId, projectIds), eq(memberships.role, 'admin')))
    .orderBy(asc(users.username));
  for (const r of rows) admins.set(r.workspaceId, [...(admins.get(r.workspaceId) ?? []), r.username]);
  return admins;
}

/** Creates a project with the creator as its admin; returns it with its new slug. */
export async function createProject(store: Store, actor: { id: string; username: string }, name: string): Promise<ProjectSummary> {
  const { memberships, workspaces } = store.t;
  return writeTx(store, async (tx) => {
    const base = slugFromName(name);
    const taken = new Set((await tx.select({ slug: workspaces.slug }).from(workspaces).where(like(workspaces.slug, `${base}%`))).map((r) => r.slug));
    const slug = pickFreeSlug(base, (s) => taken.has(s));
    const w = one(await tx.insert(workspaces).values({ kind: 'project', slug, name }).returning());
    await tx.insert(memberships).values({ workspaceId: w.id, userId: actor.id, role: 'admin' });
    await appendAudit(store, tx, { actor, workspace: { id: w.id, ref: slug }, action: 'project.create', target: `project:${slug}`, details: { name } });
    return { id: w.id, slug, name, role: 'admin' as const };
  });
}


/** Returns the members of a project the caller already has access to, by username. */
export async function listMembers(store: Store, ws: Workspace): Promise<Member[]> {
  const { memberships, users } = store.t;
  if (ws.kind !== 'project') return [];
  return await store.db
    .select({ userId: users.id, username: users.username, role: memberships.role, since: memberships.createdAt })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.workspaceId, ws.id))
    .orderBy(asc(users.username));
}

export type MemberChange =
  | { ok: true; member: Member }
  | { ok: false; reason: 'no_such_user' | 'already_member' | 'not_member' | 'last_admin' };

/** Adds an existing user to the project with a role. */
export async function addMember(store: Store, actor: AuditActor, ws: Workspace, username: string, role: ProjectRole): Promise<MemberChange> {
  const { memberships, users } = store.t;
  return writeTx(store, async (tx) => {
    const u = first(await tx.select().from(users).where(eq(users.username, username)));
    if (!u || u.disabled) return { ok: false, reason: 'no_such_user' } as const;
    const existing = first(await tx.select().from(memberships).where(and(eq(memberships.workspaceId, ws.id), eq(memberships.userId, u.id))));
    if (existing) return { ok: false, reason: 'already_member' } as const;
    const m = one(await tx.insert(memberships).values({ workspaceId: ws.id, userId: u.id, role }).returning());
    await appendAudit(store, tx, { actor, workspace: { id: ws.id, ref: ws.ref }, action: 'member.add', target: `user:${username}`, details: { role } });
    return { ok: true, member: { userId: u.id, username, role, since: m.createdAt } } as const;
  });
}

async function adminCount(store: Store, tx: Tx, workspaceId: number): Promise<number> {
  const { memberships } = store.t;
  return first(await tx
    .select({ n: count() })
    .from(memberships)
    .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.role, 'admin'))))!.n;
}

async function findMembership(store: Store, tx: Tx, ws: Workspace, username: string) {
  const { memberships, users } = store.t;
  return first(await tx
    .select({ userId: users.id, role: memberships.role, since: memberships.createdAt })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.workspaceId, ws.id), eq(users.username, username))));
}

/** Changes a member's role; the last admin cannot be demoted. */
export async function changeMemberRole(store: Store, actor: AuditActor, ws: Workspace, username: string, role: ProjectRole): Promise<MemberChange> {
  const { memberships } = store.t;
  return writeTx(store, async (tx) => {
    const row = await findMembership(store, tx, ws, username);
    if (!row) return { ok: false, reason: 'not_member' } as const;
    if (row.role === 'admin' && role !== 'admin' && await adminCount(store, tx, ws.id) <= 1) return { ok: false, reason: 'last_admin' } as const;
    if (row.role !== role) {
      await tx.update(memberships).set({ role }).where(and(eq(memberships.workspaceId, ws.id), eq(memberships.userId, row.userId)));
      await appendAudit(store, tx, {
        actor,
        workspace: { id: ws.id, ref: ws.ref },
        action: 'member.role_change',
        target: `user:${username}`,
        details: { from: row.role, to: role },
      });
    }
    return { ok: true, member: { userId: row.userId, username, role, since: row.since } } as const;
  });
}

/** Removes a member; the last admin cannot be removed. */
export async function removeMember(store: Store, actor: AuditActor, ws: Workspace, username: string): Promise<MemberChange> {
  const { memberships, sessions } = store.t;
  return writeTx(store, async (tx) => {
    const row = await findMembership(store, tx, ws, username);
    if (!row) return { ok: false, reason: 'not_member' } as const;
    if (row.role === 'admin' && await adminCount(store, tx, ws.id) <= 1) return { ok: false, reason: 'last_admin' } as const;
    await tx.delete(memberships).where(and(eq(memberships.workspaceId, ws.id), eq(memberships.userId, row.userId)));
    // A removed role ends the person's sessions (SECURITY.md), so nothing they had open keeps
    // showing the project; leaving a project yourself keeps you signed in.
    const endSessions = actor?.id !== row.userId;
    if (endSessions) await tx.delete(sessions).where(eq(sessions.userId, row.userId));
    await appendAudit(store, tx, { actor, workspace: { id: ws.id, ref: ws.ref }, action: 'member.remove', target: `user:${username}`, details: { role: row.role, sessions_ended: endSessions } });
    return { ok: true, member: { userId: row.userId, username, role: row.role, since: row.since } } as const;
  });
}
