// The facts the offboarding rule (src/domain/dependencies.ts) reads, per project: the project's
// credentials and toolkits with their creators, and each toolkit's ready members. Names only,
// never a secret. Every query is scoped by the project's id.
import { and, asc, eq, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';

import { dependenciesOf, type Dependencies, type DependencyToolkit } from '../domain/dependencies';
import { memberStatus } from '../domain/resolution';
import { getToolkitType } from '../toolkits';
import type { Store } from './store';
import { memberCredentials } from './toolkits';
import type { Workspace } from '../domain/models';

export type ProjectDependencies = Dependencies & { workspace: string; name: string; role: string };

/** Returns what depends on `username` in project `ws` (a project the caller may manage). */
export async function projectDependencies(store: Store, ws: Pick<Workspace, 'id' | 'ref' | 'kind'>, username: string): Promise<Dependencies> {
  const { credentials, toolkits, users } = store.t;
  if (ws.kind !== 'project') return dependenciesOf(username, [], []);
  const creds = await store.db
    .select({ credentialId: credentials.credentialId, name: credentials.name, createdBy: users.username })
    .from(credentials)
    .leftJoin(users, eq(users.id, credentials.createdBy))
    .where(eq(credentials.workspaceId, ws.id))
    .orderBy(asc(sql`lower(${credentials.name})`));
  const toolkitCreator = alias(users, 'toolkit_creator');
  const credCreator = alias(users, 'cred_creator');
  const fallbackCred = alias(credentials, 'fallback_cred');
  const fallbackCreator = alias(users, 'fallback_creator');
  const rows = await store.db
    .select({
      id: toolkits.id,
      name: toolkits.name,
      type: toolkits.type,
      scope: toolkits.credentialScope,
      credentialId: toolkits.credentialId,
      createdBy: toolkitCreator.username,
      credentialCreatedBy: credCreator.username,
      fallbackRowId: fallbackCred.id,
      fallbackCid: fallbackCred.credentialId,
      fallbackName: fallbackCred.name,
      fallbackType: fallbackCred.type,
      fallbackExpiresAt: fallbackCred.expiresAt,
      fallbackCreatedBy: fallbackCreator.username,
    })
    .from(toolkits)
    .leftJoin(toolkitCreator, eq(toolkitCreator.id, toolkits.createdBy))
    .leftJoin(credentials, and(eq(credentials.id, toolkits.credentialRowId), eq(credentials.workspaceId, ws.id)))
    .leftJoin(credCreator, eq(credCreator.id, credentials.createdBy))
    .leftJoin(fallbackCred, and(eq(fallbackCred.id, toolkits.fallbackRowId), eq(fallbackCred.workspaceId, ws.id)))
    .leftJoin(fallbackCreator, eq(fallbackCreator.id, fallbackCred.createdBy))
    .where(eq(toolkits.workspaceId, ws.id))
    .orderBy(asc(sql`lower(${toolkits.name})`), asc(toolkits.id));
  // Each member's own credential per Credential ID, looked up once per ID.
  const byCid = new Map<string, Awaited<ReturnType<typeof memberCredentials>>>();
  const list: DependencyToolkit[] = [];
  for (const r of rows) {
    // A project-scope toolkit depends on who created its credential, not on who is ready.
    let readyMembers: string[] = [];
    const fallback = r.fallbackRowId ? { rowId: r.fallbackRowId, credentialId: r.fallbackCid!, name: r.fallbackName!, type: r.fallbackType!, expiresAt: r.fallbackExpiresAt } : null;
    if (r.scope === 'private') {
      const accepted = getToolkitType(r.type)?.credentialTypes ?? [];
      const ref = { scope: r.scope, credentialId: r.credentialId, fallback: fallback ? { credentialId: fallback.credentialId } : null };
      if (!byCid.has(r.credentialId)) byCid.set(r.credentialId, await memberCredentials(store, ws, r.credentialId));
      // A deactivated member is nobody's safety net: they cannot run anything, so they never count
      // as another ready member (the person being offboarded counts, deactivated or not).
      readyMembers = byCid
        .get(r.credentialId)!
        .filter((m) => !m.disabled || m.username === username)
        .filter((m) => memberStatus(ref, accepted, { privateCredential: m.credential, fallbackCredential: fallback }, store.clock.now()) === 'ready')
        .map((m) => m.username);
    }
    list.push({
      id: r.id,
      name: r.name,
      createdBy: r.createdBy,
      scope: r.scope,
      credentialCreatedBy: r.scope === 'project' ? r.credentialCreatedBy : null,
      fallbackCreatedBy: r.scope === 'private' && fallback ? r.fallbackCreatedBy : null,
      readyMembers,
    });
  }
  return dependenciesOf(username, creds, list);
}

/** Returns what depends on the user in each project they belong to, by project name. */
export async function userDependencies(store: Store, user: { id: string; username: string }): Promise<ProjectDependencies[]> {
  const { memberships, workspaces } = store.t;
  const projects = await store.db
    .select({ id: workspaces.id, slug: workspaces.slug, name: workspaces.name, role: memberships.role })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(and(eq(memberships.userId, user.id), eq(workspaces.kind, 'project')))
    .orderBy(asc(workspaces.name));
  const out: ProjectDependencies[] = [];
  for (const p of projects) {
    const d = await projectDependencies(store, { id: p.id, ref: p.slug!, kind: 'project' }, user.username);
    out.push({ workspace: p.slug!, name: p.name, role: p.role, ...d });
  }
  return out;
}
