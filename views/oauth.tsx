// The OAuth consent page (GET /oauth/authorize) and the Settings section listing the person's
// grants to MCP clients.
import type { GrantInfo } from '../src/domain/models';
import type { AuthorizationRequest } from '../src/oauth/grants';
import { isLoopbackHost } from '../src/domain/oauth';
import { AuthPage } from './layout';
import { EmptyState, Icon, RowAction, TableHead, Time } from './ui';

export type ConsentProps = {
  username: string;
  client: { name: string; clientId: string; kind: 'registered' | 'metadata' };
  request: AuthorizationRequest;
};

// The form repeats the request, so the answer is checked exactly like the question was.
const HIDDEN_FIELDS: [string, keyof AuthorizationRequest][] = [
  ['client_id', 'clientId'],
  ['response_type', 'responseType'],
  ['redirect_uri', 'redirectUri'],
  ['state', 'state'],
  ['code_challenge', 'codeChallenge'],
  ['code_challenge_method', 'codeChallengeMethod'],
  ['resource', 'resource'],
];

/** The consent page: names the client, where it will send the person back, and what it may do. */
export function ConsentPage(props: ConsentProps) {
  const redirect = new URL(props.request.redirectUri);
  const local = isLoopbackHost(redirect.hostname);
  return (
    <AuthPage title="Allow access">
      <div class="consent stack">
        <h1 id="consent-title">Allow {props.client.name} to act as you?</h1>
        <dl class="consent-client">
          <dt>Application</dt>
          <dd>
            <strong id="consent-client-name">{props.client.name}</strong>
          </dd>
          <dt>Returns you to</dt>
          <dd>
            <code id="consent-redirect-host">{redirect.host}</code>
            {local ? <span class="muted"> (an application on this computer)</span> : null}
          </dd>
          <dt>Identified by</dt>
          <dd>
            {props.client.kind === 'metadata' ? <code class="consent-client-id">{props.client.clientId}</code> : 'a client registered with this server'}
          </dd>
        </dl>
        <div>
          <p>
            <strong>It will be able to:</strong>
          </p>
          <ul class="consent-scopes">
            <li>
              <Icon name="toolbox" /> Run your toolkits as you through the MCP endpoint
            </li>
            <li>
              <Icon name="list" /> See the toolkits you may run, in your Private workspace and your projects
            </li>
          </ul>
          <p class="muted">
            It never sees your stored secrets. Its runs are recorded in the audit log under your name. You can revoke its access at any time in Settings.
          </p>
        </div>
        <p class="muted">
          Signed in as <strong>{props.username}</strong>. Only allow applications you started yourself.
        </p>
        <form method="post" action="/oauth/authorize" class="consent-actions" aria-labelledby="consent-title">
          {HIDDEN_FIELDS.map(([name, key]) => (
            <input type="hidden" name={name} value={props.request[key]} />
          ))}
          <button class="btn" type="submit" name="decision" value="deny">
            Deny
          </button>
          <button class="btn btn-primary" type="submit" name="decision" value="allow">
            Allow
          </button>
        </form>
      </div>
    </AuthPage>
  );
}

/** The person's grants to MCP clients on the Settings page, each with Revoke; swapped as one fragment. */
export function OAuthGrantsSection(props: { grants: GrantInfo[] }) {
  return (
    <section id="oauth-grants" class="card">
      <h2>Connected applications</h2>
      <p class="muted">Applications you allowed, with OAuth, to run your toolkits as you through the MCP endpoint. Revoking one ends its access at its next request.</p>
      {props.grants.length ? (
        <table class="table">
          <TableHead columns={['Application', 'Returns to', 'Allowed', 'Last used']} actions="Actions" />
          <tbody>
            {props.grants.map((g) => (
              <tr>
                <td>
                  <strong>{g.clientName}</strong>
                </td>
                <td>
                  <code>{g.redirectHost}</code>
                </td>
                <td>
                  <Time at={g.createdAt} />
                </td>
                <td>
                  <Time at={g.lastUsedAt} />
                </td>
                <td class="actions">
                  <RowAction
                    action={`/settings/oauth/${g.id}/revoke`}
                    target="#oauth-grants"
                    confirm={`Revoke access for “${g.clientName}”? It stops working at its next request.`}
                    label="Revoke"
                    ariaLabel={`Revoke ${g.clientName}`}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <EmptyState icon="shield" title="No connected applications" text="When an MCP client signs in with OAuth and you allow it, it appears here." />
      )}
    </section>
  );
}
