// The user's Settings page: personal access tokens and password.
import type { ApiTokenInfo } from '../src/domain/models';
import type { GrantInfo } from '../src/domain/models';
import { OAuthGrantsSection } from './oauth';
import { AgentsSection } from './agents';
import { AppPage, type Frame } from './layout';
import { Banner, EmptyState, Field, Icon, PageHeader, RowAction, Time, TableHead } from './ui';

export type TokensProps = {
  tokens: ApiTokenInfo[];
  created?: { name: string; token: string };
  nameError?: string;
  name?: string;
};

/** The token list and create form, swapped as one fragment. */
export function TokensSection(props: TokensProps) {
  return (
    <section id="tokens-section" class="card">
      <h2>Personal access tokens</h2>
      <p class="muted">
        Scripts and agents call the JSON API at <code>/api/v1</code> with <code>Authorization: Bearer &lt;token&gt;</code>. A token acts as you, with your roles.
      </p>
      {props.created ? (
        <Banner tone="success" title={`Token “${props.created.name}” created`} id="new-token">
          <p>Copy it now: it is shown only once and cannot be recovered.</p>
          <div class="token-reveal">
            <code id="new-token-value">{props.created.token}</code>
            <button type="button" class="btn btn-sm copy-btn" data-copy={props.created.token}>
              <Icon name="copy" /> Copy
            </button>
          </div>
        </Banner>
      ) : null}
      <form method="post" action="/settings/tokens" class="inline-form" hx-post="/settings/tokens" hx-target="#tokens-section" hx-swap="outerHTML">
        <Field label="Token name" name="name" id="token-name" error={props.nameError} help="Say where it will be used, e.g. “ci-bot”.">
          <input id="token-name" name="name" required maxlength={80} value={props.name ?? ''} autocomplete="off" />
        </Field>
        <button class="btn btn-primary" type="submit">
          <Icon name="plus" /> Create token
        </button>
      </form>
      {props.tokens.length ? (
        <table class="table">
          <TableHead columns={['Name', 'Created', 'Last used']} actions="Actions" />
          <tbody>
            {props.tokens.map((t) => (
              <tr>
                <td>
                  <strong>{t.name}</strong>
                </td>
                <td>
                  <Time at={t.createdAt} />
                </td>
                <td>
                  <Time at={t.lastUsedAt} />
                </td>
                <td class="actions">
                  <RowAction
                    action={`/settings/tokens/${t.id}/revoke`}
                    target="#tokens-section"
                    confirm={`Revoke “${t.name}”? Scripts using it stop working at once.`}
                    label="Revoke"
                    ariaLabel={`Revoke ${t.name}`}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <EmptyState icon="key" title="No tokens yet" text="Create one for each script or agent, so you can revoke them one at a time." />
      )}
    </section>
  );
}

export type PasswordProps = { errors?: { current?: string; password?: string }; done?: boolean; tokensRevoked?: boolean };

/** The change-password form. */
export function PasswordSection(props: PasswordProps) {
  return (
    <section id="password-section" class="card">
      <h2>Password</h2>
      {props.done ? <Banner tone="success">Password changed. Your other sessions were signed out{props.tokensRevoked ? ' and your personal access tokens revoked' : ''}.</Banner> : null}
      <form method="post" action="/settings/password" class="stack narrow">
        <Field label="Current password" name="current" error={props.errors?.current}>
          <input id="f-current" name="current" type="password" autocomplete="current-password" required />
        </Field>
        <Field label="New password" name="password" error={props.errors?.password} help="At least 12 characters. Changing it signs out your other sessions.">
          <input id="f-password" name="password" type="password" autocomplete="new-password" required minlength={12} maxlength={256} />
        </Field>
        <label class="check-field">
          <input type="checkbox" name="revoke_tokens" value="1" checked />
          Also revoke my API tokens
        </label>
        <div>
          <button class="btn" type="submit">
            Change password
          </button>
        </div>
      </form>
    </section>
  );
}

/** The Settings page. */
export function SettingsPage(props: { frame: Frame; tokens: TokensProps; password?: PasswordProps; mcpUrl: string; grants: GrantInfo[] }) {
  return (
    <AppPage title="Settings" frame={props.frame}>
      <PageHeader title="Settings" subtitle={`Signed in as ${props.frame.user.username}.`} />
      <div class="stack-lg">
        <TokensSection {...props.tokens} />
        <AgentsSection mcpUrl={props.mcpUrl} />
        <OAuthGrantsSection grants={props.grants} />
        <PasswordSection {...(props.password ?? {})} />
      </div>
    </AppPage>
  );
}
