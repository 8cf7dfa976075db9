// GET /api/v1/openapi.json: valid OpenAPI 3.1 JSON, served with or without a token, naming every
// route of the contract with its body schema, and naming only routes that exist.
import { describe, expect, it } from 'vitest';
import { useScenario } from '../helpers/scenario';

const s = useScenario();

/** The contract's routes (CONTRACT.md §4), in OpenAPI path syntax; true when it takes a body. */
const CONTRACT: [string, string, boolean][] = [
  ['get', '/me', false],
  ['get', '/projects', false],
  ['post', '/projects', true],
  ['post', '/projects/{slug}/members', true],
  ['patch', '/projects/{slug}/members/{username}', true],
  ['delete', '/projects/{slug}/members/{username}', false],
  ['get', '/credential-types', false],
  ['get', '/workspaces/{ws}/credentials', false],
  ['post', '/workspaces/{ws}/credentials', true],
  ['patch', '/workspaces/{ws}/credentials/{credential_id}', true],
  ['delete', '/workspaces/{ws}/credentials/{credential_id}', false],
  ['get', '/toolkit-types', false],
  ['get', '/workspaces/{ws}/toolkits', false],
  ['post', '/workspaces/{ws}/toolkits', true],
  ['patch', '/workspaces/{ws}/toolkits/{id}', true],
  ['delete', '/workspaces/{ws}/toolkits/{id}', false],
  ['post', '/workspaces/{ws}/toolkits/{id}/execute', true],
  ['get', '/audit', false],
];

describe('GET /api/v1/openapi.json', () => {
  it('answers the same valid JSON with and without a token', async () => {
    const t = await s.fresh();
    const alice = await t.user('alice');
    const anonymous = await t.api('GET', '/openapi.json', null);
    const withToken = await t.api('GET', '/openapi.json', alice.token);
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/json/);
    expect(anonymous.json).not.toBeNull();
    expect(withToken.text).toBe(anonymous.text);
    expect(anonymous.json).toMatchObject({ openapi: '3.1.0', info: { title: expect.any(String), version: expect.any(String) } });
  });

  it('lists every route of the contract, each body with its JSON Schema', async () => {
    const t = await s.fresh();
    const doc = (await t.api('GET', '/openapi.json', null)).json;
    for (const [method, path, hasBody] of CONTRACT) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method.toUpperCase()} ${path}`).toBeDefined();
      if (hasBody) expect(op.requestBody.content['application/json'].schema.type, `${method} ${path} body`).toBe('object');
      for (const param of path.match(/\{\w+\}/g) ?? []) expect(op.parameters.map((p: { name: string }) => `{${p.name}}`)).toContain(param);
    }
    // Bodies carry the schemas' limits and choices.
    const credential = doc.paths['/workspaces/{ws}/credentials'].post.requestBody.content['application/json'].schema;
    expect(credential.required).toEqual(expect.arrayContaining(['name', 'type', 'secrets']));
    expect(credential.properties.credential_id.maxLength).toBe(64);
    expect(credential.properties.type.enum).toContain('github');
    const toolkit = doc.paths['/workspaces/{ws}/toolkits'].post.requestBody.content['application/json'].schema;
    expect(toolkit.properties.credential.properties.scope.enum).toEqual(['project', 'private']);
    expect(doc.paths['/workspaces/{ws}/toolkits/{id}/execute'].post.responses).toHaveProperty('422');
  });

  it('names only routes that exist', async () => {
    const t = await s.fresh();
    const alice = await t.user('alice');
    const doc = (await t.api('GET', '/openapi.json', null)).json;
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      const url = path.replace('{ws}', 'private').replace('{slug}', 'nope').replace('{id}', '1').replace('{credential_id}', 'nope').replace('{username}', 'nobody');
      for (const method of Object.keys(ops)) {
        const res = await t.api(method.toUpperCase(), url, alice.token, method === 'get' || method === 'delete' ? undefined : {});
        expect(res.json?.message, `${method.toUpperCase()} ${path}`).not.toBe('No such API route.');
      }
    }
  });

  it('gives each tool its input as JSON Schema in GET /toolkit-types', async () => {
    const t = await s.fresh();
    const alice = await t.user('alice');
    const types = (await t.api('GET', '/toolkit-types', alice.token)).json;
    const issue = types.find((k: { type: string }) => k.type === 'github').tools.find((x: { name: string }) => x.name === 'create_issue');
    expect(issue.input_schema).toMatchObject({ type: 'object', required: ['title'], additionalProperties: false, properties: { title: { type: 'string', maxLength: expect.any(Number) } } });
  });
});
