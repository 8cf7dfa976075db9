// POST /mcp through real MCP clients on a real port: the official 2.x client (2025 handshake and
// 2026-07-28 negotiation) and the 2025-era 1.x SDK client, against the fake GitHub. Who sees
// which tools, whose credential each call uses, what a missing credential says, what revoking
// and removing do at the next request, the raw HTTP details, and that no secret ever comes back.
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_TOOL_NAME } from '../../src/domain/mcp-names';
import { createTestApp, type TestApp } from '../helpers/app';
import { startFakeService, type FakeService } from '../helpers/fake-services';

const CANARY = { alice: 'ghp_canary_alice_5f1c2b9e77d04a', bob: 'ghp_canary_bob_8d3e6a0c11f94b' };

type Kind = 'v2 (2025 handshake)' | 'v2 (2026-07-28)' | 'v1 sdk';
const KINDS: Kind[] = ['v2 (2025 handshake)', 'v2 (2026-07-28)', 'v1 sdk'];
const CLIENT_NAME: Record<Kind, string> = { 'v2 (2025 handshake)': 'agent-v2', 'v2 (2026-07-28)': 'agent-modern', 'v1 sdk': 'agent-v1' };

type Tool = { name: string; title?: string; description?: string; inputSchema: Record<string, unknown> };
type CallResult = { isError?: boolean; content: { type: string; text?: string }[]; structuredContent?: Record<string, unknown> };
type McpClient = { listTools(): Promise<{ tools: Tool[] }>; callTool(p: { name: string; arguments?: Record<string, unknown> }): Promise<CallResult>; close(): Promise<void> };

let t: TestApp;
let svc: FakeService;
let server: ServerType;
let origin: string;
let url: URL;
let people: Record<'alice' | 'bob' | 'carol', Awaited<ReturnType<TestApp['user']>>>;
let toolkitId: number;
/** Every MCP answer body seen, checked for secrets at the end. */
const answers: string[] = [];
const open: McpClient[] = [];

async function connect(kind: Kind, token: string): Promise<McpClient> {
  const requestInit = { headers: { Authorization: `Bearer ${token}` } };
  const info = { name: CLIENT_NAME[kind], version: '1.0.0' };
  let client: McpClient;
  if (kind === 'v1 sdk') {
    const c = new LegacyClient(info);
    await c.connect(new LegacyTransport(url, { requestInit }));
    client = c as unknown as McpClient;
  } else {
    const c = new Client(info, kind === 'v2 (2026-07-28)' ? { versionNegotiation: { mode: 'auto' } } : {});
    await c.connect(new StreamableHTTPClientTransport(url, { requestInit }));
    client = c as unknown as McpClient;
  }
  const recorded: McpClient = {
    listTools: async () => {
      const r = await client.listTools();
      answers.push(JSON.stringify(r));
      return r;
    },
    callTool: async (p) => {
      const r = await client.callTool(p);
      answers.push(JSON.stringify(r));
      return r;
    },
    close: () => client.close(),
  };
  open.push(recorded);
  return recorded;
}

/** One raw JSON-RPC POST, as a script would send it; returns status, headers and the parsed message. */
async function rawPost(body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  answers.push(text);
  const data = res.headers.get('content-type')?.startsWith('text/event-stream') ? text.split('\n').find((l) => l.startsWith('data: '))?.slice(6) : text;
  let message: any = null;
  try {
    message = data ? JSON.parse(data) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, message };
}

const toolName = (ws: string, tool: string) => `${ws}__${toolkitId}__${tool}`;
const setupText = (o: string) =>
  `credential_setup_required: Credential setup required: create a private credential with Credential ID github_token of type github at ${o}/w/private/credentials/new?credential_id=github_token&type=github`;

async function saveGithubCredential(token: string, secret: string) {
  const r = await t.api('POST', '/workspaces/private/credentials', token, { name: 'My GitHub', type: 'github', credential_id: 'github_token', fields: { base_url: svc.url }, secrets: { token: secret } });
  expect(r.status).toBe(201);
}

async function executeEvents() {
  return (await t.sql<{ actor: string; workspace: string | null; outcome: string; details_json: string }>("SELECT actor, workspace, outcome, details_json FROM audit_events WHERE action = 'toolkit.execute' ORDER BY id")).map((r) => ({
    actor: r.actor,
    workspace: r.workspace,
    outcome: r.outcome,
    details: JSON.parse(r.details_json),
  }));
}

