// The Audit page: chain state, filters, the execution charts and the event table, plus the
// fragments htmx swaps (results, chain state, one event's details). Charts are plain SVG drawn
// here: no client library, no inline styles (the CSP forbids them), colours from app.css.
import type { Child } from 'hono/jsx';
import type { AuditEvent, AuditEventFull, AuditScope, ChainState, ExecutionStats } from '../src/domain/audit-event';
import { DAY_MS } from '../src/domain/audit-event';
import { auditQueryString, type AuditFilterText } from '../src/domain/audit-query';
import { AppPage, type Frame } from './layout';
import { Banner, EmptyState, formatDate, Icon, PageHeader, Pill, TableHead } from './ui';

export type ProjectOption = { slug: string; name: string };

export type AuditResultsProps = {
  scope: AuditScope;
  text: AuditFilterText;
  errors: Record<string, string>;
  events: AuditEvent[];
  nextBefore: number | null;
  before?: number;
  projects: ProjectOption[];
  stats: ExecutionStats | null;
};

export type AuditPageProps = AuditResultsProps & {
  frame: Frame;
  actions: string[];
  actors: string[];
  chain?: ChainState | null;
};

const num = (n: number) => n.toLocaleString('en-US');

/** A time with seconds, UTC; the tooltip has the exact ISO instant. */
function EventTime(props: { at: number }) {
  const d = new Date(props.at);
  return (
    <time datetime={d.toISOString()} title={d.toISOString()}>
      {formatDate(d)}
      <span class="secs">:{String(d.getUTCSeconds()).padStart(2, '0')}</span>
    </time>
  );
}

function actorHref(username: string) {
  return `/admin/audit${auditQueryString({ actor: username })}`;
}

/** An actor's name, linking to everything they did. */
function ActorLink(props: { name: string | null }) {
  if (!props.name) return <span class="muted">system</span>;
  return (
    <a class="actor-link" href={actorHref(props.name)} title={`Everything ${props.name} did`}>
      <span class="avatar avatar-xs" aria-hidden="true">
        {props.name.slice(0, 1).toUpperCase()}
      </span>
      {props.name}
    </a>
  );
}

function WorkspaceCell(props: { ref_: string | null; names: Map<string, string> }) {
  if (props.ref_ === null) return <span class="muted">Account</span>;
  if (props.ref_ === 'private') {
    return (
      <span class="ws-cell">
        <Icon name="person" /> Private
      </span>
    );
  }
  return (
    <span class="ws-cell" title={props.ref_}>
      <Icon name="briefcase" /> {props.names.get(props.ref_) ?? props.ref_}
    </span>
  );
}

function TargetCell(props: { event: AuditEvent }) {
  const { target, details } = props.event;
  if (!target) return <span class="muted">—</span>;
  const at = target.indexOf(':');
  const kind = at > 0 ? target.slice(0, at) : '';
  const value = at > 0 ? target.slice(at + 1) : target;
  // The action already says what kind of thing the target is; the raw target is in the tooltip.
  const body =
    kind === 'user' ? (
      <a href={actorHref(value)}>{value}</a>
    ) : kind === 'toolkit' ? (
      <>
        {typeof details.toolkit === 'string' ? details.toolkit : typeof details.name === 'string' ? details.name : 'toolkit'} <span class="muted">#{value}</span>
      </>
    ) : kind === 'credential' ? (
      <code>{value}</code>
    ) : kind === 'token' ? (
      <>
        {typeof details.name === 'string' ? details.name : 'token'} <span class="muted">#{value}</span>
      </>
    ) : (
      value
    );
  return (
    <span class="target" title={target}>
      {body}
    </span>
  );
}

export function OutcomePill(props: { outcome: string }) {
  const tone = props.outcome === 'success' ? 'success' : props.outcome === 'denied' ? 'warning' : 'danger';
  const label = props.outcome === 'success' ? 'Success' : props.outcome === 'denied' ? 'Denied' : props.outcome === 'failure' ? 'Failure' : props.outcome;
  return <Pill tone={tone}>{label}</Pill>;
}

