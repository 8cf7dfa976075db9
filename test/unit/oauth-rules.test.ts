// The authorization server's pure rules (src/domain/oauth.ts) as tables: redirect URIs, metadata
// document URLs, authorization requests, and the verdicts on code and refresh token exchanges.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkAuthorizationRequest, checkMetadataUrl, checkRedirectUri, FAILURES, judgeCodeExchange, judgeRefresh, s256, type StoredCode, type StoredRefresh } from '../../src/domain/oauth';

describe('redirect URIs', () => {
  const table: [string, string | null][] = [
    ['https://claude.ai/api/mcp/auth_callback', null],
    ['https://vscode.dev/redirect?x=1', null],
    ['http://127.0.0.1:33418/', null],
    ['http://localhost/cb', null],
    ['http://[::1]:8080/cb', null],
    ['http://example.com/cb', 'redirect_uri_invalid'],
    ['http://127.0.0.2/cb', 'redirect_uri_invalid'],
    ['http://localhost.evil.example/cb', 'redirect_uri_invalid'],
    ['cursor://anysphere.cursor-retrieval/oauth/callback', 'redirect_uri_invalid'],
    ['https://a.example/cb#frag', 'redirect_uri_invalid'],
    ['https://a.example/cb#', 'redirect_uri_invalid'],
    ['https://u:p@a.example/cb', 'redirect_uri_invalid'],
    ['data:text/html,hi', 'redirect_uri_invalid'],
    ['not a url', 'redirect_uri_invalid'],
  ];
  it.each(table)('%s → %s', (uri, expected) => expect(checkRedirectUri(uri)).toBe(expected));
  it('refuses non-strings and very long URIs', () => {
    expect(checkRedirectUri(42)).toBe('redirect_uri_invalid');
    expect(checkRedirectUri(`https://a.example/${'x'.repeat(2000)}`)).toBe('redirect_uri_invalid');
  });
});

describe('Client ID Metadata Document URLs', () => {
  const table: [string, string | null][] = [
    ['https://claude.ai/oauth/client.json', null],
    ['http://127.0.0.1:4000/client.json', null],
    ['http://example.com/client.json', 'metadata_url_invalid'],
    ['https://example.com', 'metadata_url_invalid'],
    ['https://example.com/', 'metadata_url_invalid'],
    ['https://EXAMPLE.com/c.json', 'metadata_url_invalid'],
    ['https://example.com/a/./c.json', 'metadata_url_invalid'],
    ['https://example.com/c.json#f', 'metadata_url_invalid'],
    ['https://u@example.com/c.json', 'metadata_url_invalid'],
  ];
  it.each(table)('%s → %s', (url, expected) => expect(checkMetadataUrl(url)).toBe(expected));
});

describe('authorization requests', () => {
  const resource = 'https://lk.example/mcp';
  const challenge = s256('v'.repeat(43));
  const base = { responseType: 'code', redirectUri: 'https://a.example/cb', state: 's', codeChallenge: challenge, codeChallengeMethod: 'S256', resource };
  const table: [string, Partial<typeof base>, string | null, boolean?][] = [
    ['a good request', {}, null],
    ['no resource (optional)', { resource: '' }, null],
    ['an unregistered redirect', { redirectUri: 'https://a.example/cb2' }, 'redirect_uri_not_registered', false],
    ['no redirect', { redirectUri: '' }, 'redirect_uri_missing', false],
    ['implicit flow', { responseType: 'token' }, 'response_type_unsupported', true],
    ['plain', { codeChallengeMethod: 'plain' }, 'pkce_method', true],
    ['no method', { codeChallengeMethod: '' }, 'pkce_method', true],
    ['no challenge', { codeChallenge: '' }, 'pkce_missing', true],
    ['a short challenge', { codeChallenge: 'abc' }, 'pkce_challenge_format', true],
    ['another resource', { resource: 'https://other.example/mcp' }, 'resource_invalid', true],
    ['a long state', { state: 'x'.repeat(1001) }, 'state_too_long', true],
  ];
  it.each(table)('%s', (_name, change, reason, redirect) => {
    const verdict = checkAuthorizationRequest({ ...base, ...change }, ['https://a.example/cb'], resource);
    if (reason === null) expect(verdict).toEqual({ ok: true });
    else expect(verdict).toEqual({ ok: false, reason, redirect });
  });
});

describe('exchanges', () => {
  const verifier = 'a'.repeat(43);
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const code: StoredCode = { expiresAt: 1000, usedAt: null, codeChallenge: challenge, clientId: 'c1', redirectUri: 'https://a.example/cb', revoked: false };
  const req = { clientId: 'c1', redirectUri: 'https://a.example/cb', codeVerifier: verifier };
  const codeTable: [string, Partial<typeof code>, Partial<typeof req>, number, string | null, boolean?][] = [
    ['a good exchange', {}, {}, 999, null],
    ['expired', {}, {}, 1000, 'code_expired', false],
    ['used before', { usedAt: 500 }, {}, 999, 'code_reused', true],
    ['used before and expired: still reuse', { usedAt: 500 }, {}, 5000, 'code_reused', true],
    ['another client', {}, { clientId: 'c2' }, 999, 'client_mismatch', false],
    ['another redirect', {}, { redirectUri: 'https://a.example/other' }, 999, 'code_redirect_mismatch', false],
    ['a wrong verifier', {}, { codeVerifier: 'b'.repeat(43) }, 999, 'code_verifier_mismatch', false],
    ['a too short verifier', {}, { codeVerifier: 'a'.repeat(42) }, 999, 'code_verifier_mismatch', false],
    ['a revoked grant', { revoked: true }, {}, 999, 'grant_revoked', false],
  ];
  it.each(codeTable)('code: %s', (_name, c, r, now, reason, revokeGrant) => {
    const verdict = judgeCodeExchange({ ...code, ...c }, { ...req, ...r }, now);
    expect(verdict).toEqual(reason === null ? { ok: true } : { ok: false, reason, revokeGrant });
  });

  const refresh: StoredRefresh = { expiresAt: 1000, rotatedAt: null, clientId: 'c1', revoked: false };
  const refreshTable: [string, Partial<typeof refresh>, string, number, string | null, boolean?][] = [
    ['a good refresh', {}, 'c1', 999, null],
    ['rotated before', { rotatedAt: 10 }, 'c1', 999, 'refresh_reused', true],
    ['expired', {}, 'c1', 1000, 'refresh_expired', false],
    ['another client', {}, 'c2', 999, 'client_mismatch', false],
    ['a revoked grant', { revoked: true }, 'c1', 999, 'grant_revoked', false],
  ];
  it.each(refreshTable)('refresh: %s', (_name, t, clientId, now, reason, revokeGrant) => {
    const verdict = judgeRefresh({ ...refresh, ...t }, { clientId }, now);
    expect(verdict).toEqual(reason === null ? { ok: true } : { ok: false, reason, revokeGrant });
  });

  it('every failure has an RFC error code and a sentence', () => {
    for (const [error, sentence] of Object.values(FAILURES)) {
      expect(error).toMatch(/^[a-z_]+$/);
      expect(sentence).toMatch(/\.$/);
    }
  });
});
