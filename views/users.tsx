// The Users page (instance admins): the list, the create form, and the confirmation dialogs for
// disabling a user, removing instance admin and resetting a password.
import type { UserWithProjects } from '../src/domain/models';
import { auditQueryString } from '../src/domain/audit-query';
import { AppPage, type Frame } from './layout';
import { UserDependencies, type ProjectDeps } from './offboarding';
import { Banner, Field, Icon, PageHeader, Pill, Time, TableHead, DialogOrPage } from './ui';

export type CreateUserForm = { username?: string; admin?: boolean; errors?: { username?: string; password?: string } };

export type UsersPageProps = {
  frame: Frame;
  users: UserWithProjects[];
  me: string;
  signup: 'open' | 'closed';
  form?: CreateUserForm;
  notice?: { tone: 'success' | 'danger'; text: string };
};

const userBase = (username: string) => `/admin/users/${encodeURIComponent(username)}`;

function CreateUserCard(props: { form?: CreateUserForm; signup: 'open' | 'closed' }) {
  const f = props.form ?? {};
  return (
    <section class="card" id="create-user" aria-labelledby="create-user-title">
      <h2 id="create-user-title">Add a user</h2>
      <p class="muted">
        {props.signup === 'closed'
          ? 'Sign-up is closed on this instance, so this is how people get an account.'
          : 'Sign-up is open, but you can also create an account for someone.'}{' '}
        Give them the initial password safely; they can change it in Settings.
      </p>
      <form method="post" action="/admin/users" class="inline-form create-user-form">
        <Field label="Username" name="username" id="new-username" error={f.errors?.username}>
          <input id="new-username" name="username" required value={f.username ?? ''} autocomplete="off" spellcheck={false} placeholder="e.g. carol" />
        </Field>
        <Field label="Initial password" name="password" id="new-password" error={f.errors?.password} help="At least 12 characters.">
          <input id="new-password" name="password" type="password" required minlength={12} maxlength={256} autocomplete="new-password" />
        </Field>
        <label class="check-field">
          <input type="checkbox" name="admin" value="1" checked={!!f.admin} /> Instance admin
        </label>
        <button class="btn btn-primary" type="submit">
          <Icon name="plus" /> Create user
        </button>
      </form>
    </section>
  );
}

