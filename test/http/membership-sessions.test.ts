// Removing someone's project role ends their sessions; leaving a project yourself does not.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app';

describe('member removal and sessions', () => {
  let t: TestApp;
  afterEach(() => t.close());

  it('ends the removed member’s sessions, keeps the remover’s, and records it', async () => {
    t = await createTestApp();
    const alice = await t.user('alice');
    const bob = await t.user('bob');
    await t.api('POST', '/projects', alice.token, { name: 'Team' });
    await t.api('POST', '/projects/team/members', alice.token, { username: 'bob', role: 'editor' });
    expect((await t.browser('GET', '/w/team/toolkits', { cookie: bob.cookie })).status).toBe(200);

    const res = await t.browser('POST', '/w/team/members/bob/remove', { cookie: alice.cookie });
    expect(res.status).toBe(303);
    const bobNow = await t.browser('GET', '/w/private/toolkits', { cookie: bob.cookie });
    expect(bobNow.status).toBe(303);
    expect(bobNow.headers.get('location')).toMatch(/^\/login/);
    expect((await t.browser('GET', '/w/team/members', { cookie: alice.cookie })).status).toBe(200);
    const event = (await t.sqlOne<{ details_json: string }>("SELECT details_json FROM audit_events WHERE action = 'member.remove'"))!;
    expect(JSON.parse(event.details_json)).toEqual({ role: 'editor', sessions_ended: true });
  });

  it('keeps a member signed in when they leave the project themselves', async () => {
    t = await createTestApp();
    const alice = await t.user('alice');
    const bob = await t.user('bob');
    await t.api('POST', '/projects', alice.token, { name: 'Team' });
    await t.api('POST', '/projects/team/members', alice.token, { username: 'bob', role: 'admin' });
    const leave = await t.browser('POST', '/w/team/members/bob/remove', { cookie: bob.cookie });
    expect(leave.status).toBe(303);
    expect((await t.browser('GET', '/w/private/toolkits', { cookie: bob.cookie })).status).toBe(200);
    expect((await t.browser('GET', '/w/team/toolkits', { cookie: bob.cookie })).status).toBe(404);
  });
});
