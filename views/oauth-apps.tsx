// The OAuth apps page (instance admins): the registered apps with the callback URL to register at
// each provider, the form to add one, and delete. The client secret is never shown again.
import type { OAuthApp } from '../src/domain/models';
import { PROVIDERS, PROVIDER_DEFS } from '../src/connect/providers';
import { AppPage, type Frame } from './layout';
import { Banner, EmptyState, Field, Icon, PageHeader, RowAction, TableHead } from './ui';

export type OAuthAppForm = { values?: Record<string, string>; errors?: Record<string, string> };

export type OAuthAppsPageProps = {
  frame: Frame;
  apps: OAuthApp[];
  /** BASE_URL or the request's origin: callback URLs are made from it. */
  origin: string;
  form?: OAuthAppForm;
  notice?: { tone: 'success' | 'danger'; text: string };
};

const callback = (origin: string, name: string) => `${origin}/oauth/callback/${name}`;

function CreateAppCard(props: { form?: OAuthAppForm; origin: string }) {
  const v = props.form?.values ?? {};
  const e = props.form?.errors ?? {};
  const input = (name: string, label: string, attrs: { help?: string; type?: string; required?: boolean; placeholder?: string } = {}) => (
    <Field label={label} name={name} id={`app-${name}`} error={e[name]} help={attrs.help}>
      <input
        id={`app-${name}`}
        name={name}
        type={attrs.type ?? 'text'}
        required={attrs.required}
        value={attrs.type === 'password' ? '' : (v[name] ?? '')}
        placeholder={attrs.placeholder}
        autocomplete="off"
        spellcheck={false}
      />
    </Field>
  );
  return (
    <section class="card form-card" id="create-oauth-app" aria-labelledby="create-oauth-app-title">
      <h2 id="create-oauth-app-title">Register an OAuth app</h2>
      <p class="muted">
        Create an OAuth app at the service first, with the callback URL <code>{callback(props.origin, '<name>')}</code> (the name you enter here). Members
        can then connect their own account instead of pasting a token.
      </p>
      <form method="post" action="/admin/oauth-apps" class="stack-form">
        {input('name', 'Name', { required: true, placeholder: 'e.g. github', help: 'Lowercase letters, digits, - and _; shown as "Connect <name>".' })}
        <Field label="Provider" name="provider" id="app-provider" error={e.provider} help="oauth2 works with any OAuth 2 service; it makes HTTP API (bearer token) credentials.">
          <select id="app-provider" name="provider">
            {PROVIDERS.map((p) => (
              <option value={p} selected={v.provider === p}>
                {p} ({PROVIDER_DEFS[p].label})
              </option>
            ))}
          </select>
        </Field>
        {input('client_id', 'Client ID', { required: true })}
        {input('client_secret', 'Client secret', { type: 'password', required: true, help: 'Encrypted; never shown again.' })}
        {input('authorize_url', 'Authorization URL', { help: 'Leave empty for the provider’s own; required for oauth2 and self-hosted servers.' })}
        {input('token_url', 'Token URL', { help: 'Leave empty for the provider’s own; required for oauth2 and self-hosted servers.' })}
        {input('scopes', 'Scopes', { help: 'Space-separated; empty for the provider’s defaults.' })}
        {input('base_url', 'API base URL', { help: 'The base URL of the credentials it makes (e.g. https://gitlab.example.com).' })}
        <div class="form-actions">
          <button class="btn btn-primary" type="submit">
            <Icon name="plus" /> Register app
          </button>
        </div>
      </form>
    </section>
  );
}

/** The OAuth apps page. */
export function OAuthAppsPage(props: OAuthAppsPageProps) {
  return (
    <AppPage title="OAuth apps" frame={props.frame}>
      <PageHeader title="OAuth apps" subtitle="Services members can connect their own account to." />
      {props.notice ? (
        <Banner tone={props.notice.tone} id="oauth-apps-notice">
          {props.notice.text}
        </Banner>
      ) : null}
      {props.apps.length ? (
        <div class="card table-card">
          <table class="table oauth-apps-table">
            <TableHead columns={['Name', 'Provider', 'Client ID', 'Callback URL']} actions="Actions" />
            <tbody>
              {props.apps.map((a) => (
                <tr id={`oauth-app-${a.name}`}>
                  <td>
                    <strong>{a.name}</strong>
                  </td>
                  <td>{PROVIDER_DEFS[a.provider as keyof typeof PROVIDER_DEFS]?.label ?? a.provider}</td>
                  <td>
                    <code>{a.clientId}</code>
                  </td>
                  <td>
                    <code class="callback-url">{callback(props.origin, a.name)}</code>
                  </td>
                  <td class="actions">
                    <RowAction action={`/admin/oauth-apps/${a.name}/delete`} label="Delete" ariaLabel={`Delete ${a.name}`} danger icon="trash" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <EmptyState icon="key" title="No OAuth apps yet" text="Register one below so members can connect their accounts." />
      )}
      <CreateAppCard form={props.form} origin={props.origin} />
    </AppPage>
  );
}