/** The chain's state and the Verify buttons (swapped after a verification). */
export function ChainStatus(props: { chain: ChainState | null }) {
  const c = props.chain;
  const unchecked = c && !c.broken ? c.latestId - c.verifiedThrough : 0;
  const tone = !c ? 'neutral' : c.broken ? 'danger' : 'ok';
  return (
    <section id="chain-status" class={`card chain-card chain-${tone}`} aria-live="polite">
      <span class="chain-icon" aria-hidden="true">
        <Icon name={c?.broken ? 'alert' : c ? 'check' : 'shield'} />
      </span>
      <div class="chain-text">
        {!c ? (
          <>
            <strong>Hash chain not verified since the server started</strong>
            <span class="muted">Verifying recomputes every event's HMAC and link to the one before it.</span>
          </>
        ) : c.broken ? (
          <>
            <strong>Chain broken at event {num(c.broken.id)}</strong>
            <span>
              Event {num(c.broken.id)}: {c.broken.reason}. Events 1 to {num(c.verifiedThrough)} are intact. Checked <EventTime at={c.checkedAt} />.
            </span>
          </>
        ) : (
          <>
            <strong>Chain verified through event {num(c.verifiedThrough)}</strong>
            <span class="muted">
              Checked <EventTime at={c.checkedAt} />
              {unchecked > 0 ? ` · ${num(unchecked)} newer event${unchecked === 1 ? '' : 's'} not checked yet` : ' · up to date'}
            </span>
          </>
        )}
      </div>
      <form method="post" action="/admin/audit/verify" hx-post="/admin/audit/verify" hx-target="#chain-status" hx-swap="outerHTML" hx-disabled-elt="find button" class="chain-actions">
        <span class="chain-progress">Verifying…</span>
        <button class="btn btn-sm" type="submit" title="Checks the events added since the last verification">
          <Icon name="shield" /> Verify
        </button>
        {c ? (
          <button class="btn btn-sm link-btn" type="submit" name="full" value="1" title="Checks every event again from the first one">
            Re-check from the start
          </button>
        ) : null}
      </form>
    </section>
  );
}

function actionGroups(actions: string[], current: string) {
  const all = current && !actions.includes(current) ? [...actions, current] : actions;
  const groups = new Map<string, string[]>();
  for (const a of all) {
    const g = a.split('.')[0];
    groups.set(g, [...(groups.get(g) ?? []), a]);
  }
  return groups;
}

const GROUP_LABELS: Record<string, string> = { user: 'Accounts', token: 'API tokens', project: 'Projects', member: 'Members', credential: 'Credentials', toolkit: 'Toolkits', keys: 'Keys', audit: 'Audit log' };

