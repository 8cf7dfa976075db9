// MCP tool names as a table: `<ws>__<toolkit id>__<tool>`, always ^[a-zA-Z0-9_-]{1,64}$, long
// slugs shortened with a stable hash so names stay unique; parsing gives back id and tool.
import { describe, expect, it } from 'vitest';
import { MCP_TOOL_NAME, mcpToolName, parseMcpToolName } from '../../src/domain/mcp-names';

const LONG = 'a-very-long-project-name-that-goes-on-and-on-and-o';
const LONG_TWIN = 'a-very-long-project-name-that-goes-on-and-on-and-x';

describe('mcpToolName', () => {
  const cases = [
    { name: 'private workspace', ws: 'private', id: 7, tool: 'get_authenticated_user', expected: 'private__7__get_authenticated_user' },
    { name: 'project slug', ws: 'platform', id: 12, tool: 'get_authenticated_user', expected: 'platform__12__get_authenticated_user' },
    { name: 'exactly 64 stays as is', ws: 'x'.repeat(64 - '__1__auth_test'.length), id: 1, tool: 'auth_test', expected: `${'x'.repeat(50)}__1__auth_test` },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(mcpToolName(c.ws, c.id, c.tool)).toBe(c.expected);
      expect(c.expected).toMatch(MCP_TOOL_NAME);
    });
  }

  it('shortens a slug that would pass 64 characters, stably, and keeps two such slugs apart', () => {
    const a = mcpToolName(LONG, 123456, 'get_authenticated_user');
    const b = mcpToolName(LONG_TWIN, 123456, 'get_authenticated_user');
    for (const n of [a, b]) {
      expect(n).toMatch(MCP_TOOL_NAME);
      expect(n.length).toBeLessThanOrEqual(64);
      expect(n.endsWith('__123456__get_authenticated_user')).toBe(true);
    }
    expect(a).toMatch(/^a-very-long-[a-z-]*-[0-9a-f]{8}__/);
    expect(a).not.toBe(b);
    expect(mcpToolName(LONG, 123456, 'get_authenticated_user')).toBe(a);
  });

  it('never lets a character outside the allowed set through', () => {
    expect(mcpToolName('ünïcode slug', 3, 'request')).toMatch(MCP_TOOL_NAME);
  });
});

describe('parseMcpToolName', () => {
  const cases: [string, { toolkitId: number; tool: string } | null][] = [
    ['platform__12__get_authenticated_user', { toolkitId: 12, tool: 'get_authenticated_user' }],
    [mcpToolName(LONG, 9, 'search_pages'), { toolkitId: 9, tool: 'search_pages' }],
    ['platform__x__get', null],
    ['no such tool', null],
    ['', null],
    ['a'.repeat(70) + '__1__x', null],
  ];
  it.each(cases)('%s', (name, expected) => expect(parseMcpToolName(name)).toEqual(expected));
});
