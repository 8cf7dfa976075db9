// The product documentation's team setup, in real Chromium against the real server: the team
// agrees on a Credential ID (github_token), each member stores their own credential under it in
// their Private workspace, an admin configures the toolkit once in the project, and every member
// runs it as themselves. Then the Credential Configuration Change dialog, and the Credential ID
// conflict flow of the credential form. The GitHub the toolkit calls is a fake on 127.0.0.1.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeService, type FakeService } from '../helpers/fake-services';
import path from 'node:path';
import { launchBrowser, newPage, screenshot as fullPageShot, SCREENSHOT_DIR, signUp, startServer, type Server, tearDown } from './harness';

type TestPage = Page & { errors: string[] };

/**
 * A full-page screenshot taken from the top (scrolled, the sticky top bar lands mid-image); with
 * a modal open, just the window (a full-page capture shows the backdrop over the first 800px only).
 */
async function screenshot(page: Page, name: string, o: { modal?: boolean } = {}) {
  await page.evaluate(() => window.scrollTo(0, 0));
  if (!o.modal) return fullPageShot(page, name);
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

const TOKENS = {
  ghp_alice_personal: 'alice-gh',
  ghp_bob_personal: 'bob-gh',
  ghp_carol_personal: 'carol-gh',
  ghp_platform_bot: 'platform-bot',
  ghp_second_typed: 'alice-second',
};

/** The "+ Create" button of a Credentials or Toolkits page (a plus icon and the word). */
const createButton = (page: Page) => page.getByRole('main').getByRole('link', { name: /^\+?\s*Create$/ }).first();

/** Opens a workspace's page through the workspace selector and the sidebar, as a person would. */
async function openWorkspace(page: Page, workspaceName: string, section: 'Credentials' | 'Toolkits') {
  const selector = page.locator('#workspace-selector');
  await selector.locator('summary').click();
  // A project's item also shows its slug and admins after the name.
  await selector.getByRole('menuitem', { name: new RegExp(`^${workspaceName.replace(/[()]/g, '\\$&')}(\\s|$)`) }).click();
  await page.waitForLoadState('load');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: section, exact: true }).click();
  await page.waitForURL((u) => u.pathname.endsWith(`/${section.toLowerCase()}`));
  expect(await selector.locator('summary').getAttribute('aria-label')).toBe(`Workspace: ${workspaceName}`);
}

/** Fills the credential form for a GitHub credential and waits for the live Credential ID. */
async function fillGithubCredential(page: Page, o: { name: string; baseUrl: string; token: string; expectId: string }) {
  await page.getByLabel('Credential Name').fill(o.name);
  const id = page.getByLabel('Credential ID');
  await expect.poll(() => id.inputValue(), { timeout: 5_000 }).toBe(o.expectId);
  expect(await page.getByLabel('Type', { exact: true }).inputValue()).toBe('github');
  await page.getByLabel('Base URL').fill(o.baseUrl);
  await page.getByLabel('Personal access token').fill(o.token);
}

/** Runs one tool on a toolkit page and returns the result's text once it is there. */
async function runTool(page: Page, tool: string) {
  const panel = page.locator(`#tool-${tool}`);
  await panel.getByRole('button', { name: 'Run' }).click();
  const meta = page.locator(`#run-${tool}-result .run-meta`);
  await meta.waitFor();
  return (await page.locator(`#run-${tool}-result`).innerText()).replace(/\s+/g, ' ');
}

// Chromium logs the deliberate 409 (Credential ID taken) as a console error; anything else fails.
const unexpected = (errors: string[]) => errors.filter((e) => !/Failed to load resource: .*status of (409)\b/.test(e));

