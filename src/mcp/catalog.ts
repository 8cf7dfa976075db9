// The caller's MCP tools: one per (workspace, toolkit, tool) they may run, across their Private
// workspace and every project they belong to. Built from the store on every request, so a
// removed member or a deleted toolkit is gone at the very next request.
import type { Deps } from '../env';
import { mcpToolName, parseMcpToolName } from '../domain/mcp-names';
import type { ToolkitStatus } from '../domain/resolution';
import { getToolkit, listToolkits, toolkitStatuses, type Toolkit } from '../store/toolkits';
import { getPrivateWorkspace, listProjects, type Workspace } from '../store/workspaces';
import { getToolkitType, toolInputJsonSchema, type ToolInput } from '../toolkits';

type InputProperty = { type: ToolInput['type']; title: string; description?: string; enum?: string[] };

export type McpTool = {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, InputProperty>; required?: string[]; additionalProperties: false };
};

/** Returns every workspace the user can run toolkits in: Private first, then their projects. */
async function callerWorkspaces(deps: Deps, userId: string): Promise<Workspace[]> {
  const projects = await listProjects(deps.store, userId);
  return [
    await getPrivateWorkspace(deps.store, userId),
    ...projects.map((p): Workspace => ({ id: p.id, kind: 'project', ref: p.slug, name: p.name, role: p.role, ownerUserId: null })),
  ];
}

/** Returns the URL of the page where the caller creates the missing private credential, both fields prefilled. */
export function setupUrl(origin: string, credentialId: string, credentialType: string): string {
  return `${origin}/w/private/credentials/new?credential_id=${encodeURIComponent(credentialId)}&type=${encodeURIComponent(credentialType)}`;
}

/** Returns the sentence that tells the caller how to set up a missing private credential. */
export function setupSentence(origin: string, credentialId: string, credentialType: string): string {
  return `Credential setup required: create a private credential with Credential ID ${credentialId} of type ${credentialType} at ${setupUrl(origin, credentialId, credentialType)}`;
}

/** Why a toolkit cannot run for the caller, for its tools' descriptions; null when it can. */
function notReadyReason(status: ToolkitStatus, t: Toolkit, origin: string): string | null {
  const accepted = getToolkitType(t.type)?.credentialTypes ?? [];
  switch (status) {
    case 'ready':
      return null;
    case 'setup_required':
      return setupSentence(origin, t.credential.credentialId, accepted[0]);
    case 'type_mismatch':
      return `Credential type mismatch: your credential ${t.credential.credentialId} is not of a type this toolkit accepts (${accepted.join(', ')}).`;
    case 'credential_missing':
      return `Credential missing: the project credential ${t.credential.credentialId} this toolkit uses was deleted.`;
    case 'expired':
      return `Credential expired: the credential this toolkit would run with for you has expired; its owner must renew it.`;
    case 'reconnect_required':
      return `Reconnect required: your connected account ${t.credential.credentialId} must be reconnected at ${origin}/w/private/credentials before this toolkit can run.`;
  }
}

/** Returns the caller's MCP tools; `origin` goes into setup links in the descriptions. */
export async function listMcpTools(deps: Deps, userId: string, origin: string): Promise<McpTool[]> {
  const tools: McpTool[] = [];
  for (const ws of await callerWorkspaces(deps, userId)) {
    const toolkits = await listToolkits(deps.store, ws);
    if (!toolkits.length) continue;
    const statuses = await toolkitStatuses(deps.store, ws, userId, toolkits);
    for (const t of toolkits) {
      const kind = getToolkitType(t.type);
      if (!kind) continue;
      const reason = notReadyReason(statuses.get(t.id)!.status, t, origin);
      for (const tool of kind.tools) {
        tools.push({
          name: mcpToolName(ws.ref, t.id, tool.name),
          title: `${tool.label} · ${t.name} · ${ws.name}`,
          description: reason ? `${tool.description} Not ready for you: ${reason}` : tool.description,
          // The JSON Schema made from the tool's zod input schema (the fields of GET /toolkit-types).
          inputSchema: toolInputJsonSchema(kind, tool.name) as McpTool['inputSchema'],
        });
      }
    }
  }
  return tools;
}

/** Returns the workspace, toolkit and tool an MCP name stands for, if the caller may run it; else null. */
export async function findMcpTool(deps: Deps, userId: string, name: string): Promise<{ ws: Workspace; toolkit: Toolkit; tool: string } | null> {
  const claimed = parseMcpToolName(name);
  if (!claimed) return null;
  const ws = (await callerWorkspaces(deps, userId)).find((w) => mcpToolName(w.ref, claimed.toolkitId, claimed.tool) === name);
  if (!ws) return null;
  const toolkit = await getToolkit(deps.store, ws, claimed.toolkitId);
  if (!toolkit || !getToolkitType(toolkit.type)?.tools.some((t) => t.name === claimed.tool)) return null;
  return { ws, toolkit, tool: claimed.tool };
}
