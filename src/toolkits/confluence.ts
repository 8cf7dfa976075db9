import { pick, positiveInt, type ToolkitType } from './types';

export const confluenceToolkit: ToolkitType = {
  type: 'confluence',
  label: 'Confluence',
  description: 'Search Confluence pages.',
  credentialTypes: ['confluence'],
  settings: [],
  tools: [
    {
      name: 'get_current_user',
      label: 'Get current user',
      description: 'Returns the Confluence account the credential belongs to.',
      input: [],
      plan: () => ({ method: 'GET', path: '/wiki/rest/api/user/current' }),
    },
    {
      name: 'search_pages',
      label: 'Search pages',
      description: 'Finds content with a CQL query.',
      input: [
        { name: 'cql', label: 'CQL', type: 'string', required: true, help: 'e.g. type = page AND text ~ "onboarding"' },
        { name: 'limit', label: 'Limit', type: 'number', required: false, help: '1 to 100.' },
      ],
      plan: (input) => {
        const cql = pick(input, 'cql');
        if (cql === undefined) return { error: 'Enter a CQL query.', field: 'cql' };
        const limit = positiveInt(input, 'limit', 'Limit', 100);
        if ('error' in limit) return limit;
        const query: Record<string, string> = { cql };
        if (limit.value !== undefined) query.limit = String(limit.value);
        return { method: 'GET', path: '/wiki/rest/api/search', query };
      },
    },
  ],
};
