// One schema per input: the services' zod schemas are the validators (field by field, one
// sentence per field), and the same objects are what /api/v1/openapi.json publishes.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseInput } from '../../src/services/input';
import { CredentialCreateBody } from '../../src/services/save-credential';
import { ToolkitCreateBody } from '../../src/services/save-toolkit';
import { MemberAddBody, ProjectBody } from '../../src/services/change-membership';

describe('parseInput', () => {
  const cases: { name: string; schema: z.ZodObject; value: unknown; ok: boolean; errors?: Record<string, string>; data?: Record<string, unknown> }[] = [
    { name: 'not an object', schema: ProjectBody, value: [1], ok: false, errors: { _body: 'Send a JSON object.' } },
    { name: 'project name trimmed', schema: ProjectBody, value: { name: '  Platform  ' }, ok: true, data: { name: 'Platform' } },
    { name: 'project name blank', schema: ProjectBody, value: { name: '   ' }, ok: false, errors: { name: 'Give the project a name.' } },
    { name: 'project name without letters (the domain rule, through the schema)', schema: ProjectBody, value: { name: '!!!' }, ok: false, errors: { name: 'Use at least one letter or digit.' } },
    { name: 'project name too long', schema: ProjectBody, value: { name: 'x'.repeat(81) }, ok: false, errors: { name: 'Use at most 80 characters.' } },
    { name: 'member: username lowercased', schema: MemberAddBody, value: { username: ' Bob ', role: 'editor' }, ok: true, data: { username: 'bob', role: 'editor' } },
    { name: 'member: both wrong, both named', schema: MemberAddBody, value: { username: 7, role: 'owner' }, ok: false, errors: { username: 'Enter a username.', role: 'Choose a role.' } },
    {
      name: 'credential: bad ID and missing secrets reported together, the name kept',
      schema: CredentialCreateBody,
      value: { name: 'GitHub', type: 'github', credential_id: 'GitHub' },
      ok: false,
      errors: { credential_id: 'Use lowercase letters only, for example "github".', secrets: 'secrets must be an object.' },
      data: { name: 'GitHub', type: 'github' },
    },
    {
      name: 'toolkit: nested path for the credential scope',
      schema: ToolkitCreateBody,
      value: { name: 'GH', type: 'github', credential: { scope: 'team', credential_id: 'x' } },
      ok: false,
      errors: { 'credential.scope': 'Scope must be "project" or "private".' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseInput(c.schema, c.value);
      expect(r.ok).toBe(c.ok);
      if (!r.ok && c.errors) expect(r.errors).toEqual(c.errors);
      if (c.data) expect(r.data).toMatchObject(c.data);
    });
  }
});

describe('the published schema is the validator', () => {
  it('a credential ID longer than 64 characters is refused, and the JSON Schema says so', () => {
    const long = 'a'.repeat(65);
    const r = parseInput(CredentialCreateBody, { name: 'n', type: 'github', credential_id: long, secrets: { token: 't' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.credential_id).toMatch(/at most 64/);
    const json = z.toJSONSchema(CredentialCreateBody) as { properties: Record<string, { maxLength?: number; pattern?: string }> };
    expect(json.properties.credential_id.maxLength).toBe(64);
    expect(json.properties.credential_id.pattern).toBe('^[a-z0-9][a-z0-9_]{0,63}$');
  });
});
