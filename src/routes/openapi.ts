// The JSON API described as OpenAPI 3.1, made from the services' zod schemas: every /api/v1 route
// is written once in ROUTES below, with its body schema, and GET /api/v1/openapi.json serves the
// document (with or without a token: it holds no data).
import { z } from 'zod';
import { CredentialCreateBody, CredentialUpdateBody } from '../services/save-credential';
import { ToolkitCreateBody, ToolkitUpdateBody } from '../services/save-toolkit';
import { MemberAddBody, MemberRoleBody, ProjectBody } from '../services/change-membership';
import { ExecuteBody } from '../services/run-toolkit';
import { OAuthAppBody } from '../services/oauth-apps';

type Route = {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI path syntax: {ws}, {id}. */
  path: string;
  summary: string;
  body?: z.ZodType;
  /** The success status and what it answers. */
  ok: [number, string];
  /** Failure statuses this route can answer (every error is {error, message, …}). */
  errors?: number[];
};

/** Every route of the JSON API (CONTRACT.md §4), written once. */
export const ROUTES: Route[] = [
  { method: 'get', path: '/me', summary: 'The caller: username and is_admin', ok: [200, 'The caller'] },
  { method: 'get', path: '/projects', summary: 'Projects the caller belongs to', ok: [200, 'Projects with the caller’s role'] },
  { method: 'post', path: '/projects', summary: 'Create a project (the caller becomes its admin)', body: ProjectBody, ok: [201, 'The project'], errors: [400] },
  { method: 'get', path: '/projects/{slug}/members', summary: 'Members of a project', ok: [200, 'Members and roles'], errors: [404] },
  { method: 'post', path: '/projects/{slug}/members', summary: 'Add a member (project admins)', body: MemberAddBody, ok: [201, 'The member'], errors: [400, 403, 404, 409] },
  { method: 'patch', path: '/projects/{slug}/members/{username}', summary: 'Change a member’s role (project admins)', body: MemberRoleBody, ok: [200, 'The member'], errors: [400, 403, 404, 409] },
  { method: 'delete', path: '/projects/{slug}/members/{username}', summary: 'Remove a member (project admins)', ok: [204, 'Removed'], errors: [403, 404, 409] },
  { method: 'get', path: '/credential-types', summary: 'Credential types and their fields', ok: [200, 'Credential types'] },
  { method: 'get', path: '/workspaces/{ws}/credentials', summary: 'Credentials of a workspace (never a secret)', ok: [200, 'Credentials'], errors: [404] },
  { method: 'get', path: '/workspaces/{ws}/credentials/{credential_id}', summary: 'One credential (never a secret)', ok: [200, 'The credential'], errors: [404] },
  { method: 'post', path: '/workspaces/{ws}/credentials', summary: 'Create a credential', body: CredentialCreateBody, ok: [201, 'The credential'], errors: [400, 403, 404, 409] },
  { method: 'patch', path: '/workspaces/{ws}/credentials/{credential_id}', summary: 'Change a credential', body: CredentialUpdateBody, ok: [200, 'The credential'], errors: [400, 403, 404, 409] },
  { method: 'delete', path: '/workspaces/{ws}/credentials/{credential_id}', summary: 'Delete a credential', ok: [204, 'Deleted'], errors: [403, 404] },
  { method: 'post', path: '/workspaces/{ws}/credentials/{credential_id}/test', summary: 'Test a saved credential against its service; an expiry the service reports (expires_at) replaces the stored one', ok: [200, '{ok, message, account, expires_at?}'], errors: [404] },
  {
    method: 'get',
    path: '/workspaces/{ws}/credentials/{credential_id}/usage',
    summary: 'Toolkits that would run with a credential the caller has, and its last use ({toolkits:[{workspace,id,name}], last_used_at})',
    ok: [200, 'Toolkits and last_used_at'],
    errors: [404],
  },
  { method: 'get', path: '/toolkit-types', summary: 'Toolkit types, their tools and each tool’s input schema', ok: [200, 'Toolkit types'] },
  { method: 'get', path: '/workspaces/{ws}/toolkits', summary: 'Toolkits of a workspace with the caller’s status', ok: [200, 'Toolkits'], errors: [404] },
  { method: 'get', path: '/workspaces/{ws}/toolkits/{id}', summary: 'One toolkit with the caller’s status', ok: [200, 'The toolkit'], errors: [404] },
  { method: 'post', path: '/workspaces/{ws}/toolkits', summary: 'Create a toolkit (editors and admins)', body: ToolkitCreateBody, ok: [201, 'The toolkit'], errors: [400, 403, 404] },
  {
    method: 'patch',
    path: '/workspaces/{ws}/toolkits/{id}',
    summary: 'Change a toolkit; a changed credential adds members_without_credential',
    body: ToolkitUpdateBody,
    ok: [200, 'The toolkit'],
    errors: [400, 403, 404],
  },
  { method: 'delete', path: '/workspaces/{ws}/toolkits/{id}', summary: 'Delete a toolkit (editors and admins)', ok: [204, 'Deleted'], errors: [403, 404] },
  {
    method: 'post',
    path: '/workspaces/{ws}/toolkits/{id}/execute',
    summary: 'Run a tool with the credential resolved for the caller',
    body: ExecuteBody,
    ok: [200, 'The service’s status and body, whose credential was used (a fallback run names the project credential), and rate_limit when the service reported its budget'],
    errors: [400, 403, 404, 422, 502],
  },
  { method: 'get', path: '/audit', summary: 'Audit events, newest first (instance and project admins)', ok: [200, 'Events and next_before'], errors: [403] },
  {
    method: 'get',
    path: '/users/{username}/dependencies',
    summary: 'What depends on a person in each of their projects: credentials and toolkits they created, toolkits only their credential makes ready (instance admins)',
    ok: [200, 'The person and their projects’ dependencies'],
    errors: [403, 404],
  },
  {
    method: 'post',
    path: '/users/{username}/deactivate',
    summary: 'Deactivate a person: their sessions, personal access tokens and OAuth grants end at once (instance admins; no body)',
    ok: [200, 'The person, now inactive'],
    errors: [403, 404, 409],
  },
  { method: 'get', path: '/oauth-apps', summary: 'OAuth apps members can connect their accounts with (never the client secret)', ok: [200, 'OAuth apps'] },
  { method: 'post', path: '/oauth-apps', summary: 'Register an OAuth app (instance admins)', body: OAuthAppBody, ok: [201, 'The app, without its secret'], errors: [400, 403, 409] },
  { method: 'delete', path: '/oauth-apps/{name}', summary: 'Delete an OAuth app (instance admins)', ok: [204, 'Deleted'], errors: [403, 404] },
  { method: 'get', path: '/openapi.json', summary: 'This document', ok: [200, 'OpenAPI 3.1'] },
];

