// The offboarding rule as a table: what depends on one person ("bob") in one project, given the
// project's credentials and toolkits with their creators and ready members (dependenciesOf).
import { describe, expect, it } from 'vitest';
import { dependenciesOf, isEmpty, type DependencyCredential, type DependencyToolkit, type ReadyBecause } from '../../src/domain/dependencies';

const toolkit = (id: number, over: Partial<DependencyToolkit>): DependencyToolkit => ({
  id,
  name: `T${id}`,
  createdBy: 'alice',
  scope: 'private',
  credentialCreatedBy: null,
  readyMembers: [],
  ...over,
});

type Case = { name: string; toolkit: DependencyToolkit; because: ReadyBecause | null; created?: boolean };

const cases: Case[] = [
  // Project scope: every member's run acts as the account behind the project credential.
  { name: 'project scope, credential bob created', toolkit: toolkit(1, { scope: 'project', credentialCreatedBy: 'bob' }), because: 'their_project_credential' },
  { name: 'project scope, credential alice created', toolkit: toolkit(2, { scope: 'project', credentialCreatedBy: 'alice' }), because: null },
  { name: 'project scope, credential deleted', toolkit: toolkit(3, { scope: 'project', credentialCreatedBy: null }), because: null },
  // Private scope: each member runs with their own; only bob being ready makes it depend on him.
  { name: 'private scope, bob the only ready member', toolkit: toolkit(4, { readyMembers: ['bob'] }), because: 'only_ready_member' },
  { name: 'private scope, bob and carol ready', toolkit: toolkit(5, { readyMembers: ['bob', 'carol'] }), because: null },
  { name: 'private scope, only carol ready', toolkit: toolkit(6, { readyMembers: ['carol'] }), because: null },
  { name: 'private scope, nobody ready', toolkit: toolkit(7, { readyMembers: [] }), because: null },
  // A fallback bob created serves everyone without their own, even when others are ready.
  { name: 'private scope, fallback bob created', toolkit: toolkit(8, { readyMembers: ['bob', 'carol'], fallbackCreatedBy: 'bob' }), because: 'their_fallback_credential' },
  { name: 'private scope, fallback alice created, bob only own', toolkit: toolkit(9, { readyMembers: ['bob'], fallbackCreatedBy: 'alice' }), because: 'only_ready_member' },
  // Created by bob: listed as created, whatever its readiness.
  { name: 'created by bob, others ready', toolkit: toolkit(10, { createdBy: 'bob', readyMembers: ['alice', 'bob'] }), because: null, created: true },
  { name: 'created by a deleted user', toolkit: toolkit(11, { createdBy: null, readyMembers: ['alice'] }), because: null },
];

describe('dependenciesOf (offboarding)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const d = dependenciesOf('bob', [], [c.toolkit]);
      expect(d.onlyTheyMakeReady).toEqual(c.because ? [{ id: c.toolkit.id, name: c.toolkit.name, because: c.because }] : []);
      expect(d.toolkitsCreated).toEqual(c.created ? [{ id: c.toolkit.id, name: c.toolkit.name }] : []);
    });
  }

  it('lists the project credentials bob created, and only those', () => {
    const creds: DependencyCredential[] = [
      { credentialId: 'team_github', name: 'Team GitHub', createdBy: 'bob' },
      { credentialId: 'jira', name: 'Jira', createdBy: 'alice' },
      { credentialId: 'orphan', name: 'Orphan', createdBy: null },
    ];
    const d = dependenciesOf('bob', creds, []);
    expect(d.credentials).toEqual([{ credentialId: 'team_github', name: 'Team GitHub' }]);
    expect(isEmpty(d)).toBe(false);
    expect(isEmpty(dependenciesOf('dave', creds, cases.map((c) => c.toolkit)))).toBe(true);
  });
});
