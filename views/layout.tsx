// The frame of every page: head, top bar with the workspace selector and user menu, sidebar.
import type { Child, PropsWithChildren } from 'hono/jsx';
import { raw } from 'hono/html';
import { Icon } from './ui';

export type NavUser = { username: string; isAdmin: boolean };
export type NavProject = { slug: string; name: string; /** Usernames of the project's admins (names need not be unique; these tell projects apart). */ admins?: string[] };
/** "alice added you to Platform (platform) as editor", until dismissed through event `through`. */
export type FrameNotices = { added: { id: number; actor: string; project: NavProject; role: string }[]; through: number; returnTo: string };
export type Frame = {
  user: NavUser;
  /** 'private' or a project slug. */
  current: { ref: string; name: string; kind: 'private' | 'project' } | null;
  projects: NavProject[];
  /** Which sidebar item is active. */
  section: 'credentials' | 'toolkits' | 'members' | 'settings' | 'audit' | 'users' | 'projects' | 'oauth-apps';
  /** True when the user administers at least one project (they may read its audit log). */
  adminOfProject?: boolean;
  notices?: FrameNotices;
};

// Strict CSP: no eval, no injected indicator styles. Validation answers (400/409/422) carry
// the re-rendered form, so htmx swaps them like successes.
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  selfRequestsOnly: true,
  // Never carry style attributes across swaps: the CSP forbids inline styles.
  attributesToSettle: ['class', 'width', 'height'],
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '(400|403|409|422|429)', swap: true, error: false },
    { code: '...', swap: false, error: true },
  ],
});

