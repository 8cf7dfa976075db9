// Projects and members pages.
import type { Member, Workspace } from '../src/domain/models';
import { ROLE_LABELS, type ProjectRole } from '../src/domain/access';
import { AppPage, type Frame } from './layout';
import { Banner, Field, Icon, PageHeader, Pill, Time, TableHead } from './ui';

/** The new-project form. */
export function NewProjectPage(props: { frame: Frame; name?: string; error?: string }) {
  return (
    <AppPage title="New project" frame={props.frame}>
      <PageHeader title="New team project" subtitle="A shared place for your team's toolkits and project credentials. You will be its admin." />
      <form method="post" action="/projects" class="card form-card stack">
        <Field label="Project name" name="name" error={props.error} help="Members see this name in the workspace selector.">
          <input id="f-name" name="name" required maxlength={80} value={props.name ?? ''} autofocus />
        </Field>
        <div class="form-actions">
          <a class="btn" href="/">
            Cancel
          </a>
          <button class="btn btn-primary" type="submit">
            Create project
          </button>
        </div>
      </form>
    </AppPage>
  );
}

const ROLE_HELP: Record<ProjectRole, string> = {
  viewer: 'lists and runs toolkits',
  editor: 'also manages toolkits and project credentials',
  admin: 'also manages members',
};

function RoleSelect(props: { name: string; value: ProjectRole; id?: string; label?: string }) {
  return (
    <select name={props.name} id={props.id} aria-label={props.label}>
      {(['viewer', 'editor', 'admin'] as const).map((r) => (
        <option value={r} selected={r === props.value}>
          {ROLE_LABELS[r]}
        </option>
      ))}
    </select>
  );
}

export type MembersProps = {
  frame: Frame;
  ws: Workspace;
  members: Member[];
  me: string;
  form?: { username?: string; role?: ProjectRole; errors?: { username?: string; role?: string } };
  notice?: { tone: 'success' | 'danger'; text: string };
};

/** The members list and the add-member form, as one fragment htmx can swap. */
export function MembersSection(props: MembersProps) {
  const manage = props.ws.role === 'admin';
  return (
    <section id="members-section">
      {props.notice ? <Banner tone={props.notice.tone}>{props.notice.text}</Banner> : null}
      {manage ? (
        <form method="post" action={`/w/${props.ws.ref}/members`} class="card inline-form" hx-post={`/w/${props.ws.ref}/members`} hx-target="#members-section" hx-swap="outerHTML">
          <Field label="Username" name="username" id="add-username" error={props.form?.errors?.username}>
            <input id="add-username" name="username" required value={props.form?.username ?? ''} placeholder="e.g. carol" autocomplete="off" />
          </Field>
          <Field label="Role" name="role" id="add-role" error={props.form?.errors?.role}>
            <RoleSelect name="role" id="add-role" value={props.form?.role ?? 'viewer'} />
          </Field>
          <button class="btn btn-primary" type="submit">
            <Icon name="plus" /> Add member
          </button>
        </form>
      ) : null}
      <div class="card">
        <table class="table">
          <TableHead columns={['Member', 'Role', 'Member since']} actions={manage && 'Actions'} />
          <tbody>
            {props.members.map((m) => (
              <tr id={`member-${m.username}`}>
                <td>
                  <span class="avatar avatar-sm" aria-hidden="true">
                    {m.username.slice(0, 1).toUpperCase()}
                  </span>{' '}
                  <strong>{m.username}</strong> {m.username === props.me ? <span class="muted">(you)</span> : null}
                </td>
                <td>
                  {manage ? (
                    <form method="post" action={`/w/${props.ws.ref}/members/${m.username}/role`} class="row-form" hx-post={`/w/${props.ws.ref}/members/${m.username}/role`} hx-target="#members-section" hx-swap="outerHTML" hx-trigger="change">
                      <RoleSelect name="role" value={m.role} label={`Role of ${m.username}`} />
                      <noscript>
                        <button class="btn btn-sm" type="submit">
                          Save
                        </button>
                      </noscript>
                    </form>
                  ) : (
                    <Pill tone={m.role === 'admin' ? 'accent' : 'neutral'}>{ROLE_LABELS[m.role]}</Pill>
                  )}
                  <span class="muted role-help">{ROLE_HELP[m.role]}</span>
                </td>
                <td>
                  <Time at={m.since} />
                </td>
                {manage ? (
                  <td class="actions">
                    <form method="post" action={`/w/${props.ws.ref}/members/${m.username}/remove`} hx-post={`/w/${props.ws.ref}/members/${m.username}/remove`} hx-target="#members-section" hx-swap="outerHTML" hx-confirm={`Remove ${m.username} from ${props.ws.name}?`}>
                      <button class="btn btn-sm btn-ghost-danger" type="submit" aria-label={`Remove ${m.username}`}>
                        Remove
                      </button>
                    </form>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The project's Members page. */
export function MembersPage(props: MembersProps) {
  return (
    <AppPage title={`Members · ${props.ws.name}`} frame={props.frame}>
      <PageHeader
        title="Members"
        subtitle={
          <>
            Everyone in <strong>{props.ws.name}</strong> runs its toolkits with their own private credentials.
          </>
        }
      />
      <MembersSection {...props} />
    </AppPage>
  );
}
