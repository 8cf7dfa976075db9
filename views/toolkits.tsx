// The Toolkits area: the list with each toolkit's status for me, the create/edit form with its
// credential field and the Credential Configuration Change dialog, and a toolkit's page with its
// credential banner, team readiness and one run panel per tool.
import type { Child } from 'hono/jsx';
import type { Toolkit, MemberCredentialState } from '../src/domain/models';
import type { Workspace } from '../src/domain/models';
import { getCredentialType } from '../src/domain/credential-types';
import { resolveCredential, statusOf, STATUS_LABELS, type Candidate, type Resolution, type ToolkitStatus } from '../src/domain/resolution';
import { expiryOf } from '../src/domain/expiry';
import type { RateLimit } from '../src/domain/rate-limit';
import type { MemberRun } from '../src/domain/models';
import { ExpiryBanner } from './credentials';
import type { ToolDef, ToolkitType } from '../src/toolkits';
import { TOOLKIT_TYPES, getToolkitType } from '../src/toolkits';
import type { RunResult } from '../src/services/run-toolkit';
import { runFailureMessage } from '../src/domain/failures';
import { AppPage, type Frame } from './layout';
import { Banner, CredentialIdTag, EmptyState, Field, Icon, PageHeader, Pager, Pill, ScopeIcon, type PageInfo, TableHead, TypeField, CreateButton } from './ui';

const base = (ws: Workspace) => `/w/${ws.ref}/toolkits`;
const credTypeLabel = (t: string) => getCredentialType(t)?.label ?? t;
const typesText = (types: string[]) => types.map(credTypeLabel).join(' or ');

const STATUS_TONE: Record<ToolkitStatus, 'success' | 'warning' | 'danger'> = {
  ready: 'success',
  setup_required: 'warning',
  type_mismatch: 'danger',
  credential_missing: 'danger',
  expired: 'danger',
  reconnect_required: 'danger',
};

/** A status pill: Ready, Credential setup required, Type mismatch or Credential missing. */
export function StatusPill(props: { status: ToolkitStatus }) {
  return <Pill tone={STATUS_TONE[props.status]}>{STATUS_LABELS[props.status]}</Pill>;
}

/** The scope icon and Credential ID a toolkit uses. */
export function CredentialRef(props: { credential: Toolkit['credential'] }) {
  return (
    <span class="cred-ref">
      <ScopeIcon scope={props.credential.scope} />
      <CredentialIdTag id={props.credential.credentialId} />
    </span>
  );
}

export type ToolkitRow = { toolkit: Toolkit; run: MemberRun };

