// Toolkit execution through the API: each member's own credential reaches the service.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';

type Seen = { method: string; url: string; auth: string | undefined };

function startGitHub(tokens: Record<string, string>) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization });
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const login = token ? tokens[token] : undefined;
    res.setHeader('Content-Type', 'application/json');
    if (req.url === '/echo') return res.end(JSON.stringify({ you_sent: req.headers.authorization }));
    if (req.url === '/boom') {
      res.statusCode = 503;
      return res.end(JSON.stringify({ message: 'down' }));
    }
    if (!login) {
      res.statusCode = 401;
      return res.end(JSON.stringify({ message: 'Bad credentials' }));
    }
    if (req.url === '/user') return res.end(JSON.stringify({ login }));
    res.statusCode = 404;
    res.end(JSON.stringify({ message: 'Not Found' }));
  });
  return new Promise<{ url: string; seen: Seen[]; close: () => void }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() })),
  );
}

describe('toolkit execution (API)', () => {
  let t: TestApp;
  let gh: Awaited<ReturnType<typeof startGitHub>>;
  let alice: Awaited<ReturnType<TestApp['user']>>;
  let bob: Awaited<ReturnType<TestApp['user']>>;
  let carol: Awaited<ReturnType<TestApp['user']>>;
  let dave: Awaited<ReturnType<TestApp['user']>>;
  let toolkitId: number;

  beforeAll(async () => {
    gh = await startGitHub({ 'alice-secret-token': 'alice-gh', 'bob-secret-token': 'bob-gh' });
    t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
    alice = await t.user('alice');
    bob = await t.user('bob');
    carol = await t.user('carol');
    dave = await t.user('dave');
    expect((await t.api('POST', '/projects', alice.token, { name: 'Platform' })).status).toBe(201);
    for (const [u, role] of [['bob', 'viewer'], ['carol', 'viewer']] as const) {
      expect((await t.api('POST', '/projects/platform/members', alice.token, { username: u, role })).status).toBe(201);
    }
    for (const [u, token] of [[alice, 'alice-secret-token'], [bob, 'bob-secret-token']] as const) {
      const r = await t.api('POST', '/workspaces/private/credentials', u.token, { name: 'GitHub Token', type: 'github', fields: { base_url: gh.url }, secrets: { token } });
      expect(r.status).toBe(201);
      expect(r.json.credential_id).toBe('github_token');
    }
    const created = await t.api('POST', '/workspaces/platform/toolkits', alice.token, {
      name: 'GitHub',
      type: 'github',
      settings: {},
      credential: { scope: 'private', credential_id: 'github_token' },
    });
    expect(created.status).toBe(201);
    toolkitId = created.json.id;
  });
  afterAll(async () => {
    await t.close();
    gh.close();
  });

  it('runs with each member’s own credential and names its owner', async () => {
    gh.seen.length = 0;
    const a = await t.api('POST', `/workspaces/platform/toolkits/${toolkitId}/execute`, alice.token, { tool: 'get_authenticated_user', input: {} });
    const b = await t.api('POST', `/workspaces/platform/toolkits/${toolkitId}/execute`, bob.token, { tool: 'get_authenticated_user', input: {} });
    expect(a.status).toBe(200);
    expect(a.json).toEqual({ ok: true, tool: 'get_authenticated_user', result: { status: 200, body: { login: 'alice-gh' } }, credential: { scope: 'private', credential_id: 'github_token', owner: 'alice' } });
    expect(b.json.result.body).toEqual({ login: 'bob-gh' });
    expect(b.json.credential.owner).toBe('bob');
    expect(gh.seen.map((s) => s.auth)).toEqual(['Bearer alice-secret-token', 'Bearer bob-secret-token']);
  });

  it('asks a member without the credential to set it up', async () => {
    const r = await t.api('POST', `/workspaces/platform/toolkits/${toolkitId}/execute`, carol.token, { tool: 'get_authenticated_user' });
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ error: 'credential_setup_required', credential_id: 'github_token', credential_type: 'github', accepted_types: ['github'] });
    const list = await t.api('GET', '/workspaces/platform/toolkits', carol.token);
    expect(list.json[0].status).toBe('setup_required');
  });

  it('reports a credential of the wrong type', async () => {
    await t.api('POST', '/workspaces/private/credentials', carol.token, { name: 'x', credential_id: 'github_token', type: 'gitlab', fields: { base_url: gh.url }, secrets: { token: 'carol-gl' } });
    const r = await t.api('POST', `/workspaces/platform/toolkits/${toolkitId}/execute`, carol.token, { tool: 'get_authenticated_user' });
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ error: 'credential_type_mismatch', credential_id: 'github_token', expected_type: 'github', actual_type: 'gitlab' });
  });

  it('is 404 for a non-member and sends nothing', async () => {
    gh.seen.length = 0;
    const r = await t.api('POST', `/workspaces/platform/toolkits/${toolkitId}/execute`, dave.token, { tool: 'get_authenticated_user' });
    expect(r.status).toBe(404);
    const r2 = await t.api('POST', `/workspaces/private/toolkits/${toolkitId}/execute`, dave.token, { tool: 'get_authenticated_user' });
    expect(r2.status).toBe(404);
    expect(gh.seen).toHaveLength(0);
  });

  it('lets a viewer execute but not create or edit', async () => {
    const c = await t.api('POST', '/workspaces/platform/toolkits', bob.token, { name: 'x', type: 'github', settings: {}, credential: { scope: 'private', credential_id: 'github_token' } });
    expect(c.status).toBe(403);
    const p = await t.api('PATCH', `/workspaces/platform/toolkits/${toolkitId}`, bob.token, { name: 'renamed' });
    expect(p.status).toBe(403);
  });

  it('names the members left without a credential when the credential changes', async () => {
    const r = await t.api('PATCH', `/workspaces/platform/toolkits/${toolkitId}`, alice.token, { credential: { scope: 'private', credential_id: 'gh_personal' } });
    expect(r.status).toBe(200);
    expect(r.json.members_without_credential).toEqual(['alice', 'bob', 'carol']);
    await t.api('PATCH', `/workspaces/platform/toolkits/${toolkitId}`, alice.token, { credential: { scope: 'private', credential_id: 'github_token' } });
  });

  it('refuses loopback unless allowed, and redacts echoed secrets', async () => {
    const strict = await createTestApp();
    const u = await strict.user('erin');
    await strict.api('POST', '/workspaces/private/credentials', u.token, { name: 'Echo', type: 'http_bearer', fields: { base_url: gh.url }, secrets: { token: 'erin-secret-token' } });
    const tk = await strict.api('POST', '/workspaces/private/toolkits', u.token, { name: 'Echo', type: 'http', settings: {}, credential: { scope: 'private', credential_id: 'echo' } });
    gh.seen.length = 0;
    const r = await strict.api('POST', `/workspaces/private/toolkits/${tk.json.id}/execute`, u.token, { tool: 'request', input: { method: 'GET', path: '/echo' } });
    expect(r.status).toBe(403);
    expect(r.json.error).toBe('destination_not_allowed');
    expect(gh.seen).toHaveLength(0);
    await strict.close();

    await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'Echo', type: 'http_bearer', fields: { base_url: gh.url }, secrets: { token: 'alice-secret-token' } });
    const tk2 = await t.api('POST', '/workspaces/private/toolkits', alice.token, { name: 'Echo', type: 'http', settings: {}, credential: { scope: 'private', credential_id: 'echo' } });
    const echoed = await t.api('POST', `/workspaces/private/toolkits/${tk2.json.id}/execute`, alice.token, { tool: 'request', input: { method: 'GET', path: '/echo' } });
    expect(echoed.status).toBe(200);
    expect(echoed.text).not.toContain('alice-secret-token');
    expect(echoed.json.result.body.you_sent).toContain('[REDACTED]');
    const boom = await t.api('POST', `/workspaces/private/toolkits/${tk2.json.id}/execute`, alice.token, { tool: 'request', input: { method: 'GET', path: '/boom' } });
    expect(boom.status).toBe(502);
    expect(boom.json).toMatchObject({ error: 'upstream_error', status: 503 });
  });

  it('reports a deleted project credential', async () => {
    await t.api('POST', '/workspaces/platform/credentials', alice.token, { name: 'Bot', type: 'github', fields: { base_url: gh.url }, secrets: { token: 'alice-secret-token' } });
    const tk = await t.api('POST', '/workspaces/platform/toolkits', alice.token, { name: 'Bot kit', type: 'github', settings: {}, credential: { scope: 'project', credential_id: 'bot' } });
    expect(tk.status).toBe(201);
    const ok = await t.api('POST', `/workspaces/platform/toolkits/${tk.json.id}/execute`, bob.token, { tool: 'get_authenticated_user' });
    expect(ok.json.credential).toEqual({ scope: 'project', credential_id: 'bot', owner: 'platform' });
    expect((await t.api('DELETE', '/workspaces/platform/credentials/bot', alice.token)).status).toBe(204);
    const gone = await t.api('POST', `/workspaces/platform/toolkits/${tk.json.id}/execute`, bob.token, { tool: 'get_authenticated_user' });
    expect(gone.status).toBe(422);
    expect(gone.json).toMatchObject({ error: 'credential_missing', credential_id: 'bot' });
  });
});