function FilterField(props: { id: string; label: string; error?: string; children: Child; wide?: boolean }) {
  return (
    <div class={`field filter-field${props.error ? ' has-error' : ''}${props.wide ? ' wide' : ''}`}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.error ? (
        <p class="error" id={`${props.id}-error`} role="alert">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/** The filter form: applies with htmx (results swapped, URL pushed), or as a plain GET. */
export function AuditFilters(props: AuditPageProps) {
  const { text, errors } = props;
  return (
    <form
      id="audit-filters"
      class="card audit-filters"
      method="get"
      action="/admin/audit"
      role="search"
      aria-label="Filter events"
      hx-get="/admin/audit"
      hx-target="#audit-results"
      hx-swap="outerHTML"
      hx-push-url="true"
      hx-trigger="submit, change"
      hx-indicator="#audit-results"
    >
      <FilterField id="filter-actor" label="Actor" error={errors.actor}>
        <input id="filter-actor" name="actor" value={text.actor} placeholder="Anyone" list="actor-names" autocomplete="off" spellcheck={false} />
        <datalist id="actor-names">
          {props.actors.map((a) => (
            <option value={a}></option>
          ))}
        </datalist>
      </FilterField>
      <FilterField id="filter-workspace" label="Workspace" error={errors.workspace}>
        <select id="filter-workspace" name="workspace">
          <option value="">{props.scope.kind === 'all' ? 'All workspaces' : 'All my projects'}</option>
          {props.scope.kind === 'all' ? (
            <option value="private" selected={text.workspace === 'private'}>
              Private workspaces
            </option>
          ) : null}
          {props.projects.map((p) => (
            <option value={p.slug} selected={text.workspace === p.slug}>
              {p.name}
            </option>
          ))}
          {text.workspace && text.workspace !== 'private' && !props.projects.some((p) => p.slug === text.workspace) ? (
            <option value={text.workspace} selected>
              {text.workspace}
            </option>
          ) : null}
        </select>
      </FilterField>
      <FilterField id="filter-action" label="Action" error={errors.action}>
        <select id="filter-action" name="action">
          <option value="">All actions</option>
          {[...actionGroups(props.actions, text.action)].map(([group, list]) => (
            <optgroup label={GROUP_LABELS[group] ?? group}>
              {list.map((a) => (
                <option value={a} selected={text.action === a}>
                  {a}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </FilterField>
      <FilterField id="filter-outcome" label="Outcome" error={errors.outcome}>
        <select id="filter-outcome" name="outcome">
          <option value="">Any outcome</option>
          {(['success', 'failure', 'denied'] as const).map((o) => (
            <option value={o} selected={text.outcome === o}>
              {o === 'success' ? 'Success' : o === 'failure' ? 'Failure' : 'Denied'}
            </option>
          ))}
        </select>
      </FilterField>
      <FilterField id="filter-since" label="Since" error={errors.since}>
        <input id="filter-since" name="since" type="date" value={text.since} />
      </FilterField>
      <FilterField id="filter-until" label="Until" error={errors.until}>
        <input id="filter-until" name="until" type="date" value={text.until} />
      </FilterField>
      <div class="filter-actions">
        <button class="btn btn-primary" type="submit">
          Apply
        </button>
        <a class="btn" href="/admin/audit">
          Clear
        </a>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------------------------------------
// Charts

/** Returns a round axis maximum and step (1, 2 or 5 times a power of ten) for values up to `max`. */
export function niceScale(max: number, ticks = 4): { top: number; step: number } {
  if (max <= 0) return { top: ticks, step: 1 };
  const raw = max / ticks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  const niceStep = Math.max(1, step);
  return { top: Math.ceil(max / niceStep) * niceStep, step: niceStep };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const dayLabel = (day: number) => {
  const d = new Date(day * DAY_MS);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
};

/** Stacked bars of toolkit runs per UTC day, successes below failures. */
export function DailyRunsChart(props: { days: ExecutionStats['days'] }) {
  const days = props.days;
  // Sized close to how wide the card draws it, so its text stays at its CSS size.
  const W = 480;
  const H = 228;
  const left = 34;
  const right = 6;
  const top = 10;
  const bottom = 26;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const { top: yMax, step } = niceScale(Math.max(0, ...days.map((d) => d.success + d.failure)));
  const slot = plotW / days.length;
  const barW = Math.max(2, Math.round(slot * 0.64 * 10) / 10);
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const total = days.reduce((s, d) => s + d.success + d.failure, 0);
  const failed = days.reduce((s, d) => s + d.failure, 0);
  const label = `Toolkit runs per day over the last ${days.length} days: ${num(total)} runs, ${num(failed)} failed.`;
  const ticks: number[] = [];
  for (let v = 0; v <= yMax; v += step) ticks.push(v);
  return (
    <svg class="chart-svg" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} preserveAspectRatio="xMidYMid meet">
      <title>{label}</title>
      <g class="chart-grid">
        {ticks.map((v) => (
          <>
            <line x1={left} x2={W - right} y1={y(v)} y2={y(v)} stroke="#e2e6ec" class={v === 0 ? 'axis' : undefined} />
            <text x={left - 8} y={y(v) + 4} text-anchor="end" class="chart-label" fill="#6b7686">
              {num(v)}
            </text>
          </>
        ))}
      </g>
      {days.map((d, i) => {
        const x = left + i * slot + (slot - barW) / 2;
        const hs = (d.success / yMax) * plotH;
        const hf = (d.failure / yMax) * plotH;
        const base = top + plotH;
        return (
          <g class="chart-day">
            <title>{`${dayLabel(d.day)}: ${num(d.success)} succeeded, ${num(d.failure)} failed`}</title>
            <rect x={x - (slot - barW) / 2} y={top} width={slot} height={plotH} class="chart-hit" fill="transparent" />
            {d.failure ? <rect x={x} y={base - hs - hf} width={barW} height={hs + hf} rx="2" class="bar-failure" fill="#d6566a" /> : null}
            {d.success ? <rect x={x} y={base - hs} width={barW} height={hs} rx="2" class="bar-success" fill="#46a574" /> : null}
            {i % 5 === days.length % 5 || i === days.length - 1 ? (
              <text x={x + barW / 2} y={H - 8} text-anchor="middle" class="chart-label" fill="#6b7686">
                {dayLabel(d.day)}
              </text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Horizontal bars of the most-run toolkits, split by outcome. */
export function ToolkitRunsChart(props: { toolkits: ExecutionStats['toolkits']; names: Map<string, string> }) {
  const rows = props.toolkits;
  const W = 420;
  const rowH = 36;
  const labelW = 158;
  const countW = 44;
  const H = rows.length * rowH + 4;
  const barMax = W - labelW - countW;
  const max = Math.max(1, ...rows.map((r) => r.success + r.failure));
  const label = `Most-run toolkits over the last 30 days: ${rows.map((r) => `${r.name} ${num(r.success + r.failure)}`).join(', ')}.`;
  return (
    <svg class="chart-svg" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} preserveAspectRatio="xMidYMid meet">
      <title>{label}</title>
      {rows.map((r, i) => {
        const y0 = 2 + i * rowH;
        const ws = r.workspace === null ? '' : r.workspace === 'private' ? 'Private' : (props.names.get(r.workspace) ?? r.workspace);
        const sw = (r.success / max) * barMax;
        const fw = (r.failure / max) * barMax;
        return (
          <g class="chart-row">
            <title>{`${r.name}${ws ? ` (${ws})` : ''}: ${num(r.success)} succeeded, ${num(r.failure)} failed`}</title>
            <text x={labelW - 12} y={y0 + 14} text-anchor="end" class="chart-name" fill="#1c2330">
              {clip(r.name, 20)}
            </text>
            <text x={labelW - 12} y={y0 + 28} text-anchor="end" class="chart-label" fill="#6b7686">
              {clip(ws, 24)}
            </text>
            <rect x={labelW} y={y0 + 8} width={barMax} height={14} rx="3" class="bar-track" fill="#f1f3f6" />
            {fw ? <rect x={labelW} y={y0 + 8} width={sw + fw} height={14} rx="3" class="bar-failure" fill="#d6566a" /> : null}
            {sw ? <rect x={labelW} y={y0 + 8} width={sw} height={14} rx="3" class="bar-success" fill="#46a574" /> : null}
            <text x={W - 2} y={y0 + 19.5} text-anchor="end" class="chart-count" fill="#4a5567">
              {num(r.success + r.failure)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

function ChartLegend() {
  return (
    <p class="chart-legend" aria-hidden="true">
      <span class="swatch swatch-success"></span> Succeeded <span class="swatch swatch-failure"></span> Failed
    </p>
  );
}

/** The two execution charts with their data tables for screen readers. */
export function ExecutionCharts(props: { stats: ExecutionStats; names: Map<string, string>; actor?: string }) {
  const { stats } = props;
  const total = stats.days.reduce((s, d) => s + d.success + d.failure, 0);
  const failed = stats.days.reduce((s, d) => s + d.failure, 0);
  return (
    <div class="chart-grid-2" id="execution-charts">
      <section class="card chart-card" aria-labelledby="chart-days-heading">
        <div class="chart-head">
          <div>
            <h2 id="chart-days-heading">Toolkit runs per day</h2>
            <p class="muted">
              Last 30 days (UTC){props.actor ? ` · by ${props.actor}` : ''} · {num(total)} runs
              {total ? ` · ${Math.round((failed / total) * 1000) / 10}% failed` : ''}
            </p>
          </div>
        </div>
        {total ? <DailyRunsChart days={stats.days} /> : <p class="chart-empty muted">No toolkit runs in the last 30 days.</p>}
        {total ? <ChartLegend /> : null}
        {total ? (
          <details class="chart-data">
            <summary>Show the numbers</summary>
            <table class="table table-compact">
              <caption class="sr-only">Toolkit runs per day</caption>
              <TableHead columns={['Day (UTC)', 'Succeeded', 'Failed']} />
              <tbody>
                {stats.days
                  .filter((d) => d.success + d.failure > 0)
                  .map((d) => (
                    <tr>
                      <th scope="row">{dayLabel(d.day)}</th>
                      <td>{num(d.success)}</td>
                      <td>{num(d.failure)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </details>
        ) : null}
      </section>
      <section class="card chart-card" aria-labelledby="chart-toolkits-heading">
        <div class="chart-head">
          <div>
            <h2 id="chart-toolkits-heading">Most-run toolkits</h2>
            <p class="muted">Top {Math.min(10, stats.toolkits.length) || 10} over the last 30 days</p>
          </div>
        </div>
        {stats.toolkits.length ? <ToolkitRunsChart toolkits={stats.toolkits} names={props.names} /> : <p class="chart-empty muted">Nothing to rank yet.</p>}
        {stats.toolkits.length ? <ChartLegend /> : null}
        {stats.toolkits.length ? (
          <details class="chart-data">
            <summary>Show the numbers</summary>
            <table class="table table-compact">
              <caption class="sr-only">Runs per toolkit</caption>
              <TableHead columns={['Toolkit', 'Workspace', 'Succeeded', 'Failed']} />
              <tbody>
                {stats.toolkits.map((r) => (
                  <tr>
                    <th scope="row">{r.name}</th>
                    <td>{r.workspace === 'private' ? 'Private' : r.workspace ? (props.names.get(r.workspace) ?? r.workspace) : '—'}</td>
                    <td>{num(r.success)}</td>
                    <td>{num(r.failure)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        ) : null}
      </section>
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// Results

function toolOf(e: AuditEvent): string | null {
  return e.action === 'toolkit.execute' && typeof e.details.tool === 'string' ? e.details.tool : null;
}

const FIELD_LABELS: Record<string, string> = { actor: 'Actor', workspace: 'Workspace', action: 'Action', outcome: 'Outcome', since: 'Since', until: 'Until', before: 'Older than', limit: 'Page size' };

/** The results: person heading, charts, the table and the pager (the fragment filters swap). */
export function AuditResults(props: AuditResultsProps) {
  const { text, events } = props;
  const names = new Map(props.projects.map((p) => [p.slug, p.name]));
  const filters = auditQueryString(text);
  const hasErrors = Object.keys(props.errors).length > 0;
  return (
    <div id="audit-results" class="audit-results">
      {text.actor ? (
        <div class="person-bar">
          <span class="avatar" aria-hidden="true">
            {text.actor.slice(0, 1).toUpperCase()}
          </span>
          <div>
            <h2>Activity of {text.actor}</h2>
            <p class="muted">{props.scope.kind === 'all' ? 'Everything they did, across every workspace.' : 'Everything they did in the projects you administer.'}</p>
          </div>
        </div>
      ) : null}
      {hasErrors ? (
        <Banner tone="danger" title="Some filters are not valid; no events are shown until they are fixed">
          <ul class="plain-list">
            {Object.entries(props.errors).map(([field, message]) => (
              <li>
                <strong>{FIELD_LABELS[field] ?? field}:</strong> {message}
              </li>
            ))}
          </ul>
        </Banner>
      ) : null}
      {props.stats ? <ExecutionCharts stats={props.stats} names={names} actor={text.actor || undefined} /> : null}
      <div class="results-bar">
        <h2 class="results-title">
          Events
          {props.before ? <span class="muted"> older than #{num(props.before)}</span> : null}
        </h2>
        {!hasErrors ? (
          <div class="export-links">
            <span class="muted">Export {filters ? 'these filters' : 'all'}:</span>
            {/* Forms, not links: an export is recorded, so it must not be a GET. */}
            <form method="post" action={`/admin/audit/export.csv${filters}`}>
              <button class="btn btn-sm" type="submit">
                CSV
              </button>
            </form>
            <form method="post" action={`/admin/audit/export.jsonl${filters}`}>
              <button class="btn btn-sm" type="submit">
                JSON lines
              </button>
            </form>
          </div>
        ) : null}
      </div>
      {events.length === 0 ? (
        <div class="card">
          <EmptyState icon="list" title="No events" text={filters ? 'No event matches these filters.' : 'Nothing has been recorded yet.'} />
        </div>
      ) : (
        <div class="card table-card">
          <table class="table audit-table">
            <TableHead columns={['#', 'Time (UTC)', 'Actor', 'Workspace', 'Action', 'Target', 'Outcome']} actions="Details" />
            <tbody>
              {events.map((e) => (
                <tr id={`event-${e.id}`}>
                  <td class="event-id">{e.id}</td>
                  <td>
                    <EventTime at={e.at} />
                  </td>
                  <td>
                    <ActorLink name={e.actor} />
                  </td>
                  <td>
                    <WorkspaceCell ref_={e.workspace} names={names} />
                  </td>
                  <td>
                    <code class="action-code">{e.action}</code>
                    {toolOf(e) ? <span class="action-tool">{toolOf(e)}</span> : null}
                  </td>
                  <td>
                    <TargetCell event={e} />
                  </td>
                  <td>
                    <OutcomePill outcome={e.outcome} />
                  </td>
                  <td class="actions">
                    <a class="btn btn-sm details-btn" href={`/admin/audit/events/${e.id}`} hx-get={`/admin/audit/events/${e.id}`} hx-target="#dialog-slot" aria-label={`Details of event ${e.id}`}>
                      Details
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="audit-pager" aria-label="Older and newer events">
        {props.before ? (
          <a class="btn btn-sm" href={`/admin/audit${filters}`} hx-get={`/admin/audit${filters}`} hx-target="#audit-results" hx-swap="outerHTML" hx-push-url="true">
            Newest
          </a>
        ) : (
          <span></span>
        )}
        <span class="muted">
          {events.length ? `${num(events.length)} ${events.length === 1 ? 'event' : 'events'}${props.before || props.nextBefore ? ' on this page' : ''}` : ''}
        </span>
        {props.nextBefore ? (
          <a
            class="btn btn-sm"
            href={`/admin/audit${auditQueryString(text, { before: props.nextBefore })}`}
            hx-get={`/admin/audit${auditQueryString(text, { before: props.nextBefore })}`}
            hx-target="#audit-results"
            hx-swap="outerHTML"
            hx-push-url="true"
            rel="next"
          >
            Older <Icon name="chevron" class="chev-right" />
          </a>
        ) : (
          <span class="muted">{events.length ? 'Start of the log' : ''}</span>
        )}
      </nav>
    </div>
  );
}

/** The whole Audit page. */
export function AuditPage(props: AuditPageProps) {
  return (
    <AppPage title="Audit log" frame={props.frame}>
      <PageHeader
        title="Audit log"
        subtitle={
          props.scope.kind === 'all'
            ? 'Every change, sign-in and toolkit run on this instance, with who did it. Events are chained by HMAC and cannot be edited or deleted.'
            : `Events of the projects you administer: ${props.projects.map((p) => p.name).join(', ')}.`
        }
      />
      {props.chain !== undefined ? <ChainStatus chain={props.chain} /> : null}
      <AuditFilters {...props} />
      <AuditResults {...props} />
    </AppPage>
  );
}

function EventFields(props: { event: AuditEventFull; names: Map<string, string> }) {
  const e = props.event;
  return (
    <dl class="event-fields">
      <dt>Event</dt>
      <dd>#{e.id}</dd>
      <dt>Time</dt>
      <dd>
        <code>{new Date(e.at).toISOString()}</code>
      </dd>
      <dt>Actor</dt>
      <dd>
        <ActorLink name={e.actor} />
      </dd>
      <dt>Workspace</dt>
      <dd>
        <WorkspaceCell ref_={e.workspace} names={props.names} />
      </dd>
      <dt>Action</dt>
      <dd>
        <code class="action-code">{e.action}</code>
      </dd>
      <dt>Target</dt>
      <dd>
        <TargetCell event={e} />
      </dd>
      <dt>Outcome</dt>
      <dd>
        <OutcomePill outcome={e.outcome} />
      </dd>
      <dt>Details</dt>
      <dd>
        <pre class="run-body event-json">{JSON.stringify(e.details, null, 2)}</pre>
      </dd>
      <dt>Hash</dt>
      <dd>
        <code class="hash">{e.hash}</code>
      </dd>
      <dt>Previous</dt>
      <dd>
        <code class="hash">{e.prevHash}</code>
      </dd>
    </dl>
  );
}

/** One event's details as a dialog (htmx) or a page of its own. */
export function EventDetails(props: { event: AuditEventFull; projects: ProjectOption[]; frame?: Frame }) {
  const names = new Map(props.projects.map((p) => [p.slug, p.name]));
  if (!props.frame) {
    return (
      <dialog data-open-modal aria-labelledby="event-title" id="event-dialog" class="event-dialog">
        <div class="dialog-body">
          <h2 id="event-title">
            Event {props.event.id} <span class="muted">· {props.event.action}</span>
          </h2>
          <EventFields event={props.event} names={names} />
        </div>
        <div class="dialog-actions">
          <button class="btn" type="button" data-close-dialog autofocus>
            Close
          </button>
        </div>
      </dialog>
    );
  }
  return (
    <AppPage title={`Event ${props.event.id}`} frame={props.frame}>
      <p class="crumbs">
        <a href="/admin/audit">Audit log</a> <span>/</span> <span>Event {props.event.id}</span>
      </p>
      <PageHeader title={`Event ${props.event.id}`} subtitle={props.event.action} />
      <div class="card form-card">
        <EventFields event={props.event} names={names} />
      </div>
    </AppPage>
  );
}
