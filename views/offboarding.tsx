// Offboarding: what depends on a person in a project, shown before an instance admin deactivates
// them (in the Users page's confirmation) or a project admin removes them (a page of its own).
import type { Dependencies } from '../src/domain/dependencies';
import { isEmpty, READY_BECAUSE_TEXT } from '../src/domain/dependencies';
import type { Workspace } from '../src/domain/models';
import { AppPage, type Frame } from './layout';
import { Banner, Icon } from './ui';

export type ProjectDeps = Dependencies & { workspace: string; name: string };

/** One project's dependencies on the person; links when the viewer is in the project. */
function ProjectDependencyList(props: { p: ProjectDeps; person: string; links: boolean; headingLevel: 'h4' | 'h5' }) {
  const { p } = props;
  const H = props.headingLevel;
  const toolkitLink = (t: { id: number; name: string }) => (props.links ? <a href={`/w/${p.workspace}/toolkits/${t.id}`}>{t.name}</a> : <strong>{t.name}</strong>);
  if (isEmpty(p)) return <p class="muted">Nothing in {p.name} depends on {props.person}.</p>;
  return (
    <div class="stack dependency-list">
      {p.credentials.length ? (
        <div>
          <H>Project credentials they created</H>
          <ul class="plain-list">
            {p.credentials.map((c) => (
              <li>
                {props.links ? <a href={`/w/${p.workspace}/credentials/${encodeURIComponent(c.credentialId)}/edit`}>{c.name}</a> : <strong>{c.name}</strong>} <code>{c.credentialId}</code>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {p.toolkitsCreated.length ? (
        <div>
          <H>Toolkits they created</H>
          <ul class="plain-list">
            {p.toolkitsCreated.map((t) => (
              <li>{toolkitLink(t)}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {p.onlyTheyMakeReady.length ? (
        <div>
          <H>Toolkits only their credential makes ready</H>
          <ul class="plain-list">
            {p.onlyTheyMakeReady.map((t) => (
              <li>
                {toolkitLink(t)} <span class="muted">— {READY_BECAUSE_TEXT[t.because]}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

/** What depends on the person in each of their projects (the deactivation confirmation). */
export function UserDependencies(props: { person: string; projects: ProjectDeps[] }) {
  const busy = props.projects.filter((p) => !isEmpty(p));
  return (
    <section class="stack" aria-labelledby="depends-title" id="user-dependencies">
      <h3 id="depends-title">What depends on {props.person}</h3>
      {busy.length ? (
        busy.map((p) => (
          <div class="stack">
            <h4>{p.name}</h4>
            <ProjectDependencyList p={p} person={props.person} links={false} headingLevel="h5" />
          </div>
        ))
      ) : (
        <p class="muted">Nothing in their projects depends on {props.person}.</p>
      )}
      <p class="help">Their private credentials stay theirs: nobody else can see or run with them.</p>
    </section>
  );
}

/** The page before a project admin removes a member: what depends on them there, then confirm. */
export function RemoveMemberPage(props: { frame: Frame; ws: Workspace; username: string; deps: Dependencies; error?: string }) {
  const action = `/w/${props.ws.ref}/members/${encodeURIComponent(props.username)}/remove`;
  return (
    <AppPage title={`Remove ${props.username} from ${props.ws.name}`} frame={props.frame}>
      <p class="crumbs">
        <a href={`/w/${props.ws.ref}/members`}>Members</a> <span>/</span> <span>{props.username}</span>
      </p>
      <div class="card form-card confirm-card">
        <form method="post" action={action}>
          <div class="dialog-body stack">
            <h2 id="remove-title">
              Remove {props.username} from {props.ws.name}?
            </h2>
            <p>
              {props.username} loses access to {props.ws.name} at their next request. What they created stays in the project; their private credentials stay theirs and
              nobody else can run with them.
            </p>
            {props.error ? <Banner tone="danger">{props.error}</Banner> : null}
            <section class="stack" aria-labelledby="depends-title" id="member-dependencies">
              <h3 id="depends-title">What depends on {props.username} here</h3>
              <ProjectDependencyList p={{ ...props.deps, workspace: props.ws.ref, name: props.ws.name }} person={props.username} links headingLevel="h4" />
            </section>
          </div>
          <div class="dialog-actions">
            <a class="btn" href={`/w/${props.ws.ref}/members`}>
              Cancel
            </a>
            <button class="btn btn-danger" type="submit">
              <Icon name="trash" /> Remove {props.username}
            </button>
          </div>
        </form>
      </div>
    </AppPage>
  );
}