/** The Toolkits page of a workspace. */
export function ToolkitsPage(props: { frame: Frame; ws: Workspace; rows: ToolkitRow[]; pageInfo: PageInfo; canEdit: boolean; notice?: string }) {
  const { ws } = props;
  return (
    <AppPage title={`Toolkits · ${ws.name}`} frame={props.frame}>
      <PageHeader
        title="Toolkits"
        subtitle={
          ws.kind === 'project' ? (
            <>
              Integrations shared in <strong>{ws.name}</strong>. Toolkits with a private credential run as each member, with their own account.
            </>
          ) : (
            'Your own toolkits. They run with your private credentials.'
          )
        }
      >
        {props.canEdit ? <CreateButton href={`${base(ws)}/new`} /> : null}
      </PageHeader>
      {props.notice ? <Banner tone="success">{props.notice}</Banner> : null}
      {props.pageInfo.total === 0 ? (
        <div class="card">
          <EmptyState
            icon="toolbox"
            title="No toolkits yet"
            text={
              props.canEdit
                ? 'A toolkit connects a service — GitHub, GitLab, Jira, Confluence, Slack or any HTTP API — with a credential. Agree on a Credential ID with your team and each member runs it as themselves.'
                : 'Editors and admins of this project create toolkits. Once they do, you run them here with your own credentials.'
            }
          >
            {props.canEdit ? <CreateButton href={`${base(ws)}/new`} /> : null}
          </EmptyState>
        </div>
      ) : (
        <div class="card table-card">
          <table class="table">
            <TableHead columns={['Name', 'Type', 'Credential', 'Status for you']} actions="Actions" />
            <tbody>
              {props.rows.map(({ toolkit, run: { status, runsWith, expiry } }) => (
                <tr id={`toolkit-${toolkit.id}`}>
                  <td>
                    <a class="row-title" href={`${base(ws)}/${toolkit.id}`}>
                      {toolkit.name}
                    </a>
                  </td>
                  <td>
                    <Pill>{getToolkitType(toolkit.type)?.label ?? toolkit.type}</Pill>
                  </td>
                  <td>
                    <CredentialRef credential={toolkit.credential} />
                  </td>
                  <td>
                    <StatusPill status={status} /> {runsWith === 'fallback' ? <span class="cell-sub">with the project fallback</span> : null}
                    {expiry === 'soon' ? <Pill tone="warning">Expires soon</Pill> : null}
                  </td>
                  <td class="actions">
                    <a class="btn btn-sm" href={`${base(ws)}/${toolkit.id}`}>
                      {status === 'ready' ? 'Open' : status === 'setup_required' ? 'Set up' : 'Open'}
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager info={props.pageInfo} href={(p) => (p > 1 ? `${base(ws)}?page=${p}` : base(ws))} />
        </div>
      )}
    </AppPage>
  );
}

export type ToolkitFormState = {
  mode: 'create' | 'edit';
  name: string;
  type: string;
  settings: Record<string, string>;
  /** 'private' or 'project'. */
  scope: 'private' | 'project';
  /** The agreed ID (private) or the chosen project credential's ID (project). */
  credentialId: string;
  /** Private scope in a project: the project credential members without their own run with ('' for none). */
  fallback: string;
  errors: Record<string, string>;
  original?: Toolkit;
  /** Set when saving would change the credential of a saved toolkit: the dialog's content. */
  change?: { affected: string[]; total: number; /** Who could not run it as configured before the change. */ before: string[] };
};

export type CredentialOptions = { project: Candidate[]; ownPrivate: Candidate[] };

/** The credential field: a choice filtered to the types the toolkit accepts, with ways to create one. */
export function CredentialField(props: { ws: Workspace; state: ToolkitFormState; options: CredentialOptions; kind: ToolkitType }) {
  const { ws, state, kind, options } = props;
  const accepted = kind.credentialTypes;
  const projectOptions = options.project.filter((c) => accepted.includes(c.type));
  const ownIds = options.ownPrivate.filter((c) => accepted.includes(c.type));
  const original = state.original?.credential;
  const choice = state.scope === 'project' ? `project:${state.credentialId}` : 'private';
  const originalChoice = original ? (original.scope === 'project' ? `project:${original.credentialId}` : 'private') : '';
  const returnTo = state.original ? `${base(ws)}/${state.original.id}/edit` : `${base(ws)}/new`;
  return (
    <fieldset id="credential-field" class="stack">
      <legend>Credential</legend>
      <p class="muted">
        Accepts {typesText(accepted)} credentials.{' '}
        {ws.kind === 'project' ? 'A private credential runs as each member with their own account; a project credential runs everyone as one account.' : 'Toolkits in your Private workspace use your private credentials.'}
      </p>
      {ws.kind === 'project' ? (
        <Field label="Use" name="credential_choice" error={state.errors['credential.scope']}>
          <select id="f-credential_choice" name="credential_choice" data-original={originalChoice} data-toggle-private>
            <option value="private" selected={choice === 'private'}>
              Private credential — each member’s own, by Credential ID
            </option>
            {projectOptions.length ? (
              <optgroup label="Project credentials (shared account)">
                {projectOptions.map((c) => (
                  <option value={`project:${c.credentialId}`} selected={choice === `project:${c.credentialId}`}>
                    {c.name} ({c.credentialId})
                  </option>
                ))}
              </optgroup>
            ) : null}
          </select>
        </Field>
      ) : (
        <input type="hidden" name="credential_choice" value="private" />
      )}
      <div class="private-id" data-private-only>
        <Field
          label="Private Credential ID"
          name="private_credential_id"
          error={state.errors['credential.credential_id']}
          help="The ID every member’s own private credential must have. Agree on it with your team, e.g. github_token."
        >
          <input
            id="f-private_credential_id"
            name="private_credential_id"
            class="mono"
            list="own-credential-ids"
            value={state.scope === 'private' ? state.credentialId : ''}
            data-original={original?.scope === 'private' ? original.credentialId : ''}
            autocomplete="off"
            spellcheck={false}
          />
        </Field>
        <datalist id="own-credential-ids">
          {ownIds.map((c) => (
            <option value={c.credentialId}>{c.name}</option>
          ))}
        </datalist>
        {ownIds.length ? (
          <p class="help">
            Your private {typesText(accepted)} IDs:{' '}
            {ownIds.map((c, i) => (
              <>
                {i ? ', ' : ''}
                <code>{c.credentialId}</code>
              </>
            ))}
          </p>
        ) : null}
        {ws.kind === 'project' ? (
          <Field
            label="Members without their own credential"
            name="credential_fallback"
            error={state.errors['credential.fallback']}
            help="Private only: they see Credential setup required. With a project credential: they run as that shared account, and the run says so; members with their own always use theirs."
          >
            <select id="f-credential_fallback" name="credential_fallback" data-original={original?.fallback?.credentialId ?? ''}>
              <option value="" selected={!state.fallback}>
                Private only
              </option>
              {projectOptions.map((c) => (
                <option value={c.credentialId} selected={state.fallback === c.credentialId}>
                  Private, else project credential {c.credentialId}
                </option>
              ))}
              {state.fallback && !projectOptions.some((c) => c.credentialId === state.fallback) ? (
                <option value={state.fallback} selected>
                  Private, else project credential {state.fallback} (not available)
                </option>
              ) : null}
            </select>
          </Field>
        ) : null}
      </div>
      <div class="create-links">
        <span class="muted">Need a credential?</span>
        <a href={`/w/private/credentials/new?type=${accepted[0]}&return=${encodeURIComponent(returnTo)}`} target="_blank" rel="noopener">
          <Icon name="person" /> Create a private credential
        </a>
        {ws.kind === 'project' ? (
          <a href={`/w/${ws.ref}/credentials/new?type=${accepted[0]}&return=${encodeURIComponent(returnTo)}`} target="_blank" rel="noopener">
            <Icon name="briefcase" /> Create a project credential
          </a>
        ) : null}
        <button class="btn btn-sm" type="submit" formaction={`${base(ws)}/form/credential-field`} hx-post={`${base(ws)}/form/credential-field`} hx-target="#credential-field" hx-swap="outerHTML" hx-select="#credential-field" formnovalidate>
          Refresh list
        </button>
      </div>
      <p class="help">Creating opens in a new tab, so nothing you typed here is lost. Come back and refresh the list.</p>
    </fieldset>
  );
}

/** The settings of a toolkit type (never secrets). */
export function SettingsFields(props: { kind: ToolkitType; state: ToolkitFormState }) {
  if (!props.kind.settings.length) return <div id="settings-fields"></div>;
  return (
    <div id="settings-fields" class="stack">
      {props.kind.settings.map((s) => (
        <Field label={s.label} name={`setting_${s.name}`} error={props.state.errors[`settings.${s.name}`]} help={s.help}>
          <input id={`f-setting_${s.name}`} name={`setting_${s.name}`} value={props.state.settings[s.name] ?? ''} placeholder={s.placeholder} required={s.required} autocomplete="off" />
        </Field>
      ))}
    </div>
  );
}

/** Splits who cannot run the toolkit after a change into those it takes access from and those who could not before either. */
export function splitAffected(before: string[], after: string[]): { loseAccess: string[]; alreadyCannot: string[] } {
  const couldNot = new Set(before);
  return { loseAccess: after.filter((u) => !couldNot.has(u)), alreadyCannot: after.filter((u) => couldNot.has(u)) };
}

/** The Credential Configuration Change dialog, shown before saving a changed credential. */
export function CredentialChangeDialog(props: { state: ToolkitFormState; ws: Workspace; asPage?: boolean }) {
  const change = props.state.change!;
  const n = change.affected.length;
  const { loseAccess, alreadyCannot } = splitAffected(change.before, change.affected);
  const body = (
    <>
      <div class="dialog-body stack">
        <h2 id="credential-change-title">Credential Configuration Change</h2>
        <p>
          You are changing this toolkit’s credential
          {props.state.original ? (
            <>
              {' '}
              from <code>{props.state.original.credential.credentialId}</code>
            </>
          ) : null}{' '}
          to {props.state.scope === 'project' ? 'the project credential' : 'the private Credential ID'} <code>{props.state.credentialId}</code>.
        </p>
        {props.state.scope === 'private' && props.ws.kind === 'project' ? (
          <p id="fallback-change">
            {props.state.fallback ? (
              <>
                Members without their own <code>{props.state.credentialId}</code> will run with the project credential <code>{props.state.fallback}</code>, as that shared account.
              </>
            ) : (
              <>Members without their own <code>{props.state.credentialId}</code> cannot run it (no fallback).</>
            )}
            {(props.state.original?.credential.fallback?.credentialId ?? '') !== props.state.fallback ? (
              <>
                {' '}
                Fallback before: {props.state.original?.credential.fallback ? <code>{props.state.original.credential.fallback.credentialId}</code> : 'none'}.
              </>
            ) : null}
          </p>
        ) : null}
        {n ? (
          <Banner tone="warning" title={props.state.scope === 'private' && props.state.fallback ? `${n} of ${change.total} members have no credential of their own: they will run with ${props.state.fallback}` : `${n} of ${change.total} members will see Credential setup required`}>
            {loseAccess.length ? (
              <section class="affected-group" aria-labelledby="lose-access-title">
                <h3 id="lose-access-title">Will lose access ({loseAccess.length})</h3>
                <p class="affected-names">{loseAccess.join(', ')}</p>
                <p>
                  They can run this toolkit today.{' '}
                  {props.state.scope === 'private'
                    ? `After this change they need a private credential with Credential ID ${props.state.credentialId}.`
                    : 'The chosen credential cannot serve this toolkit.'}
                </p>
              </section>
            ) : null}
            {alreadyCannot.length ? (
              <section class="affected-group" aria-labelledby="already-cannot-title">
                <h3 id="already-cannot-title">Already can’t run it ({alreadyCannot.length})</h3>
                <p class="affected-names">{alreadyCannot.join(', ')}</p>
                <p>They have no matching credential today either; this change does not take anything away from them.</p>
              </section>
            ) : null}
          </Banner>
        ) : (
          <Banner tone="success" title={`All ${change.total} members are ready`}>
            Everyone already has a matching credential.
          </Banner>
        )}
      </div>
      <div class="dialog-actions">
        {props.asPage ? (
          <button class="btn" type="submit" name="discard_credential" value="1" formnovalidate>
            Discard changes
          </button>
        ) : (
          <button class="btn" type="button" data-discard-credential>
            Discard changes
          </button>
        )}
        <button class="btn btn-primary" type="submit" name="confirm_change" value="1">
          Confirm changes
        </button>
      </div>
    </>
  );
  if (props.asPage) return <div class="card confirm-card">{body}</div>;
  return (
    <dialog id="credential-change-dialog" data-open-modal aria-labelledby="credential-change-title">
      {body}
    </dialog>
  );
}

/** The create/edit form (the fragment htmx swaps). */
export function ToolkitForm(props: { ws: Workspace; state: ToolkitFormState; options: CredentialOptions }) {
  const { ws, state } = props;
  const kind = getToolkitType(state.type) ?? TOOLKIT_TYPES[0];
  const action = state.mode === 'create' ? base(ws) : `${base(ws)}/${state.original!.id}`;
  return (
    <form id="toolkit-form" method="post" action={action} class="card form-card stack" hx-post={action} hx-target="#toolkit-form" hx-select="#toolkit-form" hx-swap="outerHTML">
      {state.errors._form ? <Banner tone="danger">{state.errors._form}</Banner> : null}
      {state.original ? <input type="hidden" name="toolkit_id" value={String(state.original.id)} /> : null}
      <Field label="Name" name="name" error={state.errors.name} help="What your team calls this integration, e.g. “GitHub — platform repos”.">
        <input id="f-name" name="name" value={state.name} required maxlength={120} autocomplete="off" />
      </Field>
      <TypeField
        editable={state.mode === 'create'}
        options={TOOLKIT_TYPES}
        selected={kind}
        error={state.errors.type}
        hx={{ 'hx-post': `${base(ws)}/form/type`, 'hx-trigger': 'change', 'hx-target': '#toolkit-form', 'hx-select': '#toolkit-form', 'hx-swap': 'outerHTML' }}
      />
      <p class="muted type-desc">{kind.description}</p>
      <SettingsFields kind={kind} state={state} />
      <CredentialField ws={ws} state={state} options={props.options} kind={kind} />
      {state.change ? <CredentialChangeDialog state={state} ws={ws} /> : null}
      <div class="form-actions">
        <a class="btn" href={state.original ? `${base(ws)}/${state.original.id}` : base(ws)}>
          Cancel
        </a>
        <button class="btn btn-primary" type="submit">
          {state.mode === 'create' ? 'Create toolkit' : 'Save changes'}
        </button>
      </div>
    </form>
  );
}

/** The page around the form; without JavaScript a pending credential change is a confirmation page. */
export function ToolkitFormPage(props: { frame: Frame; ws: Workspace; state: ToolkitFormState; options: CredentialOptions; confirmPage?: boolean }) {
  const { ws, state } = props;
  const title = state.mode === 'create' ? 'New toolkit' : `Edit ${state.original!.name}`;
  return (
    <AppPage title={title} frame={props.frame}>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={base(ws)}>Toolkits</a> <span aria-hidden="true">/</span> <span>{state.mode === 'create' ? 'New' : state.original!.name}</span>
      </nav>
      <PageHeader title={title} subtitle="Settings are never secrets; secrets live only in credentials." />
      {props.confirmPage ? (
        <form method="post" action={`${base(ws)}/${state.original!.id}`} class="confirm-page">
          <HiddenToolkitFields state={state} />
          <CredentialChangeDialog state={state} ws={ws} asPage />
        </form>
      ) : (
        <ToolkitForm ws={ws} state={state} options={props.options} />
      )}
    </AppPage>
  );
}

function HiddenToolkitFields(props: { state: ToolkitFormState }) {
  const s = props.state;
  return (
    <>
      <input type="hidden" name="name" value={s.name} />
      <input type="hidden" name="type" value={s.type} />
      {Object.entries(s.settings).map(([k, v]) => (
        <input type="hidden" name={`setting_${k}`} value={v} />
      ))}
      <input type="hidden" name="credential_choice" value={s.scope === 'project' ? `project:${s.credentialId}` : 'private'} />
      <input type="hidden" name="private_credential_id" value={s.scope === 'private' ? s.credentialId : ''} />
      <input type="hidden" name="credential_fallback" value={s.scope === 'private' ? s.fallback : ''} />
    </>
  );
}

/** An OAuth app a member may connect their account with, as pages offer it. */
export type ConnectApp = { name: string; credentialType: string };

/** The Connect (or Reconnect) link: a GET that redirects to the provider (a form would be blocked by the CSP's form-action). */
export function connectHref(app: string, credentialId: string, returnTo: string, reconnect = false): string {
  return `/connect/${encodeURIComponent(app)}?credential_id=${encodeURIComponent(credentialId)}&return_to=${encodeURIComponent(returnTo)}${reconnect ? '&reconnect=1' : ''}`;
}

/** The credential banner of a toolkit for the current member, with the way to fix what is wrong. */
export function CredentialStatus(props: { ws: Workspace; toolkit: Toolkit; resolution: Resolution; nearMisses: Candidate[]; kind: ToolkitType; now: number; canEdit: boolean; connectApps?: ConnectApp[] }) {
  const { ws, toolkit, resolution: r, kind } = props;
  const fallback = toolkit.credential.scope === 'private' ? toolkit.credential.fallback : null;
  const id = toolkit.credential.credentialId;
  const back = `${base(ws)}/${toolkit.id}`;
  const connectable = (props.connectApps ?? []).filter((a) => kind.credentialTypes.includes(a.credentialType));
  const createUrl = `/w/private/credentials/new?credential_id=${encodeURIComponent(id)}&type=${kind.credentialTypes[0]}&required_by=${encodeURIComponent(toolkit.name)}&return=${encodeURIComponent(back)}`;
  let banner: Child = null;
  if (r.ok && r.runsWith === 'fallback') {
    banner = (
      <Banner tone="success" title="Ready, with the project fallback" id="runs-with-fallback">
        You have no private credential <code>{id}</code>, so this toolkit runs for you with the project credential <code>{r.credential.credentialId}</code> ({r.credential.name}), as
        the team’s shared account. <a href={createUrl}>Create your own</a> to run as yourself.
      </Banner>
    );
  } else if (r.ok) {
    banner = (
      <Banner tone="success" title="Ready">
        Runs with {r.scope === 'private' ? <>your private credential</> : <>the project credential</>} <code>{r.credential.credentialId}</code> ({r.credential.name}).
        {r.credential.connectedApp && r.credential.connectedAccount ? <span class="connected-as"> Connected as @{r.credential.connectedAccount}</span> : null}
      </Banner>
    );
  } else if (r.reason === 'expired') {
    banner = (
      <Banner tone="danger" title="Credential expired" id="credential-expired">
        <p>{runFailureMessage(r)}</p>
        {toolkit.credential.scope === 'private' && r.credentialId === id ? (
          r.connectedApp ? (
            // A connected account's expiry came from the provider: it is renewed by connecting again.
            <a class="btn btn-primary" href={connectHref(r.connectedApp, id, back, true)}>
              Reconnect
            </a>
          ) : (
            <a class="btn" href={`/w/private/credentials/${encodeURIComponent(id)}/edit`}>
              Open my credential
            </a>
          )
        ) : null}
      </Banner>
    );
  } else if (r.reason === 'setup_required') {
    banner = (
      <Banner tone="warning" title="Credential setup required" id="setup-required">
        <p>
          This toolkit runs with your own private credential with Credential ID <code class="strong-id">{id}</code> of type <strong>{credTypeLabel(r.credentialType)}</strong>
          {r.acceptedTypes.length > 1 ? ` (or ${typesText(r.acceptedTypes.slice(1))})` : ''}. You don’t have one yet.
        </p>
        {props.nearMisses.length ? (
          <div class="near-miss">
            {props.nearMisses.map((c) => (
              <form method="post" action={`${back}/adopt-credential`} class="near-miss-row">
                <input type="hidden" name="from" value={c.credentialId} />
                <span>
                  You have <strong>{c.name}</strong> with ID <code>{c.credentialId}</code>, which looks meant for this toolkit.
                </span>
                <button class="btn btn-sm" type="submit">
                  Change its ID to {id}
                </button>
              </form>
            ))}
          </div>
        ) : null}
        <div class="banner-actions">
          <a class="btn btn-primary" href={createUrl}>
            <Icon name="plus" /> Create my credential
          </a>
          {connectable.map((a) => (
            <a class="btn" href={connectHref(a.name, id, back)}>
              Connect {a.name}
            </a>
          ))}
        </div>
      </Banner>
    );
  } else if (r.reason === 'reconnect_required') {
    banner = (
      <Banner tone="danger" title="Reconnect required" id="reconnect-required">
        <p>{runFailureMessage(r)}</p>
        <a class="btn btn-primary" href={connectHref(r.connectedApp, r.credentialId, back, true)}>
          Reconnect
        </a>
      </Banner>
    );
  } else if (r.reason === 'type_mismatch') {
    banner = (
      <Banner tone="danger" title="Type mismatch" id="type-mismatch">
        <p>
          {runFailureMessage(r)} Replace it with a {credTypeLabel(r.expectedType)} credential under the same ID.
        </p>
        <a class="btn" href={`/w/private/credentials/${encodeURIComponent(r.credentialId)}/edit`}>
          Open my credential
        </a>
      </Banner>
    );
  } else {
    banner = (
      <Banner tone="danger" title="Credential missing" id="credential-missing">
        The project credential <code>{r.credentialId}</code> this toolkit used was deleted. An editor can choose another one.
      </Banner>
    );
  }
  return (
    <section class="card" id="credential-status">
      <div class="section-head">
        <h2>Credential</h2>
        <CredentialRef credential={toolkit.credential} />
      </div>
      {banner}
      {r.ok && r.runsWith !== 'fallback' && r.scope === 'private' ? (
        <ExpiryBanner
          expiresAt={r.credential.expiresAt ?? null}
          now={props.now}
          credentialId={r.credential.credentialId}
          reconnectHref={r.credential.connectedApp ? connectHref(r.credential.connectedApp, r.credential.credentialId, back, true) : undefined}
        />
      ) : null}
      {r.ok && (r.runsWith === 'fallback' || r.scope === 'project') && props.canEdit ? <ExpiryBanner expiresAt={r.credential.expiresAt ?? null} now={props.now} credentialId={r.credential.credentialId} /> : null}
      {fallback ? (
        fallback.rowId === null ? (
          props.canEdit ? (
            <Banner tone="danger" title="The fallback credential is gone" id="fallback-gone">
              The project credential <code>{fallback.credentialId}</code> this toolkit falls back to was deleted. Members without their own <code>{id}</code> now see Credential setup
              required. <a href={`${base(ws)}/${toolkit.id}/edit`}>Choose another fallback</a> or set it to Private only.
            </Banner>
          ) : null
        ) : (
          <p class="muted" id="fallback-note">
            Members without their own <code>{id}</code> run with the project credential <code>{fallback.credentialId}</code>.
          </p>
        )
      ) : null}
    </section>
  );
}

/** Who in the project is ready to run a toolkit with a private credential (names only). */
export function TeamReadiness(props: { members: MemberCredentialState[]; kind: ToolkitType; credential: Toolkit['credential']; fallbackCredential: Candidate | null; now: number }) {
  const ref = props.credential;
  const rows = props.members.map((m) => {
    const r = resolveCredential(ref, props.kind.credentialTypes, { privateCredential: m.credential, fallbackCredential: props.fallbackCredential }, props.now);
    return { username: m.username, state: statusOf(r), runsWith: r.ok ? r.runsWith : undefined, expiry: r.ok ? expiryOf(r.credential.expiresAt, props.now) : 'none' };
  });
  const ready = rows.filter((r) => r.state === 'ready').length;
  return (
    <section class="card" id="team-readiness">
      <div class="section-head">
        <h2>Team readiness</h2>
        <span class="muted">
          {ready} of {rows.length} members ready
        </span>
      </div>
      <div class="meter" role="img" aria-label={`${ready} of ${rows.length} members ready`}>
        <svg viewBox="0 0 100 6" preserveAspectRatio="none" width="100%" height="6" aria-hidden="true">
          <rect width="100" height="6" rx="3" fill="#e2e6ec" />
          <rect width={rows.length ? (100 * ready) / rows.length : 0} height="6" rx="3" fill="#1f7a4d" />
        </svg>
      </div>
      <ul class="readiness">
        {rows.map((r) => (
          <li>
            <span class="avatar avatar-sm" aria-hidden="true">
              {r.username.slice(0, 1).toUpperCase()}
            </span>
            <span>{r.username}</span>
            <Pill tone={r.state === 'ready' ? 'success' : r.state === 'setup_required' ? 'warning' : 'danger'}>
              {r.state === 'ready' ? (r.runsWith === 'fallback' ? 'Ready · project fallback' : ref.fallback ? 'Ready · own' : 'Ready') : r.state === 'setup_required' ? `No ${ref.credentialId}` : STATUS_LABELS[r.state]}
            </Pill>
            {r.expiry === 'soon' ? <Pill tone="warning">expires soon</Pill> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function ToolInputField(props: { tool: ToolDef; input: ToolDef['input'][number]; error?: string; value?: string }) {
  const { tool, input } = props;
  const id = `in-${tool.name}-${input.name}`;
  const name = `in_${input.name}`;
  const long = input.type === 'object' || ['body', 'description', 'text', 'jql', 'cql'].includes(input.name);
  return (
    <Field label={`${input.label}${input.required ? '' : ' (optional)'}`} name={name} id={id} error={props.error} help={input.help}>
      {input.options ? (
        <select id={id} name={name}>
          {input.required ? null : <option value="">—</option>}
          {input.options.map((o) => (
            <option value={o} selected={props.value === o}>
              {o}
            </option>
          ))}
        </select>
      ) : input.type === 'boolean' ? (
        <input id={id} name={name} type="checkbox" />
      ) : long ? (
        <textarea id={id} name={name} rows={input.type === 'object' ? 4 : 3} placeholder={input.type === 'object' ? '{ "key": "value" }' : undefined}>
          {props.value ?? ''}
        </textarea>
      ) : (
        <input id={id} name={name} type={input.type === 'number' ? 'number' : 'text'} value={props.value ?? ''} required={input.required} autocomplete="off" />
      )}
    </Field>
  );
}

/** The outcome of a run: the service's status and body, and whose credential was used. */
export function RunOutcome(props: { ws: Workspace; toolkit: Toolkit; toolName: string; result: RunResult | null }) {
  const r = props.result;
  const id = `run-${props.toolName}-result`;
  if (!r) return <div id={id} class="run-result" aria-live="polite"></div>;
  if (r.ok) {
    const tone = r.result.status < 300 ? 'success' : r.result.status < 400 ? 'accent' : 'warning';
    return (
      <div id={id} class="run-result" aria-live="polite">
        <div class="run-meta">
          <Pill tone={tone}>HTTP {r.result.status}</Pill>
          {/* Wraps only between its parts (never inside "Ran with" or the ID), so it reads in a narrow panel. */}
          <span class="ran-as">
            <span>Ran with</span>{' '}
            <span class="ran-as-id">
              <ScopeIcon scope={r.credential.scope} /> <code>{r.credential.credentialId}</code>
            </span>{' '}
            {r.credential.scope === 'private' ? <strong>(yours)</strong> : <strong>(project {props.ws.name})</strong>}
          </span>
          <span class="muted">{r.durationMs} ms</span>
          {r.rateLimit ? <RateLimitNote rateLimit={r.rateLimit} credentialId={r.credential.credentialId} /> : null}
          {/* The fallback's reason on a line of its own, under the run's facts. */}
          {r.credential.fallback ? (
            <span class="fallback-ran">
              This was the project fallback: you have no <code>{props.toolkit.credential.credentialId}</code> of your own.
            </span>
          ) : null}
        </div>
        <pre class="run-body">{typeof r.result.body === 'string' ? r.result.body : JSON.stringify(r.result.body, null, 2)}</pre>
      </div>
    );
  }
  const message: Child =
    r.reason === 'invalid_input' ? (
      <ul class="plain-list">
        {Object.entries(r.errors).map(([k, v]) => (
          <li>{k === '_form' ? v : `${k}: ${v}`}</li>
        ))}
      </ul>
    ) : (
      runFailureMessage(r)
    );
  return (
    <div id={id} class="run-result" aria-live="polite">
      <Banner tone={r.reason === 'invalid_input' ? 'warning' : 'danger'} title={r.reason === 'invalid_input' ? 'Check the inputs' : 'The run did not reach the service'}>
        {message}
      </Banner>
    </div>
  );
}

/** The remaining budget of the credential that ran, as the service reported it. */
function RateLimitNote(props: { rateLimit: RateLimit; credentialId: string }) {
  const { remaining, limit, resetAt } = props.rateLimit;
  return (
    <span class="rate-limit muted">
      Rate limit of {props.credentialId}: {remaining}
      {limit !== null ? ` of ${limit}` : ''} left{resetAt !== null ? `, resets ${new Date(resetAt).toISOString().replace('T', ' ').slice(0, 16)} UTC` : ''}
    </span>
  );
}

/** One tool's run panel. */
export function RunPanel(props: { ws: Workspace; toolkit: Toolkit; tool: ToolDef; disabled: boolean; reconnect?: string }) {
  const { ws, toolkit, tool } = props;
  const action = `${base(ws)}/${toolkit.id}/run/${tool.name}`;
  return (
    <section class="card run-panel" id={`tool-${tool.name}`}>
      <div class="section-head">
        <div>
          <h3>{tool.label}</h3>
          <p class="muted tool-desc">
            {tool.description} <code class="tool-name">{tool.name}</code>
          </p>
        </div>
      </div>
      <form method="post" action={action} hx-post={action} hx-target={`#run-${tool.name}-result`} hx-swap="outerHTML" class="stack">
        {tool.input.length ? (
          <div class="run-inputs">
            {tool.input.map((i) => (
              <ToolInputField tool={tool} input={i} />
            ))}
          </div>
        ) : null}
        <div>
          {props.reconnect ? (
            <span class="reconnect-required">
              <Pill tone="danger">Reconnect required</Pill>{' '}
              <a class="btn btn-primary" href={props.reconnect}>
                Reconnect
              </a>
            </span>
          ) : (
            <button class="btn btn-primary" type="submit" disabled={props.disabled}>
              <Icon name="play" /> Run
            </button>
          )}
        </div>
      </form>
      <RunOutcome ws={ws} toolkit={toolkit} toolName={tool.name} result={null} />
    </section>
  );
}

/** A toolkit's own page. */
export function ToolkitPage(props: {
  frame: Frame;
  ws: Workspace;
  toolkit: Toolkit;
  resolution: Resolution;
  nearMisses: Candidate[];
  readiness: MemberCredentialState[] | null;
  /** The toolkit's fallback credential row (for team readiness), null when none or deleted. */
  fallbackCredential: Candidate | null;
  now: number;
  canEdit: boolean;
  notice?: string;
  /** Why the last action on this page was refused, and what to do (a danger banner). */
  problem?: { title: string; text: string; link?: { href: string; label: string } };
  runResult?: { tool: string; result: RunResult };
  /** OAuth apps the member may connect an account with (the banner offers those of an accepted type). */
  connectApps?: ConnectApp[];
}) {
  const { ws, toolkit } = props;
  const r = props.resolution;
  const reconnect = !r.ok && r.reason === 'reconnect_required' ? connectHref(r.connectedApp, r.credentialId, `${base(ws)}/${toolkit.id}`, true) : undefined;
  const kind = getToolkitType(toolkit.type)!;
  const settings = Object.entries(toolkit.settings).filter(([, v]) => v);
  return (
    <AppPage title={`${toolkit.name} · ${ws.name}`} frame={props.frame}>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={base(ws)}>Toolkits</a> <span aria-hidden="true">/</span> <span>{toolkit.name}</span>
      </nav>
      <PageHeader
        title={toolkit.name}
        subtitle={
          <>
            <Pill>{kind.label}</Pill> <StatusPill status={props.resolution.ok ? 'ready' : props.resolution.reason} />{' '}
            {settings.map(([k, v]) => (
              <span class="setting-chip">
                {kind.settings.find((s) => s.name === k)?.label ?? k}: <code>{v}</code>
              </span>
            ))}
          </>
        }
      >
        {props.canEdit ? (
          <>
            <a class="btn" href={`${base(ws)}/${toolkit.id}/edit`}>
              Edit
            </a>
            <form method="post" action={`${base(ws)}/${toolkit.id}/delete`} class="inline" hx-confirm={`Delete the toolkit ${toolkit.name}? Credentials are not affected.`}>
              <button class="btn btn-ghost-danger" type="submit">
                Delete
              </button>
            </form>
          </>
        ) : null}
      </PageHeader>
      {props.problem ? (
        <Banner tone="danger" title={props.problem.title} id="page-problem">
          <p>{props.problem.text}</p>
          {props.problem.link ? (
            <a class="btn btn-sm" href={props.problem.link.href}>
              {props.problem.link.label}
            </a>
          ) : null}
        </Banner>
      ) : null}
      {props.notice ? <Banner tone="success">{props.notice}</Banner> : null}
      <div class="toolkit-grid">
        <div class="stack-lg">
          <CredentialStatus ws={ws} toolkit={toolkit} resolution={props.resolution} nearMisses={props.nearMisses} kind={kind} now={props.now} canEdit={props.canEdit} connectApps={props.connectApps} />
          {kind.tools.map((tool) =>
            props.runResult && props.runResult.tool === tool.name ? (
              <section class="card run-panel" id={`tool-${tool.name}`}>
                <h3>{tool.label}</h3>
                <RunOutcome ws={ws} toolkit={toolkit} toolName={tool.name} result={props.runResult.result} />
                <a href={`${base(ws)}/${toolkit.id}`}>Run again</a>
              </section>
            ) : (
              <RunPanel ws={ws} toolkit={toolkit} tool={tool} disabled={!props.resolution.ok} reconnect={reconnect} />
            ),
          )}
        </div>
        {props.readiness ? (
          <aside>
            <TeamReadiness members={props.readiness} kind={kind} credential={toolkit.credential} fallbackCredential={props.fallbackCredential} now={props.now} />
          </aside>
        ) : null}
      </div>
    </AppPage>
  );
}
