// Resolution as a table: which credential a toolkit run uses for one executing member
// (resolveCredential), the status word the pages and the API show (statusOf), and which of the
// member's own credentials look meant for the toolkit under another ID (findNearMisses).
import { describe, expect, it } from 'vitest';
import { findNearMisses, resolveCredential, statusOf, type Candidate, type Found, type Resolution, type ToolkitCredential } from '../../src/domain/resolution';

/** The app clock of every case: 2026-12-01 12:00 UTC. */
const NOW = Date.parse('2026-12-01T12:00:00Z');
const DAY = 24 * 60 * 60 * 1000;

const GITHUB = ['github'];
const HTTP = ['http_bearer', 'http_basic', 'http_header'];

let nextRow = 1;
function cred(credentialId: string, type: string, name = credentialId, expiresAt: number | null = null): Candidate {
  return { rowId: nextRow++, credentialId, name, type, expiresAt };
}

const project = (credentialId: string): ToolkitCredential => ({ scope: 'project', credentialId });
const privateRef = (credentialId: string): ToolkitCredential => ({ scope: 'private', credentialId });
const withFallback = (credentialId: string, fallback: string): ToolkitCredential => ({ scope: 'private', credentialId, fallback: { credentialId: fallback } });

const teamGithub = cred('team_github', 'github', 'Team GitHub');
const teamGitlab = cred('team_github', 'gitlab', 'Team GitLab under a GitHub-looking ID');
const mine = cred('github_token', 'github', 'My GitHub token');
const mineAsGitlab = cred('github_token', 'gitlab', 'GitLab saved under the GitHub ID');
const bearer = cred('api_key', 'http_bearer');
const basic = cred('api_key', 'http_basic');
const header = cred('api_key', 'http_header');
const slackForHttp = cred('api_key', 'slack');
const teamFallback = cred('team_github', 'github', 'Team GitHub (fallback)');
const teamFallbackGitlab = cred('team_gitlab', 'gitlab', 'Team GitLab');
const mineExpired = cred('github_token', 'github', 'My expired token', NOW - DAY);
const mineExpiringNow = cred('github_token', 'github', 'Expires this very moment', NOW);
const mineSoon = cred('github_token', 'github', 'Expires in two days', NOW + 2 * DAY);
const teamExpired = cred('team_github', 'github', 'Expired team token', NOW - 1000);
const setupRequired = (credentialId: string): Resolution => ({ ok: false, reason: 'setup_required', credentialId, credentialType: 'github', acceptedTypes: GITHUB });

type Case = {
  name: string;
  ref: ToolkitCredential;
  accepted: string[];
  found: Found;
  expected: Resolution;
  status: ReturnType<typeof statusOf>;
};

