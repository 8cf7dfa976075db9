// MCP tool names: `<ws>__<toolkit id>__<tool>`, always matching ^[a-zA-Z0-9_-]{1,64}$. Pure.
import { createHash } from 'node:crypto';

export const MCP_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX = 64;
const HASH_LENGTH = 8;

/**
 * Returns the MCP name of one tool of one toolkit in a workspace (`ws` is 'private' or a slug).
 * A slug that would push the name past 64 characters is cut and suffixed with a short hash of
 * the whole slug: the same slug always gives the same name, and two slugs that share the kept
 * prefix still differ (the toolkit id, unique across workspaces, keeps names apart as well).
 */
export function mcpToolName(ws: string, toolkitId: number, tool: string): string {
  const tail = `__${toolkitId}__${tool}`;
  const clean = ws.replace(/[^a-zA-Z0-9_-]/g, '-');
  if (clean === ws && ws.length + tail.length <= MAX) return ws + tail;
  const hash = createHash('sha256').update(ws).digest('hex').slice(0, HASH_LENGTH);
  const keep = Math.max(0, MAX - tail.length - HASH_LENGTH - 1);
  const prefix = clean.slice(0, keep);
  return (prefix ? `${prefix}-${hash}` : hash) + tail;
}

/** Returns the toolkit id and tool a name claims, or null when it is not shaped like one. */
export function parseMcpToolName(name: string): { toolkitId: number; tool: string } | null {
  if (!MCP_TOOL_NAME.test(name)) return null;
  const m = /__(\d{1,15})__([a-z0-9_]+)$/.exec(name);
  return m ? { toolkitId: Number(m[1]), tool: m[2] } : null;
}
