// The Credentials area: the list, the create/edit form with its live Credential ID, the
// connection test result, and the delete confirmation. Secrets are never rendered: secret
// inputs are always empty.
import type { CredentialMeta, ToolkitRef } from '../src/domain/models';
import { CREDENTIAL_TYPES, getCredentialType, type CredentialType } from '../src/domain/credential-types';
import type { Workspace } from '../src/domain/models';
import type { ConnectionTest } from '../src/http/service-call';
import { expiryOf } from '../src/domain/expiry';
import { AppPage, type Frame } from './layout';
import { connectHref } from './toolkits';
import { defaultCredentialId } from '../src/connect/flow';
import { Banner, CredentialIdTag, EmptyState, Field, Icon, PageHeader, Pager, Pill, ScopeIcon, Time, type PageInfo, TableHead, TypeField, CreateButton, DialogOrPage } from './ui';

export function typeLabel(type: string): string {
  return getCredentialType(type)?.label ?? type;
}

const base = (ws: Workspace) => `/w/${ws.ref}/credentials`;

/** The result of a connection test, as a small status line. */
export function TestResult(props: { result: ConnectionTest | null; id?: string }) {
  const id = props.id ?? 'test-result';
  if (!props.result) return <div id={id} class="test-result" aria-live="polite"></div>;
  return (
    <div id={id} class={`test-result ${props.result.ok ? 'ok' : 'failed'}`} aria-live="polite">
      <Icon name={props.result.ok ? 'check' : 'alert'} />
      <span>{props.result.message}</span>
    </div>
  );
}

/** The "last test" cell of a saved credential, swapped after a test from the list. */
export function LastTestCell(props: { ws: Workspace; cred: CredentialMeta; canEdit: boolean }) {
  const t = props.cred.lastTest;
  return (
    <td id={`test-${props.cred.credentialId}`} class="last-test">
      {t ? (
        <span class="test-line" title={t.message}>
          <Pill tone={t.ok ? 'success' : 'danger'}>{t.ok ? 'Verified' : 'Failed'}</Pill>
          <span class="test-when">
            <Time at={t.at} />
          </span>
          <span class="test-msg">{t.message}</span>
        </span>
      ) : (
        <span class="muted">Not tested</span>
      )}
      <form method="post" action={`${base(props.ws)}/${props.cred.credentialId}/test`} hx-post={`${base(props.ws)}/${props.cred.credentialId}/test`} hx-target={`#test-${props.cred.credentialId}`} hx-swap="outerHTML" class="inline">
        <button class="btn btn-sm link-btn" type="submit">
          Test connection
        </button>
      </form>
    </td>
  );
}

export type ListProps = {
  frame: Frame;
  ws: Workspace;
  credentials: CredentialMeta[];
  /** All credentials of the workspace (for the empty state). */
  total: number;
  /** The page shown, of those matching the filter. */
  pageInfo: PageInfo;
  filter: { type?: string; q?: string };
  canEdit: boolean;
  notice?: string;
  /** The app clock's time, for the expiry warnings. */
  now: number;
};

