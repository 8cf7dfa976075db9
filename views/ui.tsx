// Shared pieces of every page: icons, buttons, fields, banners, empty states.
import type { Child, PropsWithChildren } from 'hono/jsx';

export type IconName = 'briefcase' | 'person' | 'key' | 'toolbox' | 'users' | 'settings' | 'shield' | 'plus' | 'copy' | 'check' | 'alert' | 'chevron' | 'play' | 'trash' | 'logout' | 'list' | 'lock';

const PATHS: Record<IconName, Child> = {
  briefcase: (
    <>
      <rect x="3" y="7" width="18" height="13" rx="2" />
      <path d="M8 7V5a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2M3 13h18" />
    </>
  ),
  person: (
    <>
      <circle cx="12" cy="8" r="4" />
      <path d="M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7" />
    </>
  ),
  key: (
    <>
      <circle cx="8" cy="15" r="4" />
      <path d="M11 12l9-9M16 7l3 3M14 9l2 2" />
    </>
  ),
  toolbox: (
    <>
      <rect x="3" y="8" width="18" height="12" rx="2" />
      <path d="M9 8V5h6v3M3 13h18M10 13v2h4v-2" />
    </>
  ),
  users: (
    <>
      <circle cx="9" cy="8" r="3.5" />
      <path d="M2.5 20c0-3.6 2.9-6 6.5-6s6.5 2.4 6.5 6M16 4.5a3.5 3.5 0 0 1 0 7M18 14.5c2.2.7 3.5 2.7 3.5 5.5" />
    </>
  ),
  settings: (
    <>
      <circle cx="12" cy="12" r="3" />
      <path d="M12 2v3M12 19v3M4.2 4.2l2.1 2.1M17.7 17.7l2.1 2.1M2 12h3M19 12h3M4.2 19.8l2.1-2.1M17.7 6.3l2.1-2.1" />
    </>
  ),
  shield: <path d="M12 3l8 3v6c0 4.5-3.4 8.2-8 9-4.6-.8-8-4.5-8-9V6z" />,
  plus: <path d="M12 5v14M5 12h14" />,
  copy: (
    <>
      <rect x="9" y="9" width="11" height="11" rx="2" />
      <path d="M5 15V5a2 2 0 0 1 2-2h8" />
    </>
  ),
  check: <path d="M5 12.5l4.5 4.5L19 7.5" />,
  alert: (
    <>
      <path d="M12 3l10 18H2z" />
      <path d="M12 10v5M12 18v.5" />
    </>
  ),
  chevron: <path d="M6 9l6 6 6-6" />,
  play: <path d="M8 5l11 7-11 7z" />,
  trash: <path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3" />,
  logout: <path d="M15 4h4v16h-4M10 8l-4 4 4 4M6 12h11" />,
  list: <path d="M8 6h13M8 12h13M8 18h13M3 6h.01M3 12h.01M3 18h.01" />,
  lock: (
    <>
      <rect x="4" y="11" width="16" height="10" rx="2" />
      <path d="M8 11V7a4 4 0 0 1 8 0v4" />
    </>
  ),
};

/**
 * An icon from the sprite (/static/icons.svg): a few bytes per use instead of the whole drawing,
 * which matters on long lists. Decorative unless given a label.
 */
export function Icon(props: { name: IconName; label?: string; class?: string }) {
  return (
    <svg class={`icon ${props.class ?? ''}`} width="18" height="18" aria-hidden={props.label ? undefined : 'true'} role={props.label ? 'img' : undefined} aria-label={props.label}>
      <use href={`/static/icons.svg#${props.name}`} />
    </svg>
  );
}

