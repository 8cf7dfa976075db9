// Credential usage and offboarding in real Chromium against the real server: the "Used by"
// section of a credential's page, the deactivation dialog and page that list what depends on a
// person, the removal page, and the deactivation itself ending the person's session at once.
// Every page is checked by axe (zero violations) and photographed.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, accessibilityViolations, launchBrowser, newPage, SCREENSHOT_DIR, screenshot, screenshotWidths, signUp, startServer, tearDown, type Server } from './harness';

type TestPage = Awaited<ReturnType<typeof newPage>>;

/** A screenshot of the window (a modal dialog reads better this way). */
async function viewportShot(page: Page, name: string) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

describe('usage and offboarding in a browser', () => {
  let server: Server;
  let browser: Browser;
  let alice: TestPage;
  let bob: TestPage;
  let carol: TestPage;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    alice = await newPage(browser);
    bob = await newPage(browser);
    carol = await newPage(browser);
    await signUp(alice, server.baseUrl, 'alice');
    await signUp(bob, server.baseUrl, 'bob');
    await signUp(carol, server.baseUrl, 'carol');
    const tokens = { alice: await createToken(alice, server.baseUrl, 'setup'), bob: await createToken(bob, server.baseUrl, 'setup') };
    const api = async (who: keyof typeof tokens, method: string, url: string, body: unknown) => {
      const res = await fetch(`${server.baseUrl}/api/v1${url}`, { method, headers: { Authorization: `Bearer ${tokens[who]}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, url).toBe(201);
      return (await res.json()) as { id: number };
    };
    await api('alice', 'POST', '/projects', { name: 'Platform' });
    await api('alice', 'POST', '/projects/platform/members', { username: 'bob', role: 'editor' });
    await api('alice', 'POST', '/projects/platform/members', { username: 'carol', role: 'viewer' });
    const gh = { type: 'github', fields: {}, secrets: { token: 'ghp_browser_usage_canary' } };
    await api('bob', 'POST', '/workspaces/private/credentials', { ...gh, name: 'GitHub Token' });
    await api('bob', 'POST', '/workspaces/platform/credentials', { ...gh, name: 'Team GitHub' });
    const priv = { scope: 'private', credential_id: 'github_token' };
    ids.github = (await api('alice', 'POST', '/workspaces/platform/toolkits', { name: 'GitHub issues', type: 'github', settings: {}, credential: priv })).id;
    ids.team = (await api('alice', 'POST', '/workspaces/platform/toolkits', { name: 'Release bot', type: 'github', settings: {}, credential: { scope: 'project', credential_id: 'team_github' } })).id;
    ids.mine = (await api('bob', 'POST', '/workspaces/private/toolkits', { name: 'My GitHub', type: 'github', settings: {}, credential: priv })).id;
    ids.lab = (await api('bob', 'POST', '/workspaces/platform/toolkits', { name: 'GitLab mirror', type: 'gitlab', settings: {}, credential: priv })).id;
  }, 120_000);

  afterAll(async () => {
    const r = await tearDown({ browser, server });
    expect(r?.code).toBe(0);
  });

  it('a credential’s page shows Used by with links to the toolkits that run with it', async () => {
    await bob.goto(`${server.baseUrl}/w/private/credentials/github_token/edit`);
    const usedBy = bob.locator('#used-by');
    await usedBy.scrollIntoViewIfNeeded();
    expect(await usedBy.getByRole('heading', { name: 'Used by' }).isVisible()).toBe(true);
    const links = await usedBy.getByRole('link').evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
    expect(links).toEqual([
      ['My GitHub', `/w/private/toolkits/${ids.mine}`],
      ['GitHub issues', `/w/platform/toolkits/${ids.github}`],
    ]);
    expect(await accessibilityViolations(bob)).toEqual([]);
    await screenshot(bob, 'credential-used-by');
    await screenshotWidths(bob, 'credential-used-by');
    await usedBy.getByRole('link', { name: 'GitHub issues' }).click();
    await bob.waitForURL((u) => u.pathname === `/w/platform/toolkits/${ids.github}`);
    expect(bob.errors).toEqual([]);
  });

  it('the delete confirmation names the toolkits before asking to confirm', async () => {
    await bob.goto(`${server.baseUrl}/w/private/credentials`);
    await bob.getByRole('link', { name: /Delete/ }).first().click();
    const dialog = bob.getByRole('dialog');
    await dialog.waitFor();
    const text = (await dialog.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('My GitHub');
    expect(text).toContain('GitHub issues');
    expect(text).not.toContain('GitLab mirror');
    expect(await accessibilityViolations(bob)).toEqual([]);
    await viewportShot(bob, 'credential-delete-names-toolkits');
  });

  it('deactivating shows what depends on the person (dialog and page), then ends their session at once', async () => {
    await alice.goto(`${server.baseUrl}/admin/users`);
    await alice.locator('#main').getByRole('link', { name: 'Disable' }).first().waitFor();
    await alice.locator(`a[href="/admin/users/bob/disable"]`).click();
    const dialog = alice.getByRole('dialog', { name: 'Disable bob?' });
    await dialog.waitFor();
    const text = (await dialog.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('What depends on bob');
    for (const name of ['Team GitHub', 'GitLab mirror', 'GitHub issues', 'Release bot']) expect(text).toContain(name);
    expect(await accessibilityViolations(alice)).toEqual([]);
    await viewportShot(alice, 'offboarding-deactivate-dialog');

    // The same list as a page of its own (without JavaScript, or opened directly).
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.context().addCookies(await alice.context().cookies());
    await page.goto(`${server.baseUrl}/admin/users/bob/disable`);
    expect(await page.locator('#user-dependencies').innerText()).toContain('only member whose private credential makes it ready');
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'offboarding-deactivate-page');
    await screenshotWidths(page, 'offboarding-deactivate-page');
    await page.close();

    await dialog.getByRole('button', { name: 'Disable user' }).click();
    await alice.getByText('bob was disabled').waitFor();
    await bob.goto(`${server.baseUrl}/w/private/toolkits`);
    expect(new URL(bob.url()).pathname).toBe('/login');
    expect(alice.errors).toEqual([]);
  });

  it('removing a member shows what depends on them in the project first', async () => {
    await alice.goto(`${server.baseUrl}/w/platform/members`);
    await alice.getByRole('link', { name: 'Remove carol' }).click();
    await alice.waitForURL((u) => u.pathname === '/w/platform/members/carol/remove');
    expect(await alice.locator('#member-dependencies').innerText()).toContain('Nothing in Platform depends on carol.');
    await alice.goto(`${server.baseUrl}/w/platform/members/bob/remove`);
    const deps = alice.locator('#member-dependencies');
    expect(await deps.getByRole('link', { name: 'Team GitHub' }).getAttribute('href')).toBe('/w/platform/credentials/team_github/edit');
    expect(await deps.getByRole('link', { name: 'Release bot' }).getAttribute('href')).toBe(`/w/platform/toolkits/${ids.team}`);
    expect(await accessibilityViolations(alice)).toEqual([]);
    await screenshot(alice, 'offboarding-remove-member');
    await screenshotWidths(alice, 'offboarding-remove-member');
    await alice.getByRole('button', { name: 'Remove bob' }).click();
    await alice.waitForURL((u) => u.pathname === '/w/platform/members');
    expect(await alice.locator('#member-bob').count()).toBe(0);
    expect(alice.errors).toEqual([]);
  });
});