describe('toolkits in a browser', () => {
  let server: Server;
  let browser: Browser;
  let fake: FakeService;
  let alice: TestPage;
  let bob: TestPage;
  let carol: TestPage;
  let projectPath = '';
  let toolkitPath = '';

  beforeAll(async () => {
    fake = await startFakeService({ tokens: TOKENS });
    server = await startServer({ OUTBOUND_ALLOW_HOSTS: '127.0.0.1' });
    browser = await launchBrowser();
    alice = await newPage(browser);
    bob = await newPage(browser);
    carol = await newPage(browser);
    await signUp(alice, server.baseUrl, 'alice');
    await signUp(bob, server.baseUrl, 'bob');
    await signUp(carol, server.baseUrl, 'carol');

    // alice makes the project and adds bob (editor) and carol (viewer).
    const selector = alice.locator('#workspace-selector');
    await selector.locator('summary').click();
    await selector.getByRole('menuitem', { name: 'New project' }).click();
    await alice.getByLabel('Project name').fill('Platform Team');
    await alice.getByRole('button', { name: 'Create project' }).click();
    await alice.waitForURL((u) => /^\/w\/[^/]+\/members$/.test(u.pathname));
    projectPath = new URL(alice.url()).pathname.replace(/\/members$/, '');
    for (const [username, role] of [
      ['bob', 'editor'],
      ['carol', 'viewer'],
    ]) {
      await alice.getByLabel('Username', { exact: true }).fill(username);
      await alice.getByLabel('Role', { exact: true }).selectOption(role);
      await alice.getByRole('button', { name: 'Add member' }).click();
      await alice.locator(`#member-${username}`).waitFor();
    }
  });

  afterAll(async () => {
    const stopped = await tearDown({ browser, server, fakes: [fake] });
    if (stopped) expect(stopped.code, `server did not exit cleanly on SIGTERM:\n${stopped.output}`).toBe(0);
  });

  it('team setup: everyone stores github_token privately, alice configures the toolkit, each runs it as themselves', async () => {
    // 1. alice and bob each create their private credential under the agreed ID.
    for (const [page, token] of [
      [alice, 'ghp_alice_personal'],
      [bob, 'ghp_bob_personal'],
    ] as const) {
      await openWorkspace(page, 'Private', 'Credentials');
      await createButton(page).click();
      await page.waitForURL((u) => u.pathname === '/w/private/credentials/new');
      expect(await page.getByRole('heading', { name: 'New private credential' }).isVisible()).toBe(true);
      expect(await page.getByLabel('Credential ID').getAttribute('readonly')).not.toBeNull();
      await fillGithubCredential(page, { name: 'GitHub Token', baseUrl: fake.url, token, expectId: 'github_token' });
      if (page === alice) await screenshot(page, 'toolkits-credential-form');
      await page.getByRole('button', { name: 'Save credential' }).click();
      await page.waitForURL((u) => u.pathname === '/w/private/credentials');
      expect(await page.getByText('Credential github_token saved').isVisible()).toBe(true);
      const row = page.locator('#cred-github_token');
      expect(await row.getByText('Private credential').count()).toBe(1); // the person icon's label
      expect(await row.locator('.scope-private svg').count()).toBe(1);
    }
    await screenshot(alice, 'toolkits-credentials-private');

    // 2. alice also keeps a project credential (shared bot account) in the project.
    await openWorkspace(alice, 'Platform Team', 'Credentials');
    await createButton(alice).click();
    await alice.waitForURL((u) => u.pathname === `${projectPath}/credentials/new`);
    await fillGithubCredential(alice, { name: 'Platform Bot', baseUrl: fake.url, token: 'ghp_platform_bot', expectId: 'platform_bot' });
    await alice.getByRole('button', { name: 'Save credential' }).click();
    await alice.waitForURL((u) => u.pathname === `${projectPath}/credentials`);
    const projectRow = alice.locator('#cred-platform_bot');
    expect(await projectRow.locator('.scope-project svg').count()).toBe(1); // briefcase
    expect(await projectRow.getByText('Project credential').count()).toBe(1);
    await screenshot(alice, 'toolkits-credentials-project');

    // 3. alice configures the toolkit in the project with the agreed Private Credential ID.
    await openWorkspace(alice, 'Platform Team', 'Toolkits');
    await createButton(alice).click();
    await alice.waitForURL((u) => u.pathname === `${projectPath}/toolkits/new`);
    await alice.getByLabel('Name', { exact: true }).fill('GitHub');
    expect(await alice.getByLabel('Type', { exact: true }).inputValue()).toBe('github');
    expect(await alice.getByLabel('Use', { exact: true }).inputValue()).toBe('private');
    await alice.getByLabel('Private Credential ID').fill('github_token');
    await screenshot(alice, 'toolkits-form');
    await alice.getByRole('button', { name: 'Create toolkit' }).click();
    await alice.waitForURL((u) => /\/toolkits\/\d+$/.test(u.pathname));
    toolkitPath = new URL(alice.url()).pathname;
    expect(await alice.getByText('Toolkit created.').isVisible()).toBe(true);
    expect(await alice.locator('#credential-status').innerText()).toContain('github_token');

    // A second toolkit on the project credential, so the list shows both kinds.
    await alice.goto(`${server.baseUrl}${projectPath}/toolkits/new`);
    await alice.getByLabel('Name', { exact: true }).fill('GitHub (bot)');
    await alice.getByLabel('Use', { exact: true }).selectOption('project:platform_bot');
    expect(await alice.getByLabel('Private Credential ID').isVisible()).toBe(false);
    await alice.getByRole('button', { name: 'Create toolkit' }).click();
    await alice.waitForURL((u) => /\/toolkits\/\d+$/.test(u.pathname));

    // 4. alice and bob run it and each sees their own account.
    await alice.goto(`${server.baseUrl}${toolkitPath}`);
    const aliceRun = await runTool(alice, 'get_authenticated_user');
    expect(aliceRun).toContain('HTTP 200');
    expect(aliceRun).toContain('"login": "alice-gh"');
    expect(aliceRun).toMatch(/github_token \(yours\)/);
    await screenshot(alice, 'toolkits-run-result');

    await openWorkspace(bob, 'Platform Team', 'Toolkits');
    expect(await bob.locator('tr', { hasText: /^\s*GitHub\s/ }).first().innerText()).toContain('Ready');
    await bob.getByRole('link', { name: 'GitHub', exact: true }).click();
    await bob.waitForURL((u) => u.pathname === toolkitPath);
    const bobRun = await runTool(bob, 'get_authenticated_user');
    expect(bobRun).toContain('"login": "bob-gh"');
    expect(bobRun).not.toContain('alice-gh');
    // bob is an editor: he sees who in the team is ready (names only).
    const readiness = await bob.locator('#team-readiness').innerText();
    expect(readiness).toContain('2 of 3 members ready');
    expect(readiness).toMatch(/carol\s+No github_token/);

    // 5. carol has no credential yet: the list and the toolkit tell her exactly what to create.
    await carol.reload(); // her page is from before alice added her
    await openWorkspace(carol, 'Platform Team', 'Toolkits');
    const carolRow = carol.locator('tbody tr').filter({ has: carol.getByRole('link', { name: 'GitHub', exact: true }) });
    expect(await carolRow.innerText()).toContain('Credential setup required');
    expect(await carol.locator('tbody tr').filter({ hasText: 'GitHub (bot)' }).innerText()).toContain('Ready');
    await screenshot(carol, 'toolkits-list');
    await carol.getByRole('link', { name: 'GitHub', exact: true }).click();
    await carol.waitForURL((u) => u.pathname === toolkitPath);
    const banner = carol.locator('#setup-required');
    expect(await banner.innerText()).toContain('Credential setup required');
    expect(await banner.locator('code', { hasText: 'github_token' }).first().innerText()).toBe('github_token');
    expect(await carol.locator('#team-readiness').count()).toBe(0); // viewers don't see the team
    expect(await carol.locator('#tool-get_authenticated_user').getByRole('button', { name: 'Run' }).isDisabled()).toBe(true);
    await screenshot(carol, 'toolkits-setup-required');

    await banner.getByRole('link', { name: 'Create my credential' }).click();
    await carol.waitForURL((u) => u.pathname === '/w/private/credentials/new');
    const idField = carol.getByLabel('Credential ID');
    expect(await idField.inputValue()).toBe('github_token');
    expect(await idField.getAttribute('readonly')).toBeNull();
    expect(await carol.getByLabel('Type', { exact: true }).inputValue()).toBe('github');
    expect(await carol.getByText('The ID the toolkit GitHub expects').isVisible()).toBe(true);
    await carol.getByLabel('Credential Name').fill('My GitHub');
    await carol.waitForTimeout(300); // no live ID here: the handed-over ID must stay
    expect(await idField.inputValue()).toBe('github_token');
    await carol.getByLabel('Base URL').fill(fake.url);
    await carol.getByLabel('Personal access token').fill('ghp_carol_personal');
    await carol.getByRole('button', { name: 'Save credential' }).click();
    await carol.waitForURL((u) => u.pathname === toolkitPath); // back to the toolkit
    expect(await carol.locator('#setup-required').count()).toBe(0);
    expect(await carol.locator('#credential-status').innerText()).toContain('Ready');
    const carolRun = await runTool(carol, 'get_authenticated_user');
    expect(carolRun).toContain('"login": "carol-gh"');
    expect(carolRun).toMatch(/\(yours\)/);

    // What went over the wire: each run carried its own member's token.
    const userCalls = fake.requests.filter((r) => r.path === '/user').map((r) => r.headers.authorization);
    expect(userCalls).toEqual(['Bearer ghp_alice_personal', 'Bearer ghp_bob_personal', 'Bearer ghp_carol_personal']);

    for (const p of [alice, bob, carol]) expect(unexpected(p.errors), 'browser errors').toEqual([]);
  });

  it('Credential Configuration Change: Discard puts back only the credential, Confirm saves', async () => {
    expect(toolkitPath, 'needs the toolkit of the team setup').not.toBe('');
    // dave joins without any credential: he could not run the toolkit before the change either.
    const dave = await newPage(browser);
    await signUp(dave, server.baseUrl, 'dave');
    await alice.goto(`${server.baseUrl}${projectPath}/members`);
    await alice.getByLabel('Username', { exact: true }).fill('dave');
    await alice.getByLabel('Role', { exact: true }).selectOption('viewer');
    await alice.getByRole('button', { name: 'Add member' }).click();
    await alice.locator('#member-dave').waitFor();
    await alice.goto(`${server.baseUrl}${toolkitPath}`);
    await alice.getByRole('link', { name: 'Edit', exact: true }).click();
    await alice.waitForURL((u) => u.pathname === `${toolkitPath}/edit`);
    const name = alice.getByLabel('Name', { exact: true });
    const privateId = alice.getByLabel('Private Credential ID');
    expect(await privateId.inputValue()).toBe('github_token');

    await name.fill('GitHub (team)');
    await privateId.fill('github_pat');
    await alice.getByRole('button', { name: 'Save changes' }).click();
    const dialog = alice.getByRole('dialog', { name: 'Credential Configuration Change' });
    await dialog.waitFor();
    const dialogText = (await dialog.innerText()).replace(/\s+/g, ' ');
    expect(dialogText).toContain('4 of 4 members will see Credential setup required');
    // Two groups under their own headings: who loses access, and who could not run it anyway.
    const lose = dialog.getByRole('region', { name: 'Will lose access (3)' });
    expect((await lose.innerText()).replace(/\s+/g, ' ')).toContain('alice, bob, carol');
    expect(await lose.innerText()).not.toContain('dave');
    const already = dialog.getByRole('region', { name: 'Already can’t run it (1)' });
    expect((await already.innerText()).replace(/\s+/g, ' ')).toContain('dave');
    expect(await already.innerText()).not.toMatch(/alice|bob|carol/);
    // Centred in the window, clear of the top bar.
    const box = (await dialog.boundingBox())!;
    expect(box.y).toBeGreaterThan(56);
    expect(Math.abs(box.y + box.height / 2 - 400)).toBeLessThan(4);
    expect(Math.abs(box.x + box.width / 2 - 640)).toBeLessThan(4);
    expect(dialogText).toContain('from github_token to the private Credential ID github_pat');

    await dialog.getByRole('button', { name: 'Discard changes' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await privateId.inputValue()).toBe('github_token');
    expect(await name.inputValue()).toBe('GitHub (team)'); // the name edit is kept
    expect(new URL(alice.url()).pathname).toBe(`${toolkitPath}/edit`);

    await privateId.fill('github_pat');
    await alice.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor();
    // Screenshot only now: Playwright's screenshot leaves style="" on inputs, and htmx's settle
    // step would copy those into the next swap (a CSP style-src-attr report that is the test's own).
    await screenshot(alice, 'toolkits-change-dialog', { modal: true });
    await dialog.getByRole('button', { name: 'Confirm changes' }).click();
    await alice.waitForURL((u) => u.pathname === toolkitPath);
    expect(await alice.getByText('Changes saved.').isVisible()).toBe(true);
    expect(await alice.getByRole('heading', { name: 'GitHub (team)', level: 1 }).isVisible()).toBe(true);
    expect(await alice.locator('#credential-status .cred-ref').innerText()).toContain('github_pat');
    // Nobody has github_pat yet, alice included.
    expect(await alice.locator('#setup-required').innerText()).toContain('github_pat');
    expect(unexpected(alice.errors), 'browser errors').toEqual([]);
  });

  it('a refused “change its ID” on the setup banner says what happened and what to do', async () => {
    expect(toolkitPath, 'needs the toolkit of the team setup').not.toBe('');
    // The toolkit now expects github_pat; alice keeps a GitHub credential named for it under another ID.
    await alice.goto(`${server.baseUrl}/w/private/credentials/new`);
    await alice.getByLabel('Credential Name').fill('GitHub PAT');
    await alice.getByRole('button', { name: 'Edit ID' }).click();
    await alice.getByLabel('Credential ID').fill('my_github');
    await alice.getByLabel('Base URL').fill(fake.url);
    await alice.getByLabel('Personal access token').fill('ghp_alice_personal');
    await alice.getByRole('button', { name: 'Save credential' }).click();
    await alice.waitForURL((u) => u.pathname === '/w/private/credentials');

    await alice.goto(`${server.baseUrl}${toolkitPath}`);
    const change = alice.getByRole('button', { name: 'Change its ID to github_pat' });
    expect(await change.isVisible()).toBe(true);

    // Meanwhile, in another tab, alice stores a Slack credential under github_pat.
    const tab = await alice.context().newPage();
    await tab.goto(`${server.baseUrl}/w/private/credentials/new?type=slack&credential_id=github_pat`);
    await tab.getByLabel('Credential Name').fill('Slack under the wrong ID');
    await tab.getByLabel('Token', { exact: true }).fill('xoxb-typed');
    await tab.getByRole('button', { name: 'Save credential' }).click();
    await tab.waitForURL((u) => u.pathname === '/w/private/credentials');
    await tab.close();

    const [answer] = await Promise.all([alice.waitForResponse((r) => r.url().endsWith('/adopt-credential')), change.click()]);
    expect(answer.status()).toBe(409);
    const problem = alice.locator('#page-problem');
    await problem.waitFor();
    const text = (await problem.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('Your credential my_github still has its old ID');
    expect(text).toContain('You already have another private credential with Credential ID github_pat');
    await problem.getByRole('link', { name: 'Open my credential github_pat' }).click();
    await alice.waitForURL((u) => u.pathname === '/w/private/credentials/github_pat/edit');
    expect(unexpected(alice.errors), 'browser errors').toEqual([]);
  });

  it('Credential ID conflict: the warning, an editable suggestion, name and typed token kept, then saved', async () => {
    await alice.goto(`${server.baseUrl}/w/private/credentials/new`);
    await fillGithubCredential(alice, { name: 'GitHub Integration Token', baseUrl: fake.url, token: 'ghp_first_value', expectId: 'github_integration_token' });
    await alice.getByRole('button', { name: 'Save credential' }).click();
    await alice.waitForURL((u) => u.pathname === '/w/private/credentials');

    await createButton(alice).click();
    await alice.waitForURL((u) => u.pathname === '/w/private/credentials/new');
    await fillGithubCredential(alice, { name: 'GitHub Integration Token', baseUrl: fake.url, token: 'ghp_second_typed', expectId: 'github_integration_token' });
    await alice.getByRole('button', { name: 'Save credential' }).click();
    const warning = alice.getByText('Credential ID github_integration_token is already in use in this workspace', { exact: true });
    await warning.waitFor();
    const idField = alice.getByLabel('Credential ID');
    expect(await idField.getAttribute('readonly')).toBeNull();
    expect(await idField.inputValue()).toBe('github_integration_token_2');
    expect(await alice.locator('.suggestion').innerText()).toContain('github_integration_token_2');
    expect(await alice.getByLabel('Credential Name').inputValue()).toBe('GitHub Integration Token');
    expect(await alice.getByLabel('Personal access token').inputValue()).toBe('ghp_second_typed'); // hx-preserve
    expect(new URL(alice.url()).pathname).toBe('/w/private/credentials/new');
    await screenshot(alice, 'toolkits-credential-conflict');

    await alice.getByRole('button', { name: 'Save credential' }).click();
    await alice.waitForURL((u) => u.pathname === '/w/private/credentials');
    expect(await alice.getByText('Credential github_integration_token_2 saved').isVisible()).toBe(true);
    // The kept token is the one that was saved: testing the new credential verifies as its account.
    const row = alice.locator('#cred-github_integration_token_2');
    await row.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => row.innerText(), { timeout: 10_000 }).toContain('Verified');
    expect(await row.innerText()).toContain('alice-second');
    expect(unexpected(alice.errors), 'browser errors').toEqual([]);
  });
});
