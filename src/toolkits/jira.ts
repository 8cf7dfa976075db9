import { pick, positiveInt, text, type ToolkitType } from './types';

const PROJECT_KEY_RE = /^[A-Za-z][A-Za-z0-9_]*$/;

function projectKeyProblem(value: string): string | null {
  return PROJECT_KEY_RE.test(value)
    ? null
    : 'Enter a Jira project key, such as PROJ (letters, digits and _, starting with a letter).';
}

type AdfNode = { type: string; text?: string; content?: AdfNode[] };

/**
 * Text as an Atlassian document: one paragraph holding the text, with line
 * breaks kept as hard breaks (ADF does not allow empty text nodes).
 */
export function adfParagraph(value: string): { type: 'doc'; version: 1; content: AdfNode[] } {
  const content: AdfNode[] = [];
  value
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .forEach((line, i) => {
      if (i > 0) content.push({ type: 'hardBreak' });
      if (line !== '') content.push({ type: 'text', text: line });
    });
  return { type: 'doc', version: 1, content: [{ type: 'paragraph', content }] };
}

export const jiraToolkit: ToolkitType = {
  type: 'jira',
  label: 'Jira',
  description: 'Search and create Jira issues.',
  credentialTypes: ['jira'],
  settings: [
    {
      name: 'default_project',
      label: 'Default project',
      required: false,
      placeholder: 'PROJ',
      help: 'Project key used when a tool is not given one.',
      validate: projectKeyProblem,
    },
  ],
  tools: [
    {
      name: 'get_myself',
      label: 'Get myself',
      description: 'Returns the Jira account the credential belongs to.',
      input: [],
      plan: () => ({ method: 'GET', path: '/rest/api/3/myself' }),
    },
    {
      name: 'search_issues',
      label: 'Search issues',
      description: 'Finds issues with a JQL query.',
      input: [
        { name: 'jql', label: 'JQL', type: 'string', required: true, help: 'e.g. project = PROJ AND status = "To Do"' },
        {
          name: 'fields',
          label: 'Fields',
          type: 'string',
          required: false,
          help: 'Comma-separated fields to return, e.g. summary,status. Without it Jira returns only issue IDs.',
        },
        { name: 'max_results', label: 'Max results', type: 'number', required: false, help: '1 to 100.' },
      ],
      plan: (input) => {
        const jql = pick(input, 'jql');
        if (jql === undefined) return { error: 'Enter a JQL query.', field: 'jql' };
        const query: Record<string, string> = { jql };
        const fields = pick(input, 'fields');
        if (fields !== undefined) query.fields = fields;
        const max = positiveInt(input, 'max_results', 'Max results', 100);
        if ('error' in max) return max;
        if (max.value !== undefined) query.maxResults = String(max.value);
        return { method: 'GET', path: '/rest/api/3/search/jql', query };
      },
    },
    {
      name: 'create_issue',
      label: 'Create issue',
      description: 'Creates an issue (a Task unless another issue type is given).',
      input: [
        {
          name: 'project',
          label: 'Project',
          type: 'string',
          required: false,
          help: "Project key; defaults to the toolkit's default project.",
        },
        { name: 'summary', label: 'Summary', type: 'string', required: true },
        { name: 'description', label: 'Description', type: 'string', required: false },
        { name: 'issue_type', label: 'Issue type', type: 'string', required: false, help: 'Defaults to Task.' },
      ],
      plan: (input, settings) => {
        const project = pick(input, 'project', settings, 'default_project');
        if (project === undefined) {
          return {
            error: 'Enter a project key, or set a default project for this toolkit.',
            field: 'project',
          };
        }
        const problem = projectKeyProblem(project);
        if (problem) return { error: problem, field: 'project' };
        const summary = pick(input, 'summary');
        if (summary === undefined) return { error: 'Enter a summary for the issue.', field: 'summary' };
        const description = text(input, 'description');
        const fields: Record<string, unknown> = {
          project: { key: project },
          summary,
          issuetype: { name: pick(input, 'issue_type') ?? 'Task' },
        };
        if (description !== undefined) fields.description = adfParagraph(description);
        return { method: 'POST', path: '/rest/api/3/issue', body: { fields } };
      },
    },
  ],
};
