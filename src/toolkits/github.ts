import { pick, positiveInt, text, type PlanError, type ToolkitType } from './types';

const SEGMENT_RE = /^[A-Za-z0-9_.-]+$/;

/** Checks "owner/repo"; null when fine, else a sentence. */
export function repositoryProblem(value: string): string | null {
  const parts = value.split('/');
  if (
    parts.length !== 2 ||
    parts.some((p) => !SEGMENT_RE.test(p) || p === '.' || p === '..')
  ) {
    return 'Enter the repository as owner/repo, for example octocat/hello-world.';
  }
  return null;
}

/** "/repos/{owner}/{repo}" with each segment encoded, or a plan error. */
export function repositoryPath(
  input: Record<string, unknown>,
  settings: Record<string, string>,
): string | PlanError {
  const repository = pick(input, 'repository', settings, 'default_repository');
  if (repository === undefined) {
    return {
      error: 'Enter a repository as owner/repo, or set a default repository for this toolkit.',
      field: 'repository',
    };
  }
  const problem = repositoryProblem(repository);
  if (problem) return { error: problem, field: 'repository' };
  const [owner, repo] = repository.split('/');
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
}

export const githubToolkit: ToolkitType = {
  type: 'github',
  label: 'GitHub',
  description: 'Read your GitHub account and repositories, and open issues.',
  credentialTypes: ['github'],
  settings: [
    {
      name: 'default_repository',
      label: 'Default repository',
      required: false,
      placeholder: 'owner/repo',
      help: 'Used when a tool is not given a repository, as owner/repo.',
      validate: repositoryProblem,
    },
  ],
  tools: [
    {
      name: 'get_authenticated_user',
      label: 'Get authenticated user',
      description: 'Returns the GitHub account the credential belongs to.',
      input: [],
      plan: () => ({ method: 'GET', path: '/user' }),
    },
    {
      name: 'list_repositories',
      label: 'List repositories',
      description: 'Lists repositories the credential can access.',
      input: [
        { name: 'per_page', label: 'Per page', type: 'number', required: false, help: '1 to 100.' },
      ],
      plan: (input) => {
        const perPage = positiveInt(input, 'per_page', 'Per page', 100);
        if ('error' in perPage) return perPage;
        return perPage.value === undefined
          ? { method: 'GET', path: '/user/repos' }
          : { method: 'GET', path: '/user/repos', query: { per_page: String(perPage.value) } };
      },
    },
    {
      name: 'create_issue',
      label: 'Create issue',
      description: 'Opens an issue in a repository.',
      input: [
        {
          name: 'repository',
          label: 'Repository',
          type: 'string',
          required: false,
          help: 'owner/repo; defaults to the toolkit\'s default repository.',
        },
        { name: 'title', label: 'Title', type: 'string', required: true },
        { name: 'body', label: 'Body', type: 'string', required: false },
      ],
      plan: (input, settings) => {
        const path = repositoryPath(input, settings);
        if (typeof path !== 'string') return path;
        const title = pick(input, 'title');
        if (title === undefined) return { error: 'Enter a title for the issue.', field: 'title' };
        const body = text(input, 'body');
        return {
          method: 'POST',
          path: `${path}/issues`,
          body: body === undefined ? { title } : { title, body },
        };
      },
    },
  ],
};
