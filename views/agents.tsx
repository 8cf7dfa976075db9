// The Settings page's "Agents" section: where AI agents connect (/mcp) and a client
// configuration to copy, with a placeholder where the person's own token goes.
import { Icon } from './ui';

const TOKEN_PLACEHOLDER = '<your personal access token>';

/** Returns the client configurations shown for copying: Cursor, VS Code, Claude Desktop. */
export function agentClientConfigs(mcpUrl: string): { client: string; file: string; json: string }[] {
  const headers = { Authorization: `Bearer ${TOKEN_PLACEHOLDER}` };
  const pretty = (v: unknown) => JSON.stringify(v, null, 2);
  return [
    { client: 'Cursor', file: '~/.cursor/mcp.json', json: pretty({ mcpServers: { latchkey: { url: mcpUrl, headers } } }) },
    { client: 'VS Code', file: '.vscode/mcp.json', json: pretty({ servers: { latchkey: { type: 'http', url: mcpUrl, headers } } }) },
    {
      // Claude Desktop starts local processes from its config; mcp-remote bridges to an HTTP server.
      client: 'Claude Desktop',
      file: 'claude_desktop_config.json',
      json: pretty({ mcpServers: { latchkey: { command: 'npx', args: ['-y', 'mcp-remote', mcpUrl, '--header', `Authorization: Bearer ${TOKEN_PLACEHOLDER}`] } } }),
    },
  ];
}

/** The Agents section: the MCP endpoint's URL and copyable client configurations. */
export function AgentsSection(props: { mcpUrl: string }) {
  return (
    <section id="agents-section" class="card" aria-labelledby="agents-heading">
      <h2 id="agents-heading">Agents</h2>
      <p class="muted">
        AI agents (Claude, Cursor, VS Code, any MCP client) run your toolkits as you through the Model Context Protocol endpoint below. Give each agent its own personal access token, so you
        can revoke it alone.
      </p>
      <div class="token-reveal">
        <code id="mcp-url">{props.mcpUrl}</code>
        <button type="button" class="btn btn-sm copy-btn" data-copy={props.mcpUrl} aria-label="Copy the MCP URL">
          <Icon name="copy" /> Copy
        </button>
      </div>
      {agentClientConfigs(props.mcpUrl).map((c) => (
        <details class="agent-config">
          <summary>
            {c.client} <span class="muted">({c.file})</span>
          </summary>
          <pre class="run-body">{c.json}</pre>
          <button type="button" class="btn btn-sm copy-btn" data-copy={c.json} aria-label={`Copy the ${c.client} configuration`}>
            <Icon name="copy" /> Copy
          </button>
        </details>
      ))}
    </section>
  );
}