const ERROR_SCHEMA = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, fields: { type: 'object', additionalProperties: { type: 'string' } } },
  required: ['error', 'message'],
};

/** The JSON Schema of a body, without the draft marker (OpenAPI 3.1 uses the 2020-12 dialect). */
function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest;
}

/** Returns the OpenAPI 3.1 document of the JSON API. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const responses: Record<string, unknown> = { [r.ok[0]]: { description: r.ok[1], ...(r.ok[0] === 204 ? {} : { content: { 'application/json': { schema: {} } } }) } };
    // Every route: 401 without a valid token, 503 (`database_unavailable`) while the database cannot be reached.
    for (const status of [401, ...(r.errors ?? []), 503]) responses[status] = { $ref: `#/components/responses/Error` };
    paths[r.path] ??= {};
    paths[r.path][r.method] = {
      summary: r.summary,
      ...(params.length ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } } } : {}),
      responses,
      ...(r.path === '/openapi.json' ? { security: [] } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Latchkey JSON API', version: '1', description: 'Every call sends Authorization: Bearer <personal access token>. No answer ever holds a secret value.' },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A personal access token (Settings page or `token create`).' } },
      responses: { Error: { description: 'An error: {error, message} plus the fields the contract names', content: { 'application/json': { schema: ERROR_SCHEMA } } } },
    },
  };
}
