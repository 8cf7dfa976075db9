// What depends on one person in one project: what the offboarding pages and
// GET /api/v1/users/:username/dependencies list before an admin deactivates the person or removes
// them from the project. Pure: the store hands in the project's credentials and toolkits with
// their creators and each toolkit's ready members (found by memberStatus, the readiness rule).

/** A project credential, with who created it (null when that user is gone). */
export type DependencyCredential = { credentialId: string; name: string; createdBy: string | null };

/**
 * A project toolkit. `credentialCreatedBy`: for a project-scope toolkit, who created the project
 * credential it points at (null when deleted or its creator is gone). `fallbackCreatedBy`: for a
 * private-scope toolkit with a fallback, who created that project credential. `readyMembers`: the
 * members whose status for it is `ready` (for a private-scope toolkit, those with their own
 * matching credential or, with a fallback, everyone), leaving out deactivated members other than
 * the person asked about: they run nothing, so they keep nothing ready.
 */
export type DependencyToolkit = {
  id: number;
  name: string;
  createdBy: string | null;
  scope: 'project' | 'private';
  credentialCreatedBy: string | null;
  fallbackCreatedBy?: string | null;
  readyMembers: string[];
};

/** Why a toolkit would stop working for the team without this person. */
export type ReadyBecause = 'their_project_credential' | 'their_fallback_credential' | 'only_ready_member';

export type Dependencies = {
  credentials: { credentialId: string; name: string }[];
  toolkitsCreated: { id: number; name: string }[];
  onlyTheyMakeReady: { id: number; name: string; because: ReadyBecause }[];
};

/**
 * Returns what depends on `person` in one project:
 * - the project credentials they created (the account behind them is likely theirs);
 * - the toolkits they created (someone else should own their configuration);
 * - the toolkits that only their credential made ready, which is, for each toolkit:
 *   - project scope: it runs with a project credential they created
 *     (`their_project_credential`: every member's run acts as that account);
 *   - private scope with a fallback they created: members without their own run with it
 *     (`their_fallback_credential`);
 *   - private scope otherwise: they are the one and only ready member (`only_ready_member`:
 *     their own private credential, which nobody else can use, is all that makes it run).
 *   A private-scope toolkit that other members can also run, or that nobody can run, is not
 *   listed: removing this person changes nothing for the others.
 */
export function dependenciesOf(person: string, credentials: DependencyCredential[], toolkits: DependencyToolkit[]): Dependencies {
  const onlyTheyMakeReady: Dependencies['onlyTheyMakeReady'] = [];
  for (const t of toolkits) {
    const because = readyBecause(person, t);
    if (because) onlyTheyMakeReady.push({ id: t.id, name: t.name, because });
  }
  return {
    credentials: credentials.filter((c) => c.createdBy === person).map(({ credentialId, name }) => ({ credentialId, name })),
    toolkitsCreated: toolkits.filter((t) => t.createdBy === person).map(({ id, name }) => ({ id, name })),
    onlyTheyMakeReady,
  };
}

function readyBecause(person: string, t: DependencyToolkit): ReadyBecause | null {
  if (t.scope === 'project') return t.credentialCreatedBy === person ? 'their_project_credential' : null;
  if (t.fallbackCreatedBy && t.fallbackCreatedBy === person) return 'their_fallback_credential';
  return t.readyMembers.length === 1 && t.readyMembers[0] === person ? 'only_ready_member' : null;
}

/** True when nothing depends on the person in this project. */
export function isEmpty(d: Dependencies): boolean {
  return !d.credentials.length && !d.toolkitsCreated.length && !d.onlyTheyMakeReady.length;
}

/** The sentence for each reason, for the pages. */
export const READY_BECAUSE_TEXT: Record<ReadyBecause, string> = {
  their_project_credential: 'runs with a project credential they created',
  their_fallback_credential: 'members without their own credential run with a fallback they created',
  only_ready_member: 'they are the only member whose private credential makes it ready',
};
