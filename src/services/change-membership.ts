// Projects and their members: creating a project, adding a member, changing a role, removing a
// member (the store ends a removed member's sessions and records each change). The pages and the
// API translate the typed results (messages: MEMBER_FAILURES in src/domain/failures.ts).
import { addMember, changeMemberRole, createProject as insertProject, removeMember } from '../store/workspaces';
import type { Member, ProjectSummary, Workspace } from '../domain/models';
import { canManageMembers } from '../domain/access';
import type { MEMBER_FAILURES } from '../domain/failures';
import { validateProjectName } from '../domain/names';
import type { Deps } from '../env';
import { z } from 'zod';
import { parseInput, requiredText, rule } from './input';
import { PROJECT_ROLES, type ProjectRole } from '../domain/access';


const ROLE_ERROR = 'Choose a role.';
const USERNAME_ERROR = 'Enter a username.';

/** The API's body to create a project. */
export const ProjectBody = z.object({ name: requiredText('Give the project a name.', 80).superRefine(rule(validateProjectName)) });

/** The API's body to add a member. */
export const MemberAddBody = z.object({
  username: requiredText(USERNAME_ERROR, 64).toLowerCase(),
  role: z.enum(PROJECT_ROLES as [ProjectRole, ...ProjectRole[]], { error: ROLE_ERROR }),
});

/** The API's body to change a member's role. */
export const MemberRoleBody = MemberAddBody.pick({ role: true });

type Actor = { id: string; username: string };

export type MembershipCommand = { op: 'add'; username: unknown; role: unknown } | { op: 'role'; username: unknown; role: unknown } | { op: 'remove'; username: unknown };

export type MembershipChange =
  | { ok: true; member: Member }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'forbidden' }
  | { ok: false; reason: 'invalid_input'; errors: Record<string, string> }
  | { ok: false; reason: keyof typeof MEMBER_FAILURES };


/** Adds a member, changes a member's role or removes a member of project `ws`, as `actor`. */
export async function changeMembership(deps: Deps, actor: Actor, ws: Workspace, cmd: MembershipCommand): Promise<MembershipChange> {
  if (ws.kind !== 'project') return { ok: false, reason: 'not_found' };
  if (!canManageMembers(ws.role)) return { ok: false, reason: 'forbidden' };
  const parsed =
    cmd.op === 'remove' ? parseInput(MemberAddBody.pick({ username: true }), { username: cmd.username }) : parseInput(MemberAddBody, { username: cmd.username, role: cmd.role });
  if (!parsed.ok) return { ok: false, reason: 'invalid_input', errors: parsed.errors };
  const { username } = parsed.data;
  const role = 'role' in parsed.data ? (parsed.data.role as ProjectRole) : null;
  if (cmd.op === 'add') return addMember(deps.store, actor, ws, username, role!);
  if (cmd.op === 'role') return changeMemberRole(deps.store, actor, ws, username, role!);
  return removeMember(deps.store, actor, ws, username);
}

export type ProjectCreation = { ok: true; project: ProjectSummary } | { ok: false; reason: 'invalid_input'; errors: { name: string } };

/** Creates a team project with `actor` as its admin. */
export async function createProject(deps: Deps, actor: Actor, name: unknown): Promise<ProjectCreation> {
  const parsed = parseInput(ProjectBody, { name });
  if (!parsed.ok) return { ok: false, reason: 'invalid_input', errors: { name: parsed.errors.name ?? 'Give the project a name.' } };
  const clean = parsed.data.name;
  return { ok: true, project: await insertProject(deps.store, actor, clean) };
}
