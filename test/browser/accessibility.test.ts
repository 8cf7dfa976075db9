// Every page of the product checked with axe-core's WCAG 2.0/2.1 A and AA rules, in real
// Chromium against the real server, and photographed at 1280 and 1024 px into .screenshots/
// for a look-over. The toolkit runs against a fake GitHub on 127.0.0.1.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeService, type FakeService } from '../helpers/fake-services';
import { accessibilityViolations, launchBrowser, newPage, screenshotWidths, signUp, startServer, type Server, tearDown } from './harness';

describe('accessibility of every page', () => {
  let server: Server;
  let browser: Browser;
  let fake: FakeService;
  const found: Record<string, string[]> = {};

  /** Checks the page as it is now and takes its screenshots. */
  async function check(page: Page, name: string) {
    found[name] = await accessibilityViolations(page);
    await screenshotWidths(page, name);
  }

  beforeAll(async () => {
    fake = await startFakeService({ tokens: { ghp_alice_a11y: 'alice-gh' } });
    server = await startServer({ OUTBOUND_ALLOW_HOSTS: '127.0.0.1' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    const stopped = await tearDown({ browser, server, fakes: [fake] });
    if (stopped) expect(stopped.code, `server did not exit cleanly on SIGTERM:\n${stopped.output}`).toBe(0);
  });

  it('has no WCAG 2.1 A/AA violation on any page', async () => {
    const { baseUrl } = server;
    const visitor = await newPage(browser);
    await visitor.goto(`${baseUrl}/signup`);
    await check(visitor, 'signup');

    const alice = await newPage(browser);
    await signUp(alice, baseUrl, 'alice');
    await visitor.goto(`${baseUrl}/login`);
    await check(visitor, 'login');
    await visitor.goto(`${baseUrl}/w/nothing-here/credentials`);
    await check(visitor, 'error-page-signed-out');
    await alice.goto(`${baseUrl}/w/nothing-here/credentials`);
    await check(alice, 'error-page');

    // Credentials: the empty list, the form, the list, the edit form, the delete dialog.
    await alice.goto(`${baseUrl}/w/private/credentials`);
    await check(alice, 'credentials-empty');
    await alice.goto(`${baseUrl}/w/private/credentials/new`);
    await alice.getByLabel('Credential Name').fill('GitHub Token');
    await expect.poll(() => alice.getByLabel('Credential ID').inputValue(), { timeout: 5_000 }).toBe('github_token');
    await alice.getByLabel('Base URL').fill(fake.url);
    await alice.getByLabel('Personal access token').fill('ghp_alice_a11y');
    await check(alice, 'credential-new');
    await alice.getByRole('button', { name: 'Save credential' }).click();
    await alice.waitForURL((u) => u.pathname === '/w/private/credentials');
    await alice.locator('#cred-github_token').getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => alice.locator('#cred-github_token').innerText(), { timeout: 10_000 }).toContain('Verified');
    await check(alice, 'credentials-list');
    await alice.goto(`${baseUrl}/w/private/credentials/github_token/edit`);
    await check(alice, 'credential-edit');
    await alice.goto(`${baseUrl}/w/private/credentials`);
    await alice.locator('#cred-github_token').getByRole('link', { name: 'Delete' }).click();
    await alice.getByRole('dialog').waitFor();
    await check(alice, 'credential-delete-dialog');

    // A project with a toolkit on each member's private github_token.
    await alice.goto(`${baseUrl}/projects/new`);
    await check(alice, 'project-new');
    await alice.getByLabel('Project name').fill('Platform');
    await alice.getByRole('button', { name: 'Create project' }).click();
    await alice.waitForURL((u) => u.pathname === '/w/platform/members');
    await check(alice, 'project-members');
    await alice.goto(`${baseUrl}/w/platform/toolkits`);
    await check(alice, 'toolkits-empty');
    await alice.goto(`${baseUrl}/w/platform/toolkits/new`);
    await alice.getByLabel('Name', { exact: true }).fill('GitHub');
    await alice.getByLabel('Private Credential ID').fill('github_token');
    await check(alice, 'toolkit-new');
    await alice.getByRole('button', { name: 'Create toolkit' }).click();
    await alice.waitForURL((u) => /\/toolkits\/\d+$/.test(u.pathname));
    const toolkitPath = new URL(alice.url()).pathname;
    await alice.locator('#tool-get_authenticated_user').getByRole('button', { name: 'Run' }).click();
    await alice.locator('#run-get_authenticated_user-result .run-meta').waitFor();
    await check(alice, 'toolkit-page-run');
    await alice.goto(`${baseUrl}/w/platform/toolkits`);
    await check(alice, 'toolkits-list');

    // The Credential Configuration Change dialog.
    await alice.goto(`${baseUrl}${toolkitPath}/edit`);
    await alice.getByLabel('Private Credential ID').fill('github_pat');
    await alice.getByRole('button', { name: 'Save changes' }).click();
    await alice.getByRole('dialog', { name: 'Credential Configuration Change' }).waitFor();
    await check(alice, 'toolkit-change-dialog');

    // The setup banner a member without the credential sees.
    await alice.getByRole('dialog').getByRole('button', { name: 'Confirm changes' }).click();
    await alice.waitForURL((u) => u.pathname === toolkitPath);
    await check(alice, 'toolkit-setup-required');

    // Account and instance pages.
    await alice.goto(`${baseUrl}/settings`);
    await check(alice, 'settings');
    await alice.goto(`${baseUrl}/admin/users`);
    await check(alice, 'admin-users');
    await alice.goto(`${baseUrl}/admin/audit`);
    await check(alice, 'admin-audit');

    const failing = Object.fromEntries(Object.entries(found).filter(([, v]) => v.length));
    expect(failing).toEqual({});
    expect(Object.keys(found).length).toBeGreaterThanOrEqual(20);
  });
});
