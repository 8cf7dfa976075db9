// Offboarding a person: what depends on them (before an admin acts) and deactivation. The Users
// page, the JSON API and the CLI all call these, so a deactivation ends the same things and is
// recorded the same way wherever it starts (messages: USER_FAILURES in src/domain/failures.ts).
import type { USER_FAILURES } from '../domain/failures';
import type { PublicUser } from '../domain/models';
import { normalizeUsername } from '../domain/names';
import type { Deps } from '../env';
import { userDependencies, type ProjectDependencies } from '../store/dependencies';
import { findUserByUsername, setUserDisabled } from '../store/users';

/** Who acts: a signed-in person (must be an instance admin), or null for the operator's CLI. */
export type OffboardActor = { id: string; username: string; isAdmin: boolean } | null;

export type UserFailure = { ok: false; reason: keyof typeof USER_FAILURES };

/** Finds the target user for an instance admin (or the CLI). */
async function target(deps: Pick<Deps, 'store'>, actor: OffboardActor, username: unknown): Promise<{ ok: true; user: PublicUser } | UserFailure> {
  if (actor && !actor.isAdmin) return { ok: false, reason: 'forbidden' };
  const user = await findUserByUsername(deps.store, normalizeUsername(username));
  return user ? { ok: true, user } : { ok: false, reason: 'not_found' };
}

/** Returns what depends on the user in each of their projects (instance admins). */
export async function dependenciesOfUser(
  deps: Pick<Deps, 'store'>,
  actor: OffboardActor,
  username: unknown,
): Promise<{ ok: true; user: PublicUser; projects: ProjectDependencies[] } | UserFailure> {
  const t = await target(deps, actor, username);
  if (!t.ok) return t;
  return { ok: true, user: t.user, projects: await userDependencies(deps.store, t.user) };
}

/**
 * Deactivates a user: their sessions, personal access tokens and OAuth grants end in the same
 * transaction (the next request with any of them is a 401); their private credentials stay theirs
 * and unusable by anyone (resolution only ever reads the executing user's own). Idempotent.
 */
export async function deactivateUser(deps: Pick<Deps, 'store'>, actor: OffboardActor, username: unknown): Promise<{ ok: true; user: PublicUser } | UserFailure> {
  const t = await target(deps, actor, username);
  if (!t.ok) return t;
  const r = await setUserDisabled(deps.store, actor && { id: actor.id, username: actor.username }, t.user.id, true);
  return r.ok ? r : { ok: false, reason: r.reason };
}