/** The Users page. */
export function UsersPage(props: UsersPageProps) {
  const admins = props.users.filter((u) => u.isAdmin && !u.disabled).length;
  return (
    <AppPage title="Users" frame={props.frame}>
      <PageHeader title="Users" subtitle={`${props.users.length} account${props.users.length === 1 ? '' : 's'} on this instance, ${admins} active instance admin${admins === 1 ? '' : 's'}.`} />
      {props.notice ? (
        <Banner tone={props.notice.tone} id="users-notice">
          {props.notice.text}
        </Banner>
      ) : null}
      <CreateUserCard form={props.form} signup={props.signup} />
      <div class="card table-card">
        <table class="table users-table">
          <TableHead columns={['User', 'Role', 'Status', 'Projects', 'Created']} actions="Actions" />
          <tbody>
            {props.users.map((u) => {
              const self = u.username === props.me;
              const lastAdmin = u.isAdmin && !u.disabled && admins <= 1;
              return (
                <tr id={`user-${u.username}`} class={u.disabled ? 'is-disabled' : undefined}>
                  <td>
                    <span class="name-cell">
                      <span class="avatar avatar-sm" aria-hidden="true">
                        {u.username.slice(0, 1).toUpperCase()}
                      </span>
                      <a href={`/admin/audit${auditQueryString({ actor: u.username })}`} title={`Everything ${u.username} did`}>
                        <strong>{u.username}</strong>
                      </a>
                      {self ? <span class="muted">(you)</span> : null}
                    </span>
                  </td>
                  <td>{u.isAdmin ? <Pill tone="accent">Instance admin</Pill> : <span class="muted">Member</span>}</td>
                  <td>{u.disabled ? <Pill tone="danger">Disabled</Pill> : <Pill tone="success">Active</Pill>}</td>
                  <td class="num">{u.projects}</td>
                  <td>
                    <Time at={u.createdAt} />
                  </td>
                  <td class="actions">
                    <a class="btn btn-sm" href={`${userBase(u.username)}/password`} hx-get={`${userBase(u.username)}/password`} hx-target="#dialog-slot">
                      Reset password
                    </a>
                    {u.isAdmin ? (
                      self || lastAdmin ? null : (
                        <a class="btn btn-sm" href={`${userBase(u.username)}/admin-revoke`} hx-get={`${userBase(u.username)}/admin-revoke`} hx-target="#dialog-slot">
                          Remove admin
                        </a>
                      )
                    ) : (
                      <form method="post" action={`${userBase(u.username)}/admin-grant`} class="inline">
                        <button class="btn btn-sm" type="submit">
                          Make admin
                        </button>
                      </form>
                    )}
                    {u.disabled ? (
                      <form method="post" action={`${userBase(u.username)}/enable`} class="inline">
                        <button class="btn btn-sm" type="submit">
                          Enable
                        </button>
                      </form>
                    ) : self || lastAdmin ? null : (
                      <a class="btn btn-sm btn-ghost-danger" href={`${userBase(u.username)}/disable`} hx-get={`${userBase(u.username)}/disable`} hx-target="#dialog-slot">
                        Disable
                      </a>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p class="help">The last active instance admin cannot be disabled or lose admin. Nobody can disable themselves or remove their own admin; ask another admin.</p>
    </AppPage>
  );
}

export type UserAction = 'disable' | 'admin-revoke' | 'password';

const CONFIRM: Record<UserAction, { title: (u: string) => string; text: (u: string) => string; button: string; danger: boolean }> = {
  disable: {
    title: (u) => `Disable ${u}?`,
    text: (u) => `${u} is signed out everywhere at once, and their API tokens and connected agents (OAuth grants) are revoked. Their credentials, toolkits and history stay; you can enable the account again later (they will need new tokens).`,
    button: 'Disable user',
    danger: true,
  },
  'admin-revoke': {
    title: (u) => `Remove instance admin from ${u}?`,
    text: (u) => `${u} can no longer manage users or read the whole audit log, and is signed out everywhere. Their projects and roles in them do not change.`,
    button: 'Remove admin',
    danger: true,
  },
  password: {
    title: (u) => `Reset the password of ${u}`,
    text: (u) => `Type a new password for ${u} and give it to them safely. All their sessions end; their API tokens keep working.`,
    button: 'Set password',
    danger: false,
  },
};

/** The confirmation of a user action: a dialog (htmx) or the body of a page of its own. */
export function ConfirmUserAction(props: { username: string; action: UserAction; asDialog: boolean; error?: string; dependencies?: ProjectDeps[] }) {
  const c = CONFIRM[props.action];
  const action = `${userBase(props.username)}/${props.action}`;
  const body = (
    <form
      method="post"
      action={action}
      {...(props.action === 'password' && props.asDialog ? { 'hx-post': action, 'hx-target': '#dialog-slot' } : {})}
    >
      <div class="dialog-body">
        <h2 id="confirm-title">{c.title(props.username)}</h2>
        <p>{c.text(props.username)}</p>
        {props.dependencies ? <UserDependencies person={props.username} projects={props.dependencies} /> : null}
        {props.action === 'password' ? (
          <Field label="New password" name="password" id="reset-password" error={props.error} help="At least 12 characters.">
            <input id="reset-password" name="password" type="password" required minlength={12} maxlength={256} autocomplete="new-password" autofocus />
          </Field>
        ) : props.error ? (
          <Banner tone="danger">{props.error}</Banner>
        ) : null}
      </div>
      <div class="dialog-actions">
        {props.asDialog ? (
          <button class="btn" type="button" data-close-dialog>
            Cancel
          </button>
        ) : (
          <a class="btn" href="/admin/users">
            Cancel
          </a>
        )}
        <button class={`btn ${c.danger ? 'btn-danger' : 'btn-primary'}`} type="submit">
          {c.button}
        </button>
      </div>
    </form>
  );
  return (
    <DialogOrPage asDialog={props.asDialog} id="user-dialog" labelledBy="confirm-title">
      {body}
    </DialogOrPage>
  );
}

/** A user action's confirmation as a whole page (without JavaScript). */
export function ConfirmUserActionPage(props: { frame: Frame; username: string; action: UserAction; error?: string; dependencies?: ProjectDeps[] }) {
  return (
    <AppPage title={CONFIRM[props.action].title(props.username)} frame={props.frame}>
      <p class="crumbs">
        <a href="/admin/users">Users</a> <span>/</span> <span>{props.username}</span>
      </p>
      <div class="card form-card confirm-card">
        <ConfirmUserAction {...props} asDialog={false} />
      </div>
    </AppPage>
  );
}