/** Returns the SVG sprite holding every icon as a <symbol>, served as /static/icons.svg. */
export function iconSprite(): string {
  const symbols = Object.entries(PATHS).map(
    ([name, drawing]) =>
      `<symbol id="${name}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${String(<>{drawing}</>)}</symbol>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg">${symbols.join('')}</svg>`;
}

/** The scope mark of a credential: briefcase for project, person for private, with screen-reader text. */
export function ScopeIcon(props: { scope: 'project' | 'private'; showLabel?: boolean }) {
  const text = props.scope === 'project' ? 'Project credential' : 'Private credential';
  return (
    <span class={`scope scope-${props.scope}`} title={text}>
      <Icon name={props.scope === 'project' ? 'briefcase' : 'person'} />
      <span class={props.showLabel ? 'scope-label' : 'sr-only'}>{text}</span>
    </span>
  );
}

/** A page heading with an optional subtitle and actions on the right. */
export function PageHeader(props: PropsWithChildren<{ title: string; subtitle?: Child }>) {
  return (
    <header class="page-header">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle ? <p class="subtitle">{props.subtitle}</p> : null}
      </div>
      {props.children ? <div class="page-actions">{props.children}</div> : null}
    </header>
  );
}

/** A friendly empty state with a short explanation and an optional action. */
export function EmptyState(props: PropsWithChildren<{ icon: IconName; title: string; text: Child }>) {
  return (
    <div class="empty-state">
      <div class="empty-icon">
        <Icon name={props.icon} />
      </div>
      <h2>{props.title}</h2>
      <p>{props.text}</p>
      {props.children}
    </div>
  );
}

/** A coloured notice: info, success, warning or danger. */
export function Banner(props: PropsWithChildren<{ tone: 'info' | 'success' | 'warning' | 'danger'; title?: Child; id?: string }>) {
  return (
    <div class={`banner banner-${props.tone}`} role={props.tone === 'danger' || props.tone === 'warning' ? 'alert' : 'status'} id={props.id}>
      <Icon name={props.tone === 'success' ? 'check' : 'alert'} />
      <div>
        {props.title ? <strong class="banner-title">{props.title}</strong> : null}
        <div class="banner-body">{props.children}</div>
      </div>
    </div>
  );
}