const cases: Case[] = [
  // Project scope: the toolkit points at one row of the project.
  { name: 'project: found', ref: project('team_github'), accepted: GITHUB, found: { projectCredential: teamGithub }, expected: { ok: true, scope: 'project', credential: teamGithub }, status: 'ready' },
  { name: 'project: deleted (row gone)', ref: project('team_github'), accepted: GITHUB, found: { projectCredential: null }, expected: { ok: false, reason: 'credential_missing', credentialId: 'team_github' }, status: 'credential_missing' },
  { name: 'project: nothing looked up', ref: project('team_github'), accepted: GITHUB, found: {}, expected: { ok: false, reason: 'credential_missing', credentialId: 'team_github' }, status: 'credential_missing' },
  {
    name: 'project: wrong type',
    ref: project('team_github'),
    accepted: GITHUB,
    found: { projectCredential: teamGitlab },
    expected: { ok: false, reason: 'type_mismatch', credentialId: 'team_github', expectedType: 'github', actualType: 'gitlab', acceptedTypes: GITHUB },
    status: 'type_mismatch',
  },
  {
    name: 'project: a private credential with the same ID is ignored',
    ref: project('github_token'),
    accepted: GITHUB,
    found: { projectCredential: null, privateCredential: mine },
    expected: { ok: false, reason: 'credential_missing', credentialId: 'github_token' },
    status: 'credential_missing',
  },
  // Private scope: the executing member's own credential with the agreed ID.
  { name: 'private: found', ref: privateRef('github_token'), accepted: GITHUB, found: { privateCredential: mine }, expected: { ok: true, scope: 'private', credential: mine, runsWith: 'own' }, status: 'ready' },
  {
    name: 'private: missing',
    ref: privateRef('github_token'),
    accepted: GITHUB,
    found: { privateCredential: null },
    expected: { ok: false, reason: 'setup_required', credentialId: 'github_token', credentialType: 'github', acceptedTypes: GITHUB },
    status: 'setup_required',
  },
  {
    name: 'private: a project credential does not stand in for a missing private one',
    ref: privateRef('github_token'),
    accepted: GITHUB,
    found: { projectCredential: cred('github_token', 'github'), privateCredential: null },
    expected: { ok: false, reason: 'setup_required', credentialId: 'github_token', credentialType: 'github', acceptedTypes: GITHUB },
    status: 'setup_required',
  },
  {
    name: 'private: wrong type',
    ref: privateRef('github_token'),
    accepted: GITHUB,
    found: { privateCredential: mineAsGitlab },
    expected: { ok: false, reason: 'type_mismatch', credentialId: 'github_token', expectedType: 'github', actualType: 'gitlab', acceptedTypes: GITHUB },
    status: 'type_mismatch',
  },
  {
    name: 'private, http toolkit: missing names the first accepted type',
    ref: privateRef('api_key'),
    accepted: HTTP,
    found: { privateCredential: null },
    expected: { ok: false, reason: 'setup_required', credentialId: 'api_key', credentialType: 'http_bearer', acceptedTypes: HTTP },
    status: 'setup_required',
  },
  { name: 'private, http toolkit: http_bearer accepted', ref: privateRef('api_key'), accepted: HTTP, found: { privateCredential: bearer }, expected: { ok: true, scope: 'private', credential: bearer, runsWith: 'own' }, status: 'ready' },
  { name: 'private, http toolkit: http_basic (second type) accepted', ref: privateRef('api_key'), accepted: HTTP, found: { privateCredential: basic }, expected: { ok: true, scope: 'private', credential: basic, runsWith: 'own' }, status: 'ready' },
  { name: 'private, http toolkit: http_header (third type) accepted', ref: privateRef('api_key'), accepted: HTTP, found: { privateCredential: header }, expected: { ok: true, scope: 'private', credential: header, runsWith: 'own' }, status: 'ready' },
  {
    name: 'private, http toolkit: a slack credential is a mismatch against the first type',
    ref: privateRef('api_key'),
    accepted: HTTP,
    found: { privateCredential: slackForHttp },
    expected: { ok: false, reason: 'type_mismatch', credentialId: 'api_key', expectedType: 'http_bearer', actualType: 'slack', acceptedTypes: HTTP },
    status: 'type_mismatch',
  },

  // Expiry, on the app clock: an expired credential fails closed, whoever owns it.
  { name: 'private: expired', ref: privateRef('github_token'), accepted: GITHUB, found: { privateCredential: mineExpired }, expected: { ok: false, reason: 'expired', credentialId: 'github_token', expiresAt: NOW - DAY }, status: 'expired' },
  { name: 'private: expiring at this very moment counts as expired', ref: privateRef('github_token'), accepted: GITHUB, found: { privateCredential: mineExpiringNow }, expected: { ok: false, reason: 'expired', credentialId: 'github_token', expiresAt: NOW }, status: 'expired' },
  { name: 'private: expiring soon still runs', ref: privateRef('github_token'), accepted: GITHUB, found: { privateCredential: mineSoon }, expected: { ok: true, scope: 'private', credential: mineSoon, runsWith: 'own' }, status: 'ready' },
  { name: 'project: expired', ref: project('team_github'), accepted: GITHUB, found: { projectCredential: teamExpired }, expected: { ok: false, reason: 'expired', credentialId: 'team_github', expiresAt: NOW - 1000 }, status: 'expired' },

  // Fallback: only for members with no credential of their own under the toolkit's ID.
  {
    name: 'fallback: own credential wins over the fallback',
    ref: withFallback('github_token', 'team_github'),
    accepted: GITHUB,
    found: { privateCredential: mine, fallbackCredential: teamFallback },
    expected: { ok: true, scope: 'private', credential: mine, runsWith: 'own' },
    status: 'ready',
  },
  {
    name: 'fallback: no own credential → runs with the project fallback',
    ref: withFallback('github_token', 'team_github'),
    accepted: GITHUB,
    found: { privateCredential: null, fallbackCredential: teamFallback },
    expected: { ok: true, scope: 'project', credential: teamFallback, runsWith: 'fallback' },
    status: 'ready',
  },
  {
    name: 'fallback: own credential expired → credential_expired, never the fallback (fails closed: the member meant to act as themselves)',
    ref: withFallback('github_token', 'team_github'),
    accepted: GITHUB,
    found: { privateCredential: mineExpired, fallbackCredential: teamFallback },
    expected: { ok: false, reason: 'expired', credentialId: 'github_token', expiresAt: NOW - DAY },
    status: 'expired',
  },
  {
    name: 'fallback: own credential of the wrong type → type_mismatch, never the fallback',
    ref: withFallback('github_token', 'team_github'),
    accepted: GITHUB,
    found: { privateCredential: mineAsGitlab, fallbackCredential: teamFallback },
    expected: { ok: false, reason: 'type_mismatch', credentialId: 'github_token', expectedType: 'github', actualType: 'gitlab', acceptedTypes: GITHUB },
    status: 'type_mismatch',
  },
  {
    name: 'fallback deleted: setup_required naming the private ID (the member can fix it)',
    ref: withFallback('github_token', 'team_github'),
    accepted: GITHUB,
    found: { privateCredential: null, fallbackCredential: null },
    expected: setupRequired('github_token'),
    status: 'setup_required',
  },
  {
    name: 'fallback row handed in but the toolkit has none: ignored',
    ref: privateRef('github_token'),
    accepted: GITHUB,
    found: { privateCredential: null, fallbackCredential: teamFallback },
    expected: setupRequired('github_token'),
    status: 'setup_required',
  },
  {
    name: 'fallback of a type the toolkit does not accept: type_mismatch naming the fallback',
    ref: withFallback('github_token', 'team_gitlab'),
    accepted: GITHUB,
    found: { privateCredential: null, fallbackCredential: teamFallbackGitlab },
    expected: { ok: false, reason: 'type_mismatch', credentialId: 'team_gitlab', expectedType: 'github', actualType: 'gitlab', acceptedTypes: GITHUB },
    status: 'type_mismatch',
  },
  {
    name: 'fallback expired: credential_expired naming the fallback',
    ref: withFallback('github_token', 'team_github'),
    accepted: GITHUB,
    found: { privateCredential: null, fallbackCredential: teamExpired },
    expected: { ok: false, reason: 'expired', credentialId: 'team_github', expiresAt: NOW - 1000 },
    status: 'expired',
  },
  {
    name: 'fallback on a project-scope toolkit is never consulted',
    ref: { scope: 'project', credentialId: 'team_github', fallback: { credentialId: 'other' } },
    accepted: GITHUB,
    found: { projectCredential: null, fallbackCredential: teamFallback },
    expected: { ok: false, reason: 'credential_missing', credentialId: 'team_github' },
    status: 'credential_missing',
  },
];