/** The table of credentials (the fragment the filters swap). */
export function CredentialList(props: ListProps) {
  const { ws, credentials } = props;
  if (props.total === 0) {
    return (
      <div id="credential-list">
        <div class="card">
          <EmptyState
            icon="key"
            title={ws.kind === 'project' ? 'No project credentials yet' : 'No private credentials yet'}
            text={
              ws.kind === 'project'
                ? 'A project credential is shared: every member’s toolkit runs act as this one account. Prefer private credentials when people should act as themselves.'
                : 'Store your own tokens here under the Credential ID your team agreed on. Toolkits in your projects then run as you.'
            }
          >
            {props.canEdit ? <CreateButton href={`${base(ws)}/new`} /> : null}
          </EmptyState>
        </div>
      </div>
    );
  }
  return (
    <div id="credential-list">
      {credentials.length === 0 ? (
        <div class="card">
          <EmptyState icon="list" title="No matches" text="No credential matches this filter." />
        </div>
      ) : (
        <div class="card table-card">
          <table class="table credentials-table">
            <TableHead columns={['Name', 'Credential ID', 'Type', 'Activity', 'Connection']} actions={props.canEdit && 'Actions'} />
            <tbody>
              {credentials.map((cr) => (
                <tr id={`cred-${cr.credentialId}`}>
                  <td>
                    <span class="name-cell">
                      <ScopeIcon scope={cr.scope} />
                      <span>
                        <strong>{cr.name}</strong> <ExpiryPill expiresAt={cr.expiresAt} now={props.now} />
                        <span class="cell-sub">created by {cr.createdBy ?? 'a deleted user'}</span>
                        {cr.connection?.account ? <span class="cell-sub connected-as">Connected as @{cr.connection.account}</span> : null}
                        {cr.connection?.status === 'reconnect_required' ? (
                          <span class="cell-sub">
                            <Pill tone="danger">Reconnect required</Pill>{' '}
                            <a href={connectHref(cr.connection.app, cr.credentialId, base(ws), true)}>Reconnect</a>
                          </span>
                        ) : cr.connection && expiryOf(cr.expiresAt, props.now) !== 'ok' && expiryOf(cr.expiresAt, props.now) !== 'none' ? (
                          // Expiring or expired connected account: renewed by connecting it again.
                          <span class="cell-sub">
                            <a href={connectHref(cr.connection.app, cr.credentialId, base(ws), true)}>Reconnect</a>
                          </span>
                        ) : null}
                      </span>
                    </span>
                  </td>
                  <td>
                    <CredentialIdTag id={cr.credentialId} />
                  </td>
                  <td>
                    <Pill>{typeLabel(cr.type)}</Pill>
                  </td>
                  <td class="activity">
                    <span class="cell-line">
                      <span class="cell-key">Updated</span> <Time at={cr.updatedAt} />
                    </span>
                    <span class="cell-line">
                      <span class="cell-key">Last used</span> <Time at={cr.lastUsedAt} />
                    </span>
                  </td>
                  <LastTestCell ws={ws} cred={cr} canEdit={props.canEdit} />
                  {props.canEdit ? (
                    <td class="actions">
                      <a class="btn btn-sm" href={`${base(ws)}/${cr.credentialId}/edit`}>
                        Edit
                      </a>
                      <a class="btn btn-sm btn-ghost-danger" href={`${base(ws)}/${cr.credentialId}/delete`} hx-get={`${base(ws)}/${cr.credentialId}/delete`} hx-target="#dialog-slot">
                        Delete
                      </a>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
          <Pager info={props.pageInfo} href={(p) => listHref(ws, props.filter, p)} target="#credential-list" />
        </div>
      )}
    </div>
  );
}

function listHref(ws: Workspace, filter: { type?: string; q?: string }, page: number): string {
  const q = new URLSearchParams();
  if (filter.q) q.set('q', filter.q);
  if (filter.type) q.set('type', filter.type);
  if (page > 1) q.set('page', String(page));
  const qs = q.toString();
  return qs ? `${base(ws)}?${qs}` : base(ws);
}

/** The Credentials page of a workspace. */
export function CredentialsPage(props: ListProps) {
  const { ws } = props;
  return (
    <AppPage title={`Credentials · ${ws.name}`} frame={props.frame}>
      <PageHeader
        title="Credentials"
        subtitle={
          ws.kind === 'project' ? (
            <>
              Project credentials of <strong>{ws.name}</strong>, shared by its toolkits. Their secrets are never shown again after saving.
            </>
          ) : (
            'Your private credentials. Only you can see or use them; toolkits in your projects find them by Credential ID.'
          )
        }
      >
        {props.canEdit ? <CreateButton href={`${base(ws)}/new`} /> : null}
      </PageHeader>
      {props.notice ? <Banner tone="success">{props.notice}</Banner> : null}
      {props.total > 0 ? (
        <form class="filters" method="get" action={base(ws)} hx-get={base(ws)} hx-target="#credential-list" hx-swap="outerHTML" hx-trigger="input changed delay:250ms from:#cred-search, change from:#cred-type, submit" hx-push-url="true" role="search">
          <label class="sr-only" for="cred-search">
            Search by name or Credential ID
          </label>
          <input id="cred-search" type="search" name="q" value={props.filter.q ?? ''} placeholder="Search by name or Credential ID" />
          <label class="sr-only" for="cred-type">
            Filter by type
          </label>
          <select id="cred-type" name="type">
            <option value="">All types</option>
            {CREDENTIAL_TYPES.map((t) => (
              <option value={t.type} selected={props.filter.type === t.type}>
                {t.label}
              </option>
            ))}
          </select>
          <noscript>
            <button class="btn" type="submit">
              Filter
            </button>
          </noscript>
        </form>
      ) : null}
      <CredentialList {...props} />
    </AppPage>
  );
}

export type FormState = {
  mode: 'create' | 'edit';
  type: string;
  name: string;
  credentialId: string;
  /** 'auto': the ID follows the name (read-only); 'manual': the user types it. */
  idMode: 'auto' | 'manual';
  fields: Record<string, string>;
  errors: Record<string, string>;
  conflict?: { takenId: string; suggestion: string };
  returnTo?: string;
  /** Set when the ID was handed over by a toolkit ("Create my credential"). */
  requiredBy?: string;
  original?: CredentialMeta;
  usedBy?: ToolkitRef[];
  test?: ConnectionTest | null;
  /** The expiry field as typed (a date, YYYY-MM-DD), '' for none. */
  expiresAt?: string;
  /** The app clock's time, for the expiry warning. */
  now?: number;
};

/**
 * The Credential ID field. While it follows the name, app.js makes it read-only and shows an
 * "Edit ID" button (id_mode stays "manual" without JavaScript, so the field is plainly editable
 * and a blank one is made from the name by the server).
 */
export function CredentialIdField(props: { ws: Workspace; state: FormState }) {
  const { state } = props;
  const error = state.errors.credential_id;
  const follows = state.idMode === 'auto' && state.mode === 'create';
  const help =
    state.mode === 'edit' ? (
      'Toolkits find this credential by its ID. Changing it is allowed; see the warning below.'
    ) : follows ? (
      'Made from the name; toolkits find credentials by this ID. Choose “Edit ID” to use the ID your team agreed on.'
    ) : state.requiredBy ? (
      <>
        The ID the toolkit <strong>{state.requiredBy}</strong> expects. Keep it exactly so the toolkit finds your credential.
      </>
    ) : (
      'Lowercase letters, digits and _ (1 to 64), starting with a letter or digit.'
    );
  return (
    <div id="credential-id-field">
      <Field label="Credential ID" name="credential_id" error={error} help={help}>
        <div class="id-input">
          <input
            id="f-credential_id"
            name="credential_id"
            class="mono"
            value={state.credentialId}
            data-auto-id={follows ? 'true' : undefined}
            aria-describedby="f-credential_id-help"
            autocomplete="off"
            spellcheck={false}
          />
          {follows ? (
            <button type="button" class="btn" data-edit-id hidden>
              Edit ID
            </button>
          ) : null}
        </div>
      </Field>
      <input type="hidden" name="id_mode" value="manual" data-id-mode={follows ? 'auto' : undefined} />
      {state.conflict ? (
        <p class="suggestion">
          {state.credentialId === state.conflict.suggestion ? 'Filled in with a free ID' : 'A free ID would be'}: <code>{state.conflict.suggestion}</code>. Change it if you like.
        </p>
      ) : null}
    </div>
  );
}

/** The type-specific fields (swapped when the type changes). Secret inputs are always empty. */
export function TypeFields(props: { state: FormState }) {
  const type = getCredentialType(props.state.type) ?? CREDENTIAL_TYPES[0];
  const editing = props.state.mode === 'edit';
  return (
    <div id="type-fields" class="stack">
      {type.fields.map((f) => {
        const key = f.secret ? `secret_${f.name}` : `field_${f.name}`;
        const error = props.state.errors[f.secret ? `secrets.${f.name}` : `fields.${f.name}`];
        const help = f.secret && editing ? 'Leave blank to keep the current value.' : f.help;
        return (
          <Field label={f.label} name={key} error={error} help={help}>
            {f.secret ? (
              <input id={`f-${key}`} name={key} type="password" hx-preserve="true" autocomplete="new-password" required={f.required && !editing} placeholder={editing ? '•••••••• (saved)' : f.placeholder} spellcheck={false} />
            ) : (
              <input id={`f-${key}`} name={key} value={props.state.fields[f.name] ?? (editing ? '' : f.default ?? '')} required={f.required} placeholder={f.placeholder} spellcheck={false} autocomplete="off" />
            )}
          </Field>
        );
      })}
    </div>
  );
}

/** The create/edit form. */
export function CredentialForm(props: { ws: Workspace; state: FormState }) {
  const { ws, state } = props;
  const action = state.mode === 'create' ? base(ws) : `${base(ws)}/${state.original!.credentialId}/edit`;
  const testAction = state.mode === 'create' ? `${base(ws)}/test` : `${base(ws)}/${state.original!.credentialId}/test`;
  const type: CredentialType = getCredentialType(state.type) ?? CREDENTIAL_TYPES[0];
  return (
    <form id="credential-form" method="post" action={action} class="card form-card stack" hx-post={action} hx-target="#credential-form" hx-swap="outerHTML" hx-select="#credential-form">
      {state.conflict ? (
        <Banner tone="warning" title={`Credential ID ${state.conflict.takenId} is already in use in this workspace`}>
          Choose another ID below; everything else you typed is kept.
        </Banner>
      ) : null}
      {state.errors._form ? <Banner tone="danger">{state.errors._form}</Banner> : null}
      <input type="hidden" name="return" value={state.returnTo ?? ''} />
      <input type="hidden" name="required_by" value={state.requiredBy ?? ''} />
      <div class="scope-note">
        <ScopeIcon scope={ws.kind === 'project' ? 'project' : 'private'} showLabel />
        <span class="muted">{ws.kind === 'project' ? `in ${ws.name}: members run toolkits as this account` : 'visible only to you'}</span>
      </div>
      <Field label="Credential Name" name="name" error={state.errors.name} help="A name people recognise, e.g. “GitHub Integration Token”.">
        <input
          id="f-name"
          name="name"
          value={state.name}
          required
          maxlength={120}
          autocomplete="off"
          {...(state.mode === 'create' && state.idMode === 'auto'
            ? { 'hx-post': `${base(ws)}/id-preview`, 'hx-trigger': 'input changed delay:150ms', 'hx-target': '#credential-id-field', 'hx-swap': 'outerHTML', 'hx-select': '#credential-id-field' }
            : {})}
        />
      </Field>
      {state.original && state.now !== undefined ? (
        <ExpiryBanner
          expiresAt={state.original.expiresAt}
          now={state.now}
          credentialId={state.original.credentialId}
          reconnectHref={state.original.connection ? connectHref(state.original.connection.app, state.original.credentialId, base(ws), true) : undefined}
        />
      ) : null}
      <CredentialIdField ws={ws} state={state} />
      {state.mode === 'edit' && state.usedBy && state.usedBy.length ? (
        <Banner tone="warning" title="Changing the Credential ID affects these toolkits">
          <ul class="plain-list">
            {state.usedBy.map((t) => (
              <li>
                <strong>{t.name}</strong> <span class="muted">in {t.workspaceName}</span>
              </li>
            ))}
          </ul>
          {ws.kind === 'project' ? 'They keep pointing at this credential and show the new ID.' : 'They look for the old ID and will ask you to set up a credential again.'}
        </Banner>
      ) : null}
      <TypeField
        editable={state.mode === 'create'}
        options={CREDENTIAL_TYPES}
        selected={type}
        error={state.errors.type}
        // hx-select: the form's own hx-select="#credential-form" is inherited, and would pick nothing out of this answer.
        hx={{ 'hx-get': `${base(ws)}/new/fields`, 'hx-target': '#type-fields', 'hx-select': '#type-fields', 'hx-swap': 'outerHTML', 'hx-trigger': 'change', 'hx-include': 'this' }}
      />
      <TypeFields state={state} />
      <Field label="Expires on (optional)" name="expires_at" error={state.errors.expires_at} help="When the token stops working, if you know it. Warnings start seven days before; Test connection fills it in when the service reports it (GitHub does).">
        <input id="f-expires_at" name="expires_at" type="date" value={state.expiresAt ?? ''} />
      </Field>
      <div class="form-footer">
        <div class="test-area">
          <button class="btn" type="submit" formaction={testAction} hx-post={testAction} hx-target="#test-result" hx-swap="outerHTML" hx-include="#credential-form" hx-select="#test-result">
            Test connection
          </button>
          <TestResult result={state.test ?? null} />
        </div>
        <div class="form-actions">
          <a class="btn" href={state.returnTo || base(ws)}>
            Cancel
          </a>
          <button class="btn btn-primary" type="submit">
            {state.mode === 'create' ? 'Save credential' : 'Save changes'}
          </button>
        </div>
      </div>
    </form>
  );
}

/** The page around the form. */
/** Connect <app> links on the + Create page of a Private workspace: connect an account instead of pasting a token. */
function ConnectInstead(props: { apps: { name: string; credentialType: string }[]; state: FormState }) {
  if (!props.apps.length) return null;
  const returnTo = props.state.returnTo || '/w/private/credentials';
  return (
    <section class="card connect-card" id="connect-instead" aria-labelledby="connect-instead-title">
      <h2 id="connect-instead-title">Or connect your account</h2>
      <p class="muted">Sign in at the service instead of pasting a token; Latchkey keeps the token fresh.{props.state.credentialId ? <> It is saved with Credential ID <code>{props.state.credentialId}</code>.</> : null}</p>
      <div class="banner-actions">
        {props.apps.map((a) => (
          <a class="btn" href={connectHref(a.name, props.state.credentialId || defaultCredentialId(a.name), returnTo)}>
            Connect {a.name} <span class="muted">({typeLabel(a.credentialType)})</span>
          </a>
        ))}
      </div>
    </section>
  );
}

export function CredentialFormPage(props: { frame: Frame; ws: Workspace; state: FormState; connectApps?: { name: string; credentialType: string }[] }) {
  const { ws, state } = props;
  const title = state.mode === 'create' ? (ws.kind === 'project' ? 'New project credential' : 'New private credential') : `Edit ${state.original!.name}`;
  return (
    <AppPage title={title} frame={props.frame}>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={base(ws)}>Credentials</a> <span aria-hidden="true">/</span> <span>{state.mode === 'create' ? 'New' : state.original!.credentialId}</span>
      </nav>
      <PageHeader
        title={title}
        subtitle={
          state.mode === 'create'
            ? 'Secrets are encrypted when you save and never shown again, not even to you.'
            : 'Secrets are never shown. Type a new value only to replace one.'
        }
      />
      {state.mode === 'create' && ws.kind === 'private' ? <ConnectInstead apps={props.connectApps ?? []} state={state} /> : null}
      <CredentialForm ws={ws} state={state} />
      {state.mode === 'edit' ? <UsedBy ws={ws} usedBy={state.usedBy ?? []} lastUsedAt={state.original!.lastUsedAt} /> : null}
    </AppPage>
  );
}

/** The "Used by" section of a credential's page: the toolkits that would run with it (links) and its last use. */
export function UsedBy(props: { ws: Workspace; usedBy: ToolkitRef[]; lastUsedAt: number | null }) {
  return (
    <section class="card form-card stack used-by" id="used-by" aria-labelledby="used-by-title">
      <h2 id="used-by-title">Used by</h2>
      {props.usedBy.length ? (
        <ul class="plain-list">
          {props.usedBy.map((t) => (
            <li>
              <a href={`/w/${t.workspace}/toolkits/${t.id}`}>{t.name}</a> <span class="muted">in {t.workspaceName}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">No toolkit {props.ws.kind === 'project' ? 'of this project' : 'you can reach'} runs with this credential.</p>
      )}
      <p class="help">
        {props.ws.kind === 'project' ? 'Last used by anyone' : 'Your last run with it'}: <Time at={props.lastUsedAt} />
      </p>
    </section>
  );
}

/** The delete confirmation, as a dialog (htmx) or a page. */
export function DeleteCredential(props: { ws: Workspace; cred: CredentialMeta; usedBy: ToolkitRef[]; error?: string; asDialog: boolean }) {
  const { ws, cred } = props;
  const body = (
    <form method="post" action={`${base(ws)}/${cred.credentialId}/delete`} class="stack">
      <div class={props.asDialog ? 'dialog-body stack' : 'stack'}>
        <h2 id="delete-title">Delete {cred.name}?</h2>
        <p>
          This removes the credential and its secrets for good. Type its Credential ID <code>{cred.credentialId}</code> to confirm.
        </p>
        {props.usedBy.length ? (
          <Banner tone="warning" title={ws.kind === 'project' ? 'These toolkits will stop working' : 'These toolkits will ask you to set up this credential again'}>
            <ul class="plain-list">
              {props.usedBy.map((t) => (
                <li>
                  <strong>{t.name}</strong> <span class="muted">in {t.workspaceName}</span>
                </li>
              ))}
            </ul>
          </Banner>
        ) : (
          <p class="muted">No toolkit uses this credential.</p>
        )}
        <Field label="Credential ID" name="confirm" id="confirm-id" error={props.error}>
          <input id="confirm-id" name="confirm" class="mono" autocomplete="off" required spellcheck={false} />
        </Field>
      </div>
      <div class={props.asDialog ? 'dialog-actions' : 'form-actions'}>
        {props.asDialog ? (
          <button class="btn" type="button" data-close-dialog>
            Cancel
          </button>
        ) : (
          <a class="btn" href={base(ws)}>
            Cancel
          </a>
        )}
        <button class="btn btn-danger" type="submit">
          <Icon name="trash" /> Delete credential
        </button>
      </div>
    </form>
  );
  return (
    <DialogOrPage asDialog={props.asDialog} id="delete-dialog" labelledBy="delete-title">
      {body}
    </DialogOrPage>
  );
}

/** The delete confirmation as a whole page (without JavaScript). */
export function DeleteCredentialPage(props: { frame: Frame; ws: Workspace; cred: CredentialMeta; usedBy: ToolkitRef[]; error?: string }) {
  return (
    <AppPage title={`Delete ${props.cred.name}`} frame={props.frame}>
      <div class="card form-card">
        <DeleteCredential {...props} asDialog={false} />
      </div>
    </AppPage>
  );
}

const dateText = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** "Expires soon" or "Expired" next to a credential's name (nothing when far off or unknown). */
export function ExpiryPill(props: { expiresAt: number | null; now: number }) {
  const e = expiryOf(props.expiresAt, props.now);
  if (e === 'soon') return <Pill tone="warning">Expires {dateText(props.expiresAt!)}</Pill>;
  if (e === 'expired') return <Pill tone="danger">Expired {dateText(props.expiresAt!)}</Pill>;
  return null;
}

/**
 * The warning on a credential (its edit page, and each toolkit that uses it) from seven days before
 * its end. `reconnectHref`: a connected account, renewed by connecting it again (its expiry comes
 * from the provider, see connectedSchedule), not by pasting a new token.
 */
export function ExpiryBanner(props: { expiresAt: number | null; now: number; credentialId: string; id?: string; reconnectHref?: string }) {
  const e = expiryOf(props.expiresAt, props.now);
  const at = props.expiresAt === null ? '' : new Date(props.expiresAt).toISOString().replace('T', ' ').slice(0, 16);
  const renew = props.reconnectHref ? (
    <>
      <a href={props.reconnectHref}>Reconnect the account</a> to renew it.
    </>
  ) : e === 'soon' ? (
    'Renew the token at the service and save the new one here.'
  ) : (
    'Renew the token and save the new one here.'
  );
  if (e === 'soon') {
    return (
      <Banner tone="warning" title={`Credential ${props.credentialId} expires soon`} id={props.id ?? 'expiry-warning'}>
        It stops working on {at} UTC. {renew}
      </Banner>
    );
  }
  if (e === 'expired') {
    return (
      <Banner tone="danger" title={`Credential ${props.credentialId} has expired`} id={props.id ?? 'expiry-warning'}>
        It stopped working on {at} UTC; runs with it are refused and nothing is sent. {renew}
      </Banner>
    );
  }
  return null;
}
