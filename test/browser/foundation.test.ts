// The foundation walked through as a person would, in real Chromium against the real server:
// first sign-up, sign out and in, a new project, a second member, switching workspaces.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations, launchBrowser, newPage, screenshot, screenshotWidths, signIn, signOut, signUp, startServer, type Server, tearDown } from './harness';

describe('foundation in a browser', () => {
  let server: Server;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    const stopped = await tearDown({ browser, server });
    if (stopped) expect(stopped.code, `server did not exit cleanly on SIGTERM:\n${stopped.output}`).toBe(0);
  });

  it('signs up, signs in, creates a project, adds a member and switches workspace', async () => {
    const { baseUrl } = server;
    const alice = await newPage(browser);
    const selector = alice.locator('#workspace-selector');

    // A new instance sends the first visitor to sign-up; that account becomes the admin.
    await alice.goto(`${baseUrl}/`);
    await expect.poll(() => new URL(alice.url()).pathname).toBe('/signup');
    expect(await alice.getByText('You are the first person here').isVisible()).toBe(true);
    await signUp(alice, baseUrl, 'alice');
    expect(new URL(alice.url()).pathname).toBe('/w/private/toolkits');
    expect(await selector.locator('summary').getAttribute('aria-label')).toBe('Workspace: Private');
    expect(await alice.getByRole('link', { name: 'Audit log' }).isVisible()).toBe(true);

    await signOut(alice);
    expect(await alice.getByText('You are signed out.').isVisible()).toBe(true);
    await screenshot(alice, 'sign-in');

    // A wrong password is refused with a message, the right one signs in.
    await alice.getByLabel('Username').fill('alice');
    await alice.getByLabel('Password').fill('not the password at all');
    await alice.getByRole('button', { name: 'Sign in' }).click();
    expect(await alice.getByText('That username and password do not match an account.').isVisible()).toBe(true);
    await signIn(alice, baseUrl, 'alice');
    expect(new URL(alice.url()).pathname).toBe('/w/private/toolkits');
    expect(await alice.getByRole('heading', { name: 'Toolkits', level: 1 }).isVisible()).toBe(true);
    await screenshot(alice, 'private-workspace');

    // New project from the workspace selector; creating it lands on its Members page.
    await selector.locator('summary').click();
    await selector.getByRole('menuitem', { name: 'New project' }).click();
    await alice.waitForURL((u) => u.pathname === '/projects/new');
    await alice.getByLabel('Project name').fill('Platform Team');
    await alice.getByRole('button', { name: 'Create project' }).click();
    await alice.waitForURL((u) => /^\/w\/[^/]+\/members$/.test(u.pathname));
    const projectPath = new URL(alice.url()).pathname.replace(/\/members$/, '');
    expect(await selector.locator('summary').getAttribute('aria-label')).toBe('Workspace: Platform Team');
    expect(await alice.locator('#member-alice').textContent()).toContain('(you)');

    // Bob signs up in his own browser context; he is not in the project yet.
    const bob = await newPage(browser);
    await signUp(bob, baseUrl, 'bob');
    expect(await bob.getByRole('link', { name: 'Audit log' }).count()).toBe(0);
    const notYet = await bob.goto(`${baseUrl}${projectPath}/members`);
    expect(notYet?.status()).toBe(404);

    // Alice adds bob as editor (htmx swaps the members section in place).
    await alice.getByLabel('Username', { exact: true }).fill('bob');
    await alice.getByLabel('Role', { exact: true }).selectOption('editor');
    await alice.getByRole('button', { name: 'Add member' }).click();
    await alice.locator('#member-bob').waitFor();
    expect(await alice.getByText('bob was added as editor.').isVisible()).toBe(true);
    expect(await alice.getByLabel('Role of bob').inputValue()).toBe('editor');
    expect(new URL(alice.url()).pathname).toBe(`${projectPath}/members`);
    await screenshot(alice, 'project-members');

    // Bob is told on his next page view, until he dismisses it.
    await bob.goto(`${baseUrl}/`);
    const notice = bob.locator('#notices');
    expect((await notice.innerText()).replace(/\s+/g, ' ')).toContain('alice added you to Platform Team (platform-team) as editor.');
    expect(await accessibilityViolations(bob)).toEqual([]);
    await screenshotWidths(bob, 'notice-added-to-project');
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await expect.poll(() => notice.count()).toBe(0);
    await bob.reload();
    expect(await bob.locator('#notices').count()).toBe(0);

    // Bob now sees the project in his selector, with its slug and admin, and can open it.
    const bobSelector = bob.locator('#workspace-selector');
    await bobSelector.locator('summary').click();
    const item = bobSelector.getByRole('menuitem', { name: /^Platform Team/ });
    expect((await item.innerText()).replace(/\s+/g, ' ')).toContain('platform-team · admin alice');
    await screenshotWidths(bob, 'workspace-selector');
    await item.click();
    await bob.waitForURL((u) => u.pathname === `${projectPath}/toolkits`);
    await bob.getByRole('link', { name: 'Members' }).click();
    await bob.waitForURL((u) => u.pathname === `${projectPath}/members`);
    expect(await bob.getByRole('button', { name: 'Add member' }).count()).toBe(0);
    expect(await bob.locator('#member-bob').textContent()).toContain('(you)');

    // Switch workspace with the selector: Private, then the project again.
    await selector.locator('summary').click();
    const items = await selector.getByRole('menuitem').allTextContents();
    expect(items.map((t) => t.trim())).toEqual(['Private', 'Platform Team platform-team · admin alice', 'New project']);
    await selector.getByRole('menuitem', { name: 'Private' }).click();
    await alice.waitForURL((u) => u.pathname === '/w/private/toolkits');
    expect(await selector.locator('summary').getAttribute('aria-label')).toBe('Workspace: Private');
    expect(await alice.getByRole('link', { name: 'Members' }).count()).toBe(0);
    await selector.locator('summary').click();
    await selector.getByRole('menuitem', { name: /^Platform Team/ }).click();
    await alice.waitForURL((u) => u.pathname === `${projectPath}/toolkits`);
    expect(await selector.locator('summary').getAttribute('aria-label')).toBe('Workspace: Platform Team');

    await signOut(alice);
    await signOut(bob);
    const after = await alice.goto(`${baseUrl}${projectPath}/members`);
    expect(new URL(after!.url()).pathname).toBe('/login');

    // Chromium logs the deliberate 401 (wrong password) and 404 (bob before he was added) as
    // console errors; anything else (a CSP violation, a script error, a failed asset) fails.
    const unexpected = (errors: string[]) => errors.filter((e) => !/Failed to load resource: .*status of (401|404)\b/.test(e));
    expect(unexpected(alice.errors), 'browser errors on alice’s pages').toEqual([]);
    expect(unexpected(bob.errors), 'browser errors on bob’s pages').toEqual([]);
  });
});