describe('resolveCredential and statusOf', () => {
  it.each(cases)('$name → $status', ({ ref, accepted, found, expected, status }) => {
    const r = resolveCredential(ref, accepted, found, NOW);
    expect(r).toEqual(expected);
    expect(statusOf(r)).toBe(status);
  });
});

type NearMissCase = { name: string; required: string; accepted: string[]; own: Candidate[]; offered: string[] };

const suffixed = cred('github_team_access_2', 'github', 'GitHub team access (new laptop)');
const namedRight = cred('gh_pat', 'github', 'GitHub Team Access');
const unrelated = cred('jira_cloud', 'github', 'Something else');
const wrongTypeSuffix = cred('github_team_access_old', 'gitlab', 'GitLab');
const wrongTypeName = cred('glpat', 'jira', 'GitHub Team Access');
const exact = cred('github_team_access', 'github', 'GitHub team access');
const httpVariant = cred('api_key_2', 'http_basic', 'Internal API (basic)');

const nearMissCases: NearMissCase[] = [
  { name: 'an ID with a _2 suffix is offered', required: 'github_team_access', accepted: GITHUB, own: [suffixed], offered: ['github_team_access_2'] },
  { name: 'a credential whose name makes the required ID is offered', required: 'github_team_access', accepted: GITHUB, own: [namedRight], offered: ['gh_pat'] },
  { name: 'an unrelated ID is not offered', required: 'github_team_access', accepted: GITHUB, own: [unrelated], offered: [] },
  { name: 'a wrong-type suffixed ID is not offered', required: 'github_team_access', accepted: GITHUB, own: [wrongTypeSuffix], offered: [] },
  { name: 'a wrong-type credential with the right name is not offered', required: 'github_team_access', accepted: GITHUB, own: [wrongTypeName], offered: [] },
  { name: 'the exact ID is not a near miss (that is resolution, not a fix)', required: 'github_team_access', accepted: GITHUB, own: [exact], offered: [] },
  { name: 'a shorter ID the required one extends is offered', required: 'github_team_access_2', accepted: GITHUB, own: [exact], offered: ['github_team_access'] },
  {
    name: 'only the fitting ones, in the given order, among many',
    required: 'github_team_access',
    accepted: GITHUB,
    own: [unrelated, suffixed, wrongTypeSuffix, namedRight, wrongTypeName],
    offered: ['github_team_access_2', 'gh_pat'],
  },
  { name: 'http toolkit: a second accepted type counts', required: 'api_key', accepted: HTTP, own: [httpVariant], offered: ['api_key_2'] },
  { name: 'nothing of my own: nothing offered', required: 'github_team_access', accepted: GITHUB, own: [], offered: [] },
];

describe('findNearMisses', () => {
  it.each(nearMissCases)('$name', ({ required, accepted, own, offered }) => {
    const found = findNearMisses(required, accepted, own);
    expect(found.map((c) => c.credentialId)).toEqual(offered);
    // Candidates come back whole (the banner names them and posts their ID).
    for (const c of found) expect(own).toContain(c);
  });
});