/** A bare HTML document (sign-in pages use it directly). */
export function Document(props: PropsWithChildren<{ title: string; bodyClass?: string }>) {
  // The doctype keeps browsers out of quirks mode (where tables would not inherit font sizes).
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${props.title} · Latchkey`}</title>
        <link rel="stylesheet" href="/static/app.css" />
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <script src="/static/htmx.min.js" defer></script>
        <script src="/static/app.js" defer></script>
      </head>
      <body class={props.bodyClass}>{props.children}</body>
      </html>
    </>
  );
}

function Brand() {
  return (
    <a class="brand" href="/">
      <span class="brand-mark" aria-hidden="true">
        <Icon name="key" />
      </span>
      <span>Latchkey</span>
    </a>
  );
}

function WorkspaceSelector(props: { frame: Frame }) {
  const { current, projects } = props.frame;
  const label = current ? current.name : 'Workspaces';
  const section = props.frame.section === 'credentials' || props.frame.section === 'toolkits' ? props.frame.section : 'toolkits';
  return (
    <details class="menu ws-selector" id="workspace-selector">
      <summary aria-label={`Workspace: ${label}`}>
        <Icon name={current?.kind === 'project' ? 'briefcase' : 'person'} />
        <span class="ws-name">{label}</span>
        <Icon name="chevron" class="chev" />
      </summary>
      <div class="menu-panel" role="menu">
        <p class="menu-heading">Workspaces</p>
        <a role="menuitem" href={`/w/private/${section}`} class={current?.ref === 'private' ? 'active' : ''}>
          <Icon name="person" /> Private
        </a>
        {projects.length ? <p class="menu-heading">Team projects</p> : null}
        {projects.map((p) => (
          <a role="menuitem" href={`/w/${p.slug}/${section}`} class={current?.ref === p.slug ? 'active' : ''}>
            <Icon name="briefcase" />
            <span class="ws-item">
              <span class="ws-item-name">{p.name}</span>{' '}
              <span class="ws-item-meta">
                {p.slug}
                {p.admins?.length ? ` · admin ${p.admins.join(', ')}` : ''}
              </span>
            </span>
          </a>
        ))}
        <hr />
        <a role="menuitem" href="/projects/new">
          <Icon name="plus" /> New project
        </a>
      </div>
    </details>
  );
}

function UserMenu(props: { user: NavUser }) {
  return (
    <details class="menu user-menu">
      <summary>
        <span class="avatar" aria-hidden="true">
          {props.user.username.slice(0, 1).toUpperCase()}
        </span>
        {/* The name is read as "Account: alice" and shown as "alice" (an aria-label would not match the visible text). */}
        <span class="sr-only">Account: </span>
        <span class="user-name">{props.user.username}</span>
        <Icon name="chevron" class="chev" />
      </summary>
      <div class="menu-panel menu-right" role="menu">
        <a role="menuitem" href="/settings">
          <Icon name="settings" /> Settings
        </a>
        <form method="post" action="/logout">
          <button type="submit" role="menuitem" class="menu-button">
            <Icon name="logout" /> Sign out
          </button>
        </form>
      </div>
    </details>
  );
}

function SideLink(props: { href: string; icon: Parameters<typeof Icon>[0]['name']; active: boolean; children: Child }) {
  return (
    <a href={props.href} class={props.active ? 'active' : ''} aria-current={props.active ? 'page' : undefined}>
      <Icon name={props.icon} />
      <span>{props.children}</span>
    </a>
  );
}

function Sidebar(props: { frame: Frame }) {
  const { current, section, user } = props.frame;
  return (
    <nav class="sidebar" aria-label="Main">
      {current ? (
        <>
          <p class="side-heading">{current.kind === 'project' ? 'Project' : 'Private workspace'}</p>
          <SideLink href={`/w/${current.ref}/credentials`} icon="key" active={section === 'credentials'}>
            Credentials
          </SideLink>
          <SideLink href={`/w/${current.ref}/toolkits`} icon="toolbox" active={section === 'toolkits'}>
            Toolkits
          </SideLink>
          {current.kind === 'project' ? (
            <SideLink href={`/w/${current.ref}/members`} icon="users" active={section === 'members'}>
              Members
            </SideLink>
          ) : null}
        </>
      ) : null}
      <p class="side-heading">Account</p>
      <SideLink href="/settings" icon="settings" active={section === 'settings'}>
        Settings
      </SideLink>
      {user.isAdmin ? (
        <>
          <p class="side-heading">Instance</p>
          <SideLink href="/admin/audit" icon="shield" active={section === 'audit'}>
            Audit log
          </SideLink>
          <SideLink href="/admin/users" icon="users" active={section === 'users'}>
            Users
          </SideLink>
          <SideLink href="/admin/oauth-apps" icon="key" active={section === 'oauth-apps'}>
            OAuth apps
          </SideLink>
        </>
      ) : props.frame.adminOfProject ? (
        <>
          <p class="side-heading">Project admin</p>
          <SideLink href="/admin/audit" icon="shield" active={section === 'audit'}>
            Audit log
          </SideLink>
        </>
      ) : null}
    </nav>
  );
}

/** Tells a person who added them to which project since they last dismissed these notices. */
function Notices(props: { notices: FrameNotices }) {
  const { added, through, returnTo } = props.notices;
  return (
    <div id="notices">
      <div class="banner banner-info notice-banner" role="status">
        <Icon name="users" />
        <div>
          <strong class="banner-title">{added.length === 1 ? 'You were added to a project' : `You were added to ${added.length} projects`}</strong>
          <ul class="plain-list">
            {added.map((n) => (
              <li>
                {n.actor} added you to <a href={`/w/${n.project.slug}/toolkits`}>{n.project.name}</a> (<code>{n.project.slug}</code>) as {n.role}.
              </li>
            ))}
          </ul>
        </div>
        <form method="post" action="/notices/dismiss" hx-post="/notices/dismiss" hx-target="#notices" hx-swap="outerHTML" class="notice-dismiss">
          <input type="hidden" name="through" value={String(through)} />
          <input type="hidden" name="return" value={returnTo} />
          <button class="btn btn-sm" type="submit">
            Dismiss
          </button>
        </form>
      </div>
    </div>
  );
}

/** A signed-in page: top bar, sidebar and the page content. */
export function AppPage(props: PropsWithChildren<{ title: string; frame: Frame; flash?: Child }>) {
  return (
    <Document title={props.title}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Brand />
        <WorkspaceSelector frame={props.frame} />
        <div class="topbar-spacer" />
        <UserMenu user={props.frame.user} />
      </header>
      <div class="shell">
        <Sidebar frame={props.frame} />
        <main id="main" tabindex={-1}>
          {props.frame.notices ? <Notices notices={props.frame.notices} /> : null}
          {props.flash ? <div id="flash">{props.flash}</div> : null}
          {props.children}
        </main>
      </div>
      <div id="dialog-slot"></div>
    </Document>
  );
}

/** A centred card page for signing in and up. */
export function AuthPage(props: PropsWithChildren<{ title: string }>) {
  return (
    <Document title={props.title} bodyClass="auth-body">
      <main class="auth-main">
        <div class="auth-brand">
          <Brand />
          <p>Share integrations with your team, never the secrets.</p>
        </div>
        <div class="card auth-card">{props.children}</div>
      </main>
    </Document>
  );
}

/** A calm error page for the few things that go wrong. */
export function ErrorPage(props: { status: number; title: string; message: string }) {
  return (
    <Document title={props.title} bodyClass="auth-body">
      <main class="auth-main">
        <div class="card auth-card error-card">
          <p class="error-status">{props.status}</p>
          <h1>{props.title}</h1>
          <p>{props.message}</p>
          <a class="btn" href="/">
            Back to Latchkey
          </a>
        </div>
      </main>
    </Document>
  );
}
