// The MCP server behind POST /mcp: a fresh low-level SDK server per request (stateless), whose
// tools/list and tools/call translate the caller's toolkits and runs into MCP. Runs go through
// the same runTool as POST …/execute, so resolution, redaction and auditing are the same.
import type { CallToolResult, McpHttpHandler } from '@modelcontextprotocol/server';
import type { Deps } from '../env';
import { runOutcome, runToolkit, type RunResult } from '../services/run-toolkit';
import { runFailureAnswer } from '../domain/failures';
import { executeAnswer } from '../routes/api-toolkits';
import type { McpCaller } from './auth';
import { findMcpTool, listMcpTools, setupSentence } from './catalog';
import { version } from '../../package.json';

/** What the route learned about one request before handing it to the SDK. */
export type McpRequestScope = { caller: McpCaller; origin: string; client: string };

/** Returns the MCP result for a run: the execute answer on success, isError with the code first otherwise. */
export function callToolResult(r: RunResult, origin: string): CallToolResult {
  if (r.ok) {
    const answer = executeAnswer(r);
    return { content: [{ type: 'text', text: JSON.stringify(answer) }], structuredContent: answer };
  }
  const { body } = runFailureAnswer(r);
  // Agents often read only the text, so it carries what to do: the setup link, or each input's problem.
  const sentence =
    r.reason === 'setup_required'
      ? setupSentence(origin, r.credentialId, r.credentialType)
      : r.reason === 'invalid_input'
        ? `${body.message} ${Object.entries(r.errors).map(([field, problem]) => `${field}: ${problem}`).join(' ')}`
        : String(body.message);
  return { isError: true, content: [{ type: 'text', text: `${body.error}: ${sentence}` }], structuredContent: body };
}

type Sdk = typeof import('@modelcontextprotocol/server');

function serverFor(sdk: Sdk, deps: Deps, scope: McpRequestScope) {
  const { Server, ProtocolError, ProtocolErrorCode } = sdk;
  const { caller, origin, client } = scope;
  const server = new Server({ name: 'latchkey', version }, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/list', async () => ({ tools: await listMcpTools(deps, caller.user.id, origin) }));
  server.setRequestHandler('tools/call', async (request) => {
    const name = request.params.name;
    const found = await findMcpTool(deps, caller.user.id, name);
    if (!found) {
      // Not there and not yours are the same answer, so existence does not leak.
      deps.metrics.mcpToolCall('unknown_tool');
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name.slice(0, 100)}`);
    }
    const r = await runToolkit(deps, { user: caller.user, ws: found.ws, toolkit: found.toolkit, tool: found.tool, input: request.params.arguments ?? {}, origin: { via: 'mcp', client } });
    deps.metrics.mcpToolCall(runOutcome(r));
    return callToolResult(r, origin);
  });
  return server;
}

/**
 * Returns the SDK's stateless Streamable HTTP handler; each request carries its scope in
 * authInfo.extra. The SDK is imported here, at the first /mcp request, not at start: it takes
 * half a second and tens of MB to load, which every instance that serves no agent would pay.
 */
export async function createMcpEndpoint(deps: Deps): Promise<McpHttpHandler> {
  const sdk = await import('@modelcontextprotocol/server');
  return sdk.createMcpHandler(
    (ctx) => {
      const scope = ctx.authInfo?.extra?.scope as McpRequestScope | undefined;
      if (!scope) throw new Error('MCP request without an authenticated caller');
      return serverFor(sdk, deps, scope);
    },
    { onerror: (error) => deps.log.debug('mcp request refused', { message: error.message.slice(0, 200) }) },
  );
}