beforeAll(async () => {
  svc = await startFakeService({ tokens: { [CANARY.alice]: 'alice', [CANARY.bob]: 'bob' } });
  t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
  people = { alice: await t.user('alice'), bob: await t.user('bob'), carol: await t.user('carol') };
  expect((await t.api('POST', '/projects', people.alice.token, { name: 'Platform' })).status).toBe(201);
  expect((await t.api('POST', '/projects/platform/members', people.alice.token, { username: 'bob', role: 'viewer' })).status).toBe(201);
  const made = await t.api('POST', '/workspaces/platform/toolkits', people.alice.token, { name: 'GitHub', type: 'github', settings: {}, credential: { scope: 'private', credential_id: 'github_token' } });
  expect(made.status).toBe(201);
  toolkitId = made.json.id;
  await saveGithubCredential(people.alice.token, CANARY.alice);

  server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  url = new URL(`${origin}/mcp`);
});

afterAll(async () => {
  for (const c of open) await c.close().catch(() => {});
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await svc.close();
  await t.close();
});

describe('MCP clients run project toolkits as the person they act for', () => {
  it.each(KINDS)('%s: alice lists the project tools and a call uses her own credential', async (kind) => {
    const alice = await connect(kind, people.alice.token);
    const { tools } = await alice.listTools();
    const tool = tools.find((x) => x.name === toolName('platform', 'get_authenticated_user'));
    expect(tool).toMatchObject({ title: 'Get authenticated user · GitHub · Platform' });
    expect(tool!.description).not.toMatch(/Not ready/);
    for (const x of tools) expect(x.name).toMatch(MCP_TOOL_NAME);
    expect(tools.find((x) => x.name === toolName('platform', 'create_issue'))!.inputSchema).toMatchObject({
      type: 'object',
      properties: { repository: { type: 'string' }, title: { type: 'string' }, body: { type: 'string' } },
      required: ['title'],
    });

    const before = svc.requests.length;
    const r = await alice.callTool({ name: toolName('platform', 'get_authenticated_user'), arguments: {} });
    const expected = { ok: true, tool: 'get_authenticated_user', result: { status: 200, body: { login: 'alice', id: 1000, type: 'User' } }, credential: { scope: 'private', credential_id: 'github_token', owner: 'alice' } };
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual(expected);
    expect(JSON.parse(r.content.find((c) => c.type === 'text')!.text!)).toEqual(expected);
    expect(svc.requests.length).toBe(before + 1);
    expect(svc.requests.at(-1)!.headers.authorization).toBe(`Bearer ${CANARY.alice}`);
  });

  it('the same call through the execute API gives the same JSON', async () => {
    const alice = await connect('v1 sdk', people.alice.token);
    const viaMcp = await alice.callTool({ name: toolName('platform', 'list_repositories'), arguments: { per_page: 2 } });
    const viaApi = await t.api('POST', `/workspaces/platform/toolkits/${toolkitId}/execute`, people.alice.token, { tool: 'list_repositories', input: { per_page: 2 } });
    expect(viaApi.status).toBe(200);
    expect(viaMcp.structuredContent).toEqual(viaApi.json);
  });

  it.each(KINDS)('%s: bob without the credential gets setup required with ID, type and prefilled URL; nothing is sent', async (kind) => {
    const bob = await connect(kind, people.bob.token);
    const { tools } = await bob.listTools();
    const tool = tools.find((x) => x.name === toolName('platform', 'get_authenticated_user'))!;
    expect(tool.description).toContain(`Not ready for you: ${setupText(origin).replace('credential_setup_required: ', '')}`);
    const before = svc.requests.length;
    const r = await bob.callTool({ name: tool.name, arguments: {} });
    expect(r.isError).toBe(true);
    expect(r.content[0].text).toBe(setupText(origin));
    expect(r.structuredContent).toMatchObject({ error: 'credential_setup_required', credential_id: 'github_token', credential_type: 'github' });
    expect(svc.requests.length).toBe(before);
  });

  it('the setup URL opens the credential form with the Credential ID and the type filled in', async () => {
    // github is the form's default type, so a second type proves the query is what fills it in.
    for (const [id, type] of [['github_token', 'github'], ['team_gitlab', 'gitlab']]) {
      const page = await t.browser('GET', `/w/private/credentials/new?credential_id=${id}&type=${type}`, { cookie: people.bob.cookie });
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toMatch(new RegExp(`<input[^>]*name="credential_id"[^>]*value="${id}"`));
      expect(html).toMatch(new RegExp(`<option value="${type}" selected`));
      expect(html.match(/<option [^>]*selected/g)).toHaveLength(1);
    }
  });

  it('once bob saves his own credential, the same tool calls GitHub with his token, not alice’s', async () => {
    await saveGithubCredential(people.bob.token, CANARY.bob);
    const bob = await connect('v2 (2026-07-28)', people.bob.token);
    const r = await bob.callTool({ name: toolName('platform', 'get_authenticated_user'), arguments: {} });
    expect(r.structuredContent).toMatchObject({ ok: true, result: { status: 200, body: { login: 'bob' } }, credential: { scope: 'private', owner: 'bob' } });
    expect(svc.requests.at(-1)!.headers.authorization).toBe(`Bearer ${CANARY.bob}`);
  });

  it('an expired credential: the result text starts with credential_expired and nothing reaches the service', async () => {
    expect((await t.api('PATCH', '/workspaces/private/credentials/github_token', people.bob.token, { expires_at: '2020-01-01' })).status).toBe(200);
    const sent = svc.requests.length;
    const bob = await connect('v2 (2026-07-28)', people.bob.token);
    const r = await bob.callTool({ name: toolName('platform', 'get_authenticated_user'), arguments: {} });
    expect(r.isError).toBe(true);
    expect((r.content as { text: string }[])[0].text).toMatch(/^credential_expired: The credential github_token expired on 2020-01-01/);
    expect(r.structuredContent).toMatchObject({ error: 'credential_expired', credential_id: 'github_token' });
    expect(svc.requests.length).toBe(sent);
    expect((await t.api('PATCH', '/workspaces/private/credentials/github_token', people.bob.token, { expires_at: null })).status).toBe(200);
  });

  it('carol, not in the project, sees none of its tools, and calling one by name is the unknown-tool error', async () => {
    const carol = await connect('v2 (2025 handshake)', people.carol.token);
    const { tools } = await carol.listTools();
    expect(tools.filter((x) => x.name.startsWith('platform__'))).toEqual([]);
    const before = svc.requests.length;
    for (const name of [toolName('platform', 'get_authenticated_user'), toolName('private', 'get_authenticated_user'), 'platform__999999__get_authenticated_user', 'no such tool']) {
      await expect(carol.callTool({ name, arguments: {} })).rejects.toMatchObject({ code: -32602 });
    }
    const legacy = await connect('v1 sdk', people.carol.token);
    await expect(legacy.callTool({ name: toolName('platform', 'get_authenticated_user'), arguments: {} })).rejects.toMatchObject({ code: -32602 });
    expect(svc.requests.length).toBe(before);
  });

  it('every run is audited as toolkit.execute with via mcp and the client’s name, failed ones too', async () => {
    const events = await executeEvents();
    const mcp = events.filter((e) => e.details.via === 'mcp');
    expect(mcp.length).toBeGreaterThanOrEqual(7);
    // 2026-07-28 requests carry clientInfo on every call; a 2025 tools/call without initialize
    // before it on this instance carries none, so the User-Agent names the client.
    expect(mcp).toContainEqual(expect.objectContaining({ actor: 'alice', workspace: 'platform', outcome: 'success', details: expect.objectContaining({ tool: 'get_authenticated_user', client: 'agent-modern' }) }));
    expect(mcp).toContainEqual(expect.objectContaining({ actor: 'bob', outcome: 'failure', details: expect.objectContaining({ error: 'setup_required', via: 'mcp' }) }));
    for (const e of mcp) expect(typeof e.details.client).toBe('string');
    // The execute API's runs are not marked as MCP.
    expect(events.some((e) => e.details.via === undefined && e.details.tool === 'list_repositories')).toBe(true);
  });

  it('counts MCP tool calls by outcome in the metrics', () => {
    const text = t.deps.metrics.render({ auditEvents: 0 });
    expect(text).toMatch(/latchkey_mcp_tool_calls_total\{outcome="success"\} [1-9]/);
    expect(text).toMatch(/latchkey_mcp_tool_calls_total\{outcome="setup_required"\} [1-9]/);
    expect(text).toMatch(/latchkey_mcp_tool_calls_total\{outcome="unknown_tool"\} [1-9]/);
  });
});

