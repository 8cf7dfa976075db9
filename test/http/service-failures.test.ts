// A service that answers 200 but says the call failed (Slack's `{ok:false,error:…}`) is recorded
// and shown as a failure; for services that use HTTP statuses, a 2xx is a success. These replace
// unit tests that only restated which types have a failed() hook.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';
import { startFakeService, type FakeService } from '../helpers/fake-services';

let t: TestApp;
let svc: FakeService;
let alice: Awaited<ReturnType<TestApp['user']>>;

beforeAll(async () => {
  svc = await startFakeService({ tokens: { 'xoxb-good-token': 'alice-bot', 'ghp-good-token': 'alice-gh' } });
  t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
  alice = await t.user('alice');
});
afterAll(async () => {
  await t.close();
  await svc.close();
});

const lastExecution = async () => {
  const row = (await t.sqlOne<{ outcome: string; details_json: string }>(`SELECT outcome, details_json FROM audit_events WHERE action = 'toolkit.execute' ORDER BY id DESC LIMIT 1`))!;
  return { outcome: row.outcome, details: JSON.parse(row.details_json) as Record<string, unknown> };
};

async function toolkitWith(type: 'slack' | 'github', name: string, token: string) {
  const credential_id = `${type}_${name}`;
  const cred = await t.api('POST', '/workspaces/private/credentials', alice.token, { name, credential_id, type, fields: { base_url: svc.url }, secrets: { token } });
  expect(cred.status, cred.text).toBe(201);
  const tk = await t.api('POST', '/workspaces/private/toolkits', alice.token, { name, type, settings: {}, credential: { scope: 'private', credential_id } });
  expect(tk.status, tk.text).toBe(201);
  return { id: tk.json.id as number, credential_id };
}

describe('a 200 answer that reports a failure', () => {
  it.each<[string, 'slack' | 'github', string, string, 'success' | 'failure', string | undefined]>([
    ['slack with a revoked token', 'slack', 'xoxb-revoked-token', 'auth_test', 'failure', 'invalid_auth'],
    ['slack with a good token', 'slack', 'xoxb-good-token', 'auth_test', 'success', undefined],
    ['github with a good token', 'github', 'ghp-good-token', 'get_authenticated_user', 'success', undefined],
    ['github with a bad token (401)', 'github', 'ghp-bad-token', 'get_authenticated_user', 'failure', undefined],
  ])('%s is recorded as a %s', async (name, type, token, tool, outcome, serviceError) => {
    const tk = await toolkitWith(type, name.replace(/\W+/g, '_'), token);
    const run = await t.api('POST', `/workspaces/private/toolkits/${tk.id}/execute`, alice.token, { tool, input: {} });
    expect(run.status).toBe(200); // the service answered: its answer is the result
    const recorded = await lastExecution();
    expect(recorded.outcome).toBe(outcome);
    if (serviceError) expect(recorded.details.service_error).toBe(serviceError);
    else expect(recorded.details).not.toHaveProperty('service_error');
    expect(JSON.stringify(recorded)).not.toContain(token);
  });

  it('a Slack connection test with a revoked token says the service refused it', async () => {
    const res = await t.api('POST', '/workspaces/private/credentials/slack_slack_with_a_revoked_token/test', alice.token, {});
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.json)).toContain('The service refused the credential: invalid_auth');
    const good = await t.api('POST', '/workspaces/private/credentials/slack_slack_with_a_good_token/test', alice.token, {});
    expect(JSON.stringify(good.json)).toContain('Verified as alice-bot');
  });
});