/** A labelled form field with its help text and error message wired for screen readers. */
export function Field(
  props: PropsWithChildren<{ label: string; name: string; error?: string; help?: Child; id?: string }>,
) {
  const id = props.id ?? `f-${props.name}`;
  return (
    <div class={`field${props.error ? ' has-error' : ''}`} id={`${id}-field`}>
      <label for={id}>{props.label}</label>
      {props.children}
      {props.help ? (
        <p class="help" id={`${id}-help`}>
          {props.help}
        </p>
      ) : null}
      {props.error ? (
        <p class="error" id={`${id}-error`} role="alert">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/** A monospace Credential ID with a copy button. */
export function CredentialIdTag(props: { id: string }) {
  return (
    <span class="cred-id">
      <code>{props.id}</code>
      <button type="button" class="copy-btn" data-copy={props.id} title="Copy Credential ID" aria-label={`Copy Credential ID ${props.id}`}>
        <Icon name="copy" />
      </button>
    </span>
  );
}

/** A date and time, readable, with the exact time in a tooltip. */
export function Time(props: { at: number | null | undefined; empty?: string }) {
  if (!props.at) return <span class="muted">{props.empty ?? 'Never'}</span>;
  const d = new Date(props.at);
  return (
    <time datetime={d.toISOString()} title={d.toISOString()}>
      {formatDate(d)}
    </time>
  );
}

/** Returns a short UTC date and time, e.g. "27 Nov 2026 09:14" (the tooltip has the exact ISO time). */
export function formatDate(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** A small role or status pill. */
export function Pill(props: PropsWithChildren<{ tone?: 'neutral' | 'success' | 'warning' | 'danger' | 'accent' }>) {
  return <span class={`pill pill-${props.tone ?? 'neutral'}`}>{props.children}</span>;
}

export type PageInfo = { page: number; pageSize: number; total: number };

/** "Showing 51–100 of 1,000" with Previous and Next links (htmx swaps `target` when given). */
export function Pager(props: { info: PageInfo; href: (page: number) => string; target?: string }) {
  const { page, pageSize, total } = props.info;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (pages <= 1) return null;
  const from = (page - 1) * pageSize + 1;
  const to = Math.min(total, page * pageSize);
  const link = (p: number, label: string, rel: string) =>
    props.target ? (
      <a class="btn btn-sm" href={props.href(p)} rel={rel} hx-get={props.href(p)} hx-target={props.target} hx-swap="outerHTML" hx-push-url="true">
        {label}
      </a>
    ) : (
      <a class="btn btn-sm" href={props.href(p)} rel={rel}>
        {label}
      </a>
    );
  return (
    <nav class="pager" aria-label="Pages">
      <span class="muted">
        Showing {from.toLocaleString('en-US')}–{to.toLocaleString('en-US')} of {total.toLocaleString('en-US')}
      </span>
      <span class="pager-links">
        {page > 1 ? link(page - 1, '← Previous', 'prev') : null}
        {page < pages ? link(page + 1, 'Next →', 'next') : null}
      </span>
    </nav>
  );
}

/** A table head: one column header per name, and an unlabelled last column (for row actions) when `actions` names it for screen readers. */
export function TableHead(props: { columns: string[]; actions?: string | false }) {
  return (
    <thead>
      <tr>
        {props.columns.map((name) => (
          <th scope="col">{name}</th>
        ))}
        {props.actions ? (
          <th scope="col" class="actions">
            <span class="sr-only">{props.actions}</span>
          </th>
        ) : null}
      </tr>
    </thead>
  );
}

/**
 * The Type field of a create/edit form: a select on create (its htmx attributes swap in the
 * type's own fields), a read-only name on edit, since a saved thing keeps its type.
 */
export function TypeField(props: {
  editable: boolean;
  options: { type: string; label: string }[];
  selected: { type: string; label: string };
  error?: string;
  hx: Record<string, string>;
}) {
  return (
    <Field label="Type" name="type" error={props.error}>
      {props.editable ? (
        <select id="f-type" name="type" {...props.hx}>
          {props.options.map((t) => (
            <option value={t.type} selected={t.type === props.selected.type}>
              {t.label}
            </option>
          ))}
        </select>
      ) : (
        <>
          <input id="f-type" value={props.selected.label} readonly />
          <input type="hidden" name="type" value={props.selected.type} />
        </>
      )}
    </Field>
  );
}

/** The create button of a list page, worded as the product documentation says: "+ Create". */
export function CreateButton(props: { href: string }) {
  return (
    <a class="btn btn-primary" href={props.href}>
      + Create
    </a>
  );
}

/** Wraps a confirmation in a <dialog> that opens itself (htmx swaps it into #dialog-slot), or returns it as is for a plain page. */
export function DialogOrPage(props: PropsWithChildren<{ asDialog: boolean; id: string; labelledBy: string }>) {
  return props.asDialog ? (
    <dialog data-open-modal aria-labelledby={props.labelledBy} id={props.id}>
      {props.children}
    </dialog>
  ) : (
    <>{props.children}</>
  );
}

/**
 * A table row's one-button POST form (Revoke, Delete). Without JavaScript it is a plain POST that
 * redirects; with htmx and a `target`, it asks `confirm` first and swaps the returned section in.
 */
export function RowAction(props: { action: string; label: string; ariaLabel: string; target?: string; confirm?: string; danger?: boolean; icon?: IconName }) {
  const hx = props.target ? { 'hx-post': props.action, 'hx-target': props.target, 'hx-swap': 'outerHTML', 'hx-confirm': props.confirm } : {};
  return (
    <form method="post" action={props.action} class="inline" {...hx}>
      <button class={`btn btn-sm ${props.danger ? 'btn-danger' : 'btn-ghost-danger'}`} type="submit" aria-label={props.ariaLabel}>
        {props.icon ? <Icon name={props.icon} /> : null} {props.label}
      </button>
    </form>
  );
}
