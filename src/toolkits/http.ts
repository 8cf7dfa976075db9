import type { PlanError, PlannedCall, ToolkitType } from './types';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;

const PATH_MAX_LENGTH = 2000;
// RFC 3986 path characters (pchar and "/"); no "?", "#", "\", spaces or non-ASCII.
const PATH_CHARS_RE = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;

/**
 * Checks a path that will be appended (as text) to the credential's base_url.
 * It must stay on that host and under that base path: it starts with a single
 * "/", holds no scheme, no "." or ".." segments (also percent-encoded), no
 * query or fragment, and only URL path characters. Null when fine.
 */
export function httpPathProblem(path: unknown): string | null {
  if (typeof path !== 'string' || path === '') return 'Enter a path starting with /, such as /v1/items.';
  if (!path.startsWith('/')) return 'The path must start with /, such as /v1/items.';
  if (path.startsWith('//')) return 'The path must start with a single /, not //.';
  if (path.length > PATH_MAX_LENGTH) return `The path can be at most ${PATH_MAX_LENGTH} characters long.`;
  if (path.includes('://')) return 'The path cannot contain a full URL; enter only the part after the base URL.';
  if (path.includes('?')) return 'Put query parameters in the query input, not in the path.';
  if (path.includes('#')) return 'The path cannot contain a fragment (#).';
  if (!PATH_CHARS_RE.test(path)) {
    return 'The path contains characters that must be percent-encoded (such as spaces, \\ or non-ASCII letters).';
  }
  if (/%(?![0-9A-Fa-f]{2})/.test(path)) return 'The path contains a % that is not followed by two hex digits.';
  for (const segment of path.split('/')) {
    const decoded = segment.replace(/%2e/gi, '.');
    if (decoded === '.' || decoded === '..') return 'The path cannot contain . or .. segments.';
  }
  return null;
}

function queryFrom(raw: unknown): { query?: Record<string, string> } | PlanError {
  if (raw === undefined || raw === null || raw === '') return {};
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return { error: 'The query must be a JSON object of names and values.', field: 'query' };
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { error: 'The query must be an object of names and values, like {"page": "2"}.', field: 'query' };
  }
  const query: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === '') return { error: 'Query parameter names cannot be empty.', field: 'query' };
    if (typeof v === 'string') query[key] = v;
    else if (typeof v === 'number' && Number.isFinite(v)) query[key] = String(v);
    else if (typeof v === 'boolean') query[key] = String(v);
    else {
      return { error: `The query parameter "${key.slice(0, 100)}" must be text.`, field: 'query' };
    }
  }
  return Object.keys(query).length > 0 ? { query } : {};
}

export const httpToolkit: ToolkitType = {
  type: 'http',
  label: 'HTTP API',
  description: "Call any HTTP API under the credential's base URL.",
  credentialTypes: ['http_bearer', 'http_basic', 'http_header'],
  settings: [],
  tools: [
    {
      name: 'request',
      label: 'Request',
      description: "Sends one request to a path under the credential's base URL.",
      input: [
        { name: 'method', label: 'Method', type: 'string', required: true, options: [...HTTP_METHODS] },
        {
          name: 'path',
          label: 'Path',
          type: 'string',
          required: true,
          help: 'Starts with /; appended to the base URL, e.g. /v1/items.',
        },
        {
          name: 'query',
          label: 'Query',
          type: 'object',
          required: false,
          help: 'A JSON object of query parameters, e.g. {"page": "2"}.',
        },
        { name: 'body', label: 'Body', type: 'object', required: false, help: 'Any JSON, sent as the request body.' },
      ],
      plan: (input) => {
        const method = typeof input.method === 'string' ? input.method.trim().toUpperCase() : '';
        if (!(HTTP_METHODS as readonly string[]).includes(method)) {
          return { error: `Choose a method: ${HTTP_METHODS.join(', ')}.`, field: 'method' };
        }
        const path = typeof input.path === 'string' ? input.path.trim() : input.path;
        const problem = httpPathProblem(path);
        if (problem) return { error: problem, field: 'path' };
        const query = queryFrom(input.query);
        if ('error' in query) return query;
        const call: PlannedCall = { method, path: path as string };
        if (query.query) call.query = query.query;
        if (input.body !== undefined && input.body !== null) {
          if (method === 'GET' || method === 'HEAD') {
            return { error: `A ${method} request cannot have a body.`, field: 'body' };
          }
          call.body = input.body;
        }
        return call;
      },
    },
  ],
};
