// Credential policy in real Chromium against the real server: an editor sets a toolkit's fallback
// ("Private, else project credential team_github") and confirms it in the Credential Configuration
// Change dialog; team readiness says who runs with their own credential and who with the fallback;
// a credential that expires in three days is flagged on the credentials list, its edit page and
// the toolkit that uses it. Screenshots of each, and axe with zero violations on each page.
import { execFileSync } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeService, type FakeService } from '../helpers/fake-services';
import { accessibilityViolations, launchBrowser, LOOK_DIR, newPage, ROOT, screenshot, screenshotWidths, signUp, startServer, tearDown, type Server } from './harness';

type TestPage = Page & { errors: string[] };

describe('credential policy in a browser', () => {
  let server: Server;
  let browser: Browser;
  let fake: FakeService;
  let alice: TestPage;
  let bob: TestPage;
  let toolkitPath = '';

  /** Calls the JSON API as `token` (setup only; what is checked happens in the pages). */
  const api = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.baseUrl}/api/v1${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(res.status, `${method} ${path}`).toBeLessThan(300);
    return res.json() as Promise<any>;
  };
  const tokenFor = (username: string) =>
    // Vitest's BASE_URL and friends must not reach the CLI (they are Latchkey settings): a plain environment.
    execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'token', 'create', username], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: server.dataDir, LOG_LEVEL: 'silent' } }).toString().trim();

  const axe = async (page: Page) => expect(await accessibilityViolations(page)).toEqual([]);

  beforeAll(async () => {
    fake = await startFakeService({ tokens: { ghp_team_bot: 'team-bot', ghp_bob_own: 'bob-gh' } });
    server = await startServer({ OUTBOUND_ALLOW_HOSTS: '127.0.0.1' });
    browser = await launchBrowser();
    alice = await newPage(browser);
    bob = await newPage(browser);
    await signUp(alice, server.baseUrl, 'alice');
    await signUp(bob, server.baseUrl, 'bob');
    const [a, b] = [tokenFor('alice'), tokenFor('bob')];
    await api(a, 'POST', '/projects', { name: 'Platform' });
    await api(a, 'POST', '/projects/platform/members', { username: 'bob', role: 'viewer' });
    await api(a, 'POST', '/workspaces/platform/credentials', { name: 'Team GitHub', type: 'github', fields: { base_url: fake.url }, secrets: { token: 'ghp_team_bot' } });
    const soon = new Date(Date.now() + 3 * 86_400_000).toISOString();
    await api(b, 'POST', '/workspaces/private/credentials', { name: 'GitHub Token', type: 'github', fields: { base_url: fake.url }, secrets: { token: 'ghp_bob_own' }, expires_at: soon });
    const tk = await api(a, 'POST', '/workspaces/platform/toolkits', { name: 'GitHub', type: 'github', credential: { scope: 'private', credential_id: 'github_token' } });
    toolkitPath = `/w/platform/toolkits/${tk.id}`;
  });

  afterAll(async () => {
    const stopped = await tearDown({ browser, server, fakes: [fake] });
    if (stopped) expect(stopped.code, `server did not exit cleanly on SIGTERM:\n${stopped.output}`).toBe(0);
  });

  it('an editor sets the fallback through the change dialog; readiness and the run panel say who runs with what', async () => {
    await alice.goto(`${server.baseUrl}${toolkitPath}/edit`);
    const fallback = alice.getByLabel('Members without their own credential');
    expect(await fallback.locator('option').allInnerTexts()).toEqual(['Private only', 'Private, else project credential team_github']);
    await fallback.selectOption('team_github');
    await screenshot(alice, 'policy-fallback-setting');
    await axe(alice);
    await alice.getByRole('button', { name: 'Save changes' }).click();
    const dialog = alice.locator('#credential-change-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.innerText()).toMatch(/will run with the project credential team_github/);
    expect(await dialog.innerText()).toMatch(/Fallback before: none/);
    await alice.screenshot({ path: `${ROOT}/test-results/screenshots/policy-fallback-dialog.png` });
    await axe(alice);
    await dialog.getByRole('button', { name: 'Confirm changes' }).click();
    await alice.waitForURL((u) => u.pathname === toolkitPath);

    expect(await alice.locator('#runs-with-fallback').innerText()).toContain('team_github');
    const readiness = (await alice.locator('#team-readiness').innerText()).replace(/\s+/g, ' ');
    expect(readiness).toContain('alice Ready · project fallback');
    expect(readiness).toMatch(/bob Ready · own expires soon/);
    const panel = alice.locator('#tool-get_authenticated_user');
    await panel.getByRole('button', { name: 'Run' }).click();
    await alice.locator('#run-get_authenticated_user-result .run-meta').waitFor();
    expect(await alice.locator('#run-get_authenticated_user-result').innerText()).toContain('the project fallback');
    expect(fake.requests.at(-1)!.headers.authorization).toBe('Bearer ghp_team_bot');
    await screenshot(alice, 'policy-fallback-toolkit');
    await screenshotWidths(alice, 'policy-fallback-toolkit');
    // The run panel's "Ran with … the project fallback" line at the widths people use most.
    const result = alice.locator('#run-get_authenticated_user-result .run-meta');
    for (const width of [1024, 1280]) {
      await alice.setViewportSize({ width, height: 800 });
      await result.scrollIntoViewIfNeeded();
      await result.screenshot({ path: `${LOOK_DIR}/policy-fallback-run-${width}.png` });
      // It wraps only between its parts: "Ran with" and the credential each stay on one line, and
      // the fallback's reason starts a line of its own at the panel's left edge.
      const meta = (await result.boundingBox())!;
      const ranWith = (await result.locator('.ran-as > span').first().boundingBox())!;
      const id = (await result.locator('.ran-as-id').boundingBox())!;
      const why = (await result.locator('.fallback-ran').boundingBox())!;
      expect(ranWith.height, `"Ran with" wraps at ${width}px`).toBeLessThan(24);
      expect(id.height, `the credential wraps at ${width}px`).toBeLessThan(24);
      expect(Math.abs(why.x - meta.x), `the fallback line is not on its own line at ${width}px`).toBeLessThan(2);
      expect(why.y).toBeGreaterThanOrEqual(id.y + id.height - 1);
      await axe(alice);
    }
    await alice.setViewportSize({ width: 1280, height: 800 });
    await axe(alice);
    expect(alice.errors).toEqual([]);
  });

  it('the owner of a credential that expires in three days is warned on the list, its edit page and the toolkit', async () => {
    await bob.goto(`${server.baseUrl}/w/private/credentials`);
    expect(await bob.locator('#cred-github_token').innerText()).toMatch(/Expires \d{4}-\d{2}-\d{2}/);
    await screenshot(bob, 'policy-expiring-list');
    await axe(bob);
    await bob.goto(`${server.baseUrl}/w/private/credentials/github_token/edit`);
    expect(await bob.locator('#expiry-warning').innerText()).toContain('expires soon');
    expect(await bob.getByLabel('Expires on (optional)').inputValue()).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    await screenshot(bob, 'policy-expiring-edit');
    await axe(bob);
    await bob.goto(`${server.baseUrl}${toolkitPath}`);
    expect(await bob.locator('#credential-status').innerText()).toContain('Credential github_token expires soon');
    await screenshot(bob, 'policy-expiring-toolkit');
    await axe(bob);
    expect(bob.errors).toEqual([]);
  });
});
