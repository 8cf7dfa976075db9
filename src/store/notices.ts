// The notices a person sees on their next page view: who added them to which project, read from
// the audit log's member.add events after the last one they dismissed.
import { first } from './engine';
import { and, desc, eq, gt, gte, sql } from 'drizzle-orm';

import { writeTx, type Store } from './store';

export type MembershipNotice = { id: number; actor: string | null; projectRef: string; role: string };

/** Returns the member.add events naming this user that they have not dismissed, newest first (at most 20). */
export async function listMembershipNotices(store: Store, userId: string): Promise<MembershipNotice[]> {
  const { users } = store.t;
  const u = first(await store.db.select({ username: users.username, createdAt: users.createdAt, seen: users.noticesSeenId }).from(users).where(eq(users.id, userId)));
  if (!u) return [];
  const rows = await membershipNoticesQuery(store, u);
  return rows.map((r) => ({ id: r.id, actor: r.actor, projectRef: r.workspace ?? '', role: roleOf(r.detailsJson) }));
}

/**
 * The notices' query (read on every page, so it must seek `audit_notice_idx`, never walk the log:
 * test/unit/query-plans.test.ts). Events from before the account existed name an earlier holder
 * of the same username.
 */
export function membershipNoticesQuery(store: Store, u: { username: string; createdAt: number; seen: number }) {
  const { auditEvents } = store.t;
  return store.db
    .select({ id: auditEvents.id, actor: auditEvents.actor, workspace: auditEvents.workspace, detailsJson: auditEvents.detailsJson })
    .from(auditEvents)
    .where(and(eq(auditEvents.action, 'member.add'), eq(auditEvents.target, `user:${u.username}`), eq(auditEvents.outcome, 'success'), gt(auditEvents.id, u.seen), gte(auditEvents.at, u.createdAt)))
    .orderBy(desc(auditEvents.id))
    .limit(20);
}

function roleOf(detailsJson: string): string {
  try {
    const role = (JSON.parse(detailsJson) as { role?: unknown }).role;
    return typeof role === 'string' ? role : 'member';
  } catch {
    return 'member';
  }
}

/** Marks the user's notices up to this audit event as seen (never moving back). */
export async function dismissNotices(store: Store, userId: string, throughId: number): Promise<void> {
  const { users } = store.t;
  await writeTx(store, async (tx) => {
    await tx.update(users).set({ noticesSeenId: sql`CASE WHEN ${users.noticesSeenId} > ${throughId} THEN ${users.noticesSeenId} ELSE ${throughId} END` }).where(eq(users.id, userId));
  });
}
