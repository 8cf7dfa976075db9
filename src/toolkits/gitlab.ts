import type { ToolkitType } from './types';

export const gitlabToolkit: ToolkitType = {
  type: 'gitlab',
  label: 'GitLab',
  description: 'Read your GitLab account and projects.',
  credentialTypes: ['gitlab'],
  settings: [],
  tools: [
    {
      name: 'get_current_user',
      label: 'Get current user',
      description: 'Returns the GitLab account the credential belongs to.',
      input: [],
      plan: () => ({ method: 'GET', path: '/api/v4/user' }),
    },
    {
      name: 'list_projects',
      label: 'List projects',
      description: 'Lists projects you are a member of.',
      input: [],
      plan: () => ({ method: 'GET', path: '/api/v4/projects', query: { membership: 'true' } }),
    },
  ],
};
