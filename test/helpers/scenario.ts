// Per-test apps and fake services that are closed after each test, and a project builder:
// the setup the credential and toolkit HTTP tests share.
import { afterEach, expect } from 'vitest';
import { createTestApp, type TestApp } from './app';
import { startFakeService, type FakeService } from './fake-services';

export type User = Awaited<ReturnType<TestApp['user']>>;

/** Returns `fresh` (a new app) and `fake` (a new fake service), both closed after each test. */
export function useScenario() {
  let apps: TestApp[] = [];
  let services: FakeService[] = [];
  afterEach(async () => {
    for (const t of apps) await t.close();
    for (const s of services) await s.close();
    apps = [];
    services = [];
  });
  return {
    async fresh(opts: Parameters<typeof createTestApp>[0] = {}) {
      const t = await createTestApp(opts);
      apps.push(t);
      return t;
    },
    async fake(tokens: Record<string, string> = {}) {
      const s = await startFakeService({ tokens });
      services.push(s);
      return s;
    },
  };
}

/** Creates a project owned by `owner` with the given members; returns its slug. */
export async function project(t: TestApp, owner: User, name: string, members: [User, 'admin' | 'editor' | 'viewer'][] = []) {
  const p = await t.api('POST', '/projects', owner.token, { name });
  expect(p.status).toBe(201);
  for (const [u, role] of members) expect((await t.api('POST', `/projects/${p.json.slug}/members`, owner.token, { username: u.username, role })).status).toBe(201);
  return p.json.slug as string;
}