describe('raw HTTP', () => {
  const auth = () => ({ Authorization: `Bearer ${people.alice.token}` });

  it('answers a single tools/list or tools/call POST without initialize or session', async () => {
    const list = await rawPost({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }, auth());
    expect(list.status).toBe(200);
    expect(list.headers.get('mcp-session-id')).toBeNull();
    expect(list.message.result.tools.map((x: Tool) => x.name)).toContain(toolName('platform', 'get_authenticated_user'));
    const call = await rawPost({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: toolName('platform', 'get_authenticated_user'), arguments: {} } }, { ...auth(), 'User-Agent': 'curl/8.5' });
    expect(call.message.result.structuredContent).toMatchObject({ ok: true, credential: { owner: 'alice' } });
    expect((await executeEvents()).at(-1)!.details).toMatchObject({ via: 'mcp', client: 'curl/8.5' });
  });

  it.each([
    ['2025-11-25', '2025-11-25'],
    ['2025-06-18', '2025-06-18'],
    ['2025-03-26', '2025-03-26'],
    ['2099-01-01', '2025-11-25'],
  ])('initialize with %s is answered with %s', async (asked, served) => {
    const r = await rawPost({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: asked, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }, auth());
    expect(r.status).toBe(200);
    expect(r.message.result.protocolVersion).toBe(served);
    expect(r.message.result.capabilities.tools).toBeDefined();
  });

  it('tools/list carries no cache hints on the 2025 revisions', async () => {
    const r = await rawPost({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }, { ...auth(), 'MCP-Protocol-Version': '2025-06-18' });
    expect(Object.keys(r.message.result).sort()).toEqual(['tools']);
  });

  it('a run with bad input is an isError result naming each problem', async () => {
    const r = await rawPost({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: toolName('platform', 'create_issue'), arguments: { body: 'no title', colour: 'red' } } }, auth());
    expect(r.message.result.isError).toBe(true);
    expect(r.message.result.content[0].text).toMatch(/^invalid_input: Some inputs are not valid\. (?=.*title: Enter the title\.)(?=.*colour: The Create issue tool has no input called "colour"\.)/);
  });

  it('GET, DELETE and any other method but POST are 405', async () => {
    for (const method of ['GET', 'DELETE', 'PUT']) {
      const res = await fetch(url, { method, headers: auth() });
      expect(res.status, method).toBe(405);
    }
  });

  it('a foreign Origin is refused with 403; the server’s own origin is served', async () => {
    const foreign = await rawPost({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }, { ...auth(), Origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    const own = await rawPost({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }, { ...auth(), Origin: origin });
    expect(own.status).toBe(200);
  });

  it('without a token: 401 pointing at the protected resource metadata', async () => {
    for (const headers of [{}, { Authorization: 'Basic YWxpY2U6eA==' }] as Record<string, string>[]) {
      const r = await rawPost({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }, headers);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`);
    }
    const bad = await rawPost({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }, { Authorization: 'Bearer lk_not_a_token' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toBe(`Bearer error="invalid_token", resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`);
  });

  it('uses BASE_URL for the metadata and setup links when it is set', async () => {
    const other = await createTestApp({ env: { BASE_URL: 'https://latchkey.example.com' } });
    try {
      const res = await other.app.request('http://latchkey.example.com:8080/mcp', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      expect(res.headers.get('www-authenticate')).toBe('Bearer resource_metadata="https://latchkey.example.com/.well-known/oauth-protected-resource/mcp"');
    } finally {
      await other.close();
    }
  });
});

describe('changes take effect at the next request', () => {
  it('a member removed from the project loses its tools', async () => {
    const bob = await connect('v2 (2025 handshake)', people.bob.token);
    expect((await bob.listTools()).tools.some((x) => x.name.startsWith('platform__'))).toBe(true);
    expect((await t.api('DELETE', '/projects/platform/members/bob', people.alice.token)).status).toBe(204);
    expect((await bob.listTools()).tools.some((x) => x.name.startsWith('platform__'))).toBe(false);
    await expect(bob.callTool({ name: toolName('platform', 'get_authenticated_user'), arguments: {} })).rejects.toMatchObject({ code: -32602 });
  });

  it('a revoked token gets 401 invalid_token', async () => {
    const made = await t.api('GET', '/tokens', people.carol.token);
    const ownId = made.json[0].id;
    const carol = await connect('v1 sdk', people.carol.token);
    await carol.listTools();
    expect((await t.api('DELETE', `/tokens/${ownId}`, people.carol.token)).status).toBe(204);
    await expect(carol.listTools()).rejects.toThrow();
    const r = await rawPost({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }, { Authorization: `Bearer ${people.carol.token}` });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", resource_metadata="/);
  });
});

describe('secrets', () => {
  it('no canary appears in any MCP answer, log line or audit row', async () => {
    const audit = JSON.stringify(await t.sql('SELECT * FROM audit_events'));
    for (const secret of Object.values(CANARY)) {
      for (const a of answers) expect(a).not.toContain(secret);
      for (const l of t.logs) expect(l).not.toContain(secret);
      expect(audit).not.toContain(secret);
    }
    expect(answers.length).toBeGreaterThan(20);
  });
});
