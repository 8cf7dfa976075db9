// The credential form and list as people use them, in real Chromium against the real server:
// changing the Type shows that type's fields (every type of the catalog, compared with
// GET /api/v1/credential-types) and saves one credential of each; the list's row actions stay in
// reach at 1024 px; the Credential ID follows the name until "Edit ID" is chosen (and is a plain
// field without JavaScript); a refused page is the calm error page, never a bare fragment.
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, launchBrowser, newPage, screenshotWidths, signUp, startServer, type Server, tearDown } from './harness';

type TestPage = Page & { errors: string[] };
type ApiType = { type: string; label: string; fields: { name: string; label: string; secret: boolean; required: boolean; default?: string }[] };

/** Secret values typed into the form; none may ever come back in a page. */
const canary = (type: string) => `canary-${type}-s3cret-value`;

/** A value the form accepts for a plain field. */
const plainValue = (name: string) => (name === 'base_url' ? 'https://example.com' : name === 'email' ? 'me@example.com' : 'value');

/** Creates a personal access token on the Settings page and returns it. */
/** The labels of the fields the credential form shows for the chosen type, in order. */
const shownFieldLabels = (page: Page) => page.locator('#type-fields label').allInnerTexts();

/**
 * Asserts a person can see and click this element: no overflow:hidden ancestor clips it away,
 * and after scrolling it into view (a page or a visible scroll container) it is inside the
 * window and on top at its centre.
 */
async function expectReachable(page: Page, target: Locator, what: string) {
  const clipped = await target.evaluate((el) => {
    const box = el.getBoundingClientRect();
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const overflow = getComputedStyle(p).overflowX;
      if (overflow !== 'hidden' && overflow !== 'clip') continue;
      const r = p.getBoundingClientRect();
      if (box.left < r.left || box.right > r.right) return `${p.tagName.toLowerCase()}.${p.className} hides it (overflow ${overflow})`;
    }
    return null;
  });
  expect(clipped, `${what} is clipped`).toBeNull();
  await target.scrollIntoViewIfNeeded();
  const box = (await target.boundingBox())!;
  const viewport = page.viewportSize()!;
  expect(box.x, `${what} starts left of the window`).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width, `${what} ends right of the window`).toBeLessThanOrEqual(viewport.width);
  const onTop = await target.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !!hit && (hit === el || el.contains(hit));
  });
  expect(onTop, `${what} is covered by something else`).toBe(true);
}

describe('credentials in a browser', () => {
  let server: Server;
  let browser: Browser;
  let alice: TestPage;
  let types: ApiType[] = [];

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    alice = await newPage(browser);
    await signUp(alice, server.baseUrl, 'alice');
    const token = await createToken(alice, server.baseUrl, 'type-check');
    const res = await fetch(`${server.baseUrl}/api/v1/credential-types`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    types = (await res.json()) as ApiType[];
  });

  afterAll(async () => {
    const stopped = await tearDown({ browser, server });
    if (stopped) expect(stopped.code, `server did not exit cleanly on SIGTERM:\n${stopped.output}`).toBe(0);
  });

  it('changing the Type shows that type’s fields, for every type, and saves one credential of each', async () => {
    expect(types.length).toBeGreaterThan(1);
    await alice.goto(`${server.baseUrl}/w/private/credentials/new`);
    const typeSelect = alice.getByLabel('Type', { exact: true });
    const offered = await typeSelect.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(offered).toEqual(types.map((t) => t.type));

    for (const [i, t] of types.entries()) {
      await alice.goto(`${server.baseUrl}/w/private/credentials/new`);
      await alice.getByLabel('Credential Name').fill(`${t.label} account`);
      // Change to another type first, then to this one: every change must keep the fields.
      const other = types[(i + 1) % types.length];
      await typeSelect.selectOption(other.type);
      await expect.poll(() => shownFieldLabels(alice), { timeout: 5_000 }).toEqual(other.fields.map((f) => f.label));
      await typeSelect.selectOption(t.type);
      await expect.poll(() => shownFieldLabels(alice), { timeout: 5_000 }).toEqual(t.fields.map((f) => f.label));
      for (const f of t.fields) {
        const input = alice.locator('#type-fields').getByLabel(f.label, { exact: true });
        expect(await input.getAttribute('type'), `${t.type}.${f.name} input type`).toBe(f.secret ? 'password' : null);
        if (f.secret) await input.fill(canary(t.type));
        else if (f.required) await input.fill(plainValue(f.name));
      }
      if (i === 1) await screenshotWidths(alice, 'credential-form-type-changed');
      await alice.getByRole('button', { name: 'Save credential' }).click();
      await alice.waitForURL((u) => u.pathname === '/w/private/credentials', { timeout: 10_000 });
      const id = `${t.label} account`.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
      expect(await alice.locator(`#cred-${id}`).innerText()).toContain(t.label);
    }

    // Every type is listed once, and no secret came back in the list or an edit form.
    const listed = await alice.locator('.credentials-table tbody tr').count();
    expect(listed).toBe(types.length);
    const html = await alice.content();
    for (const t of types) expect(html).not.toContain(canary(t.type));
    await alice.locator('.credentials-table tbody tr').first().getByRole('link', { name: 'Edit' }).click();
    await alice.waitForURL((u) => u.pathname.endsWith('/edit'));
    const editHtml = await alice.content();
    for (const t of types) expect(editHtml).not.toContain(canary(t.type));
    expect(alice.errors).toEqual([]);
  });

  it('keeps every row’s Edit and Delete in reach at 1024 and 1280 px, and the connection status apart from its button', async () => {
    for (const width of [1024, 1280]) {
      await alice.setViewportSize({ width, height: 800 });
      await alice.goto(`${server.baseUrl}/w/private/credentials`);
      const rows = alice.locator('.credentials-table tbody tr');
      expect(await rows.count()).toBeGreaterThan(1);
      for (let i = 0; i < (await rows.count()); i++) {
        const row = rows.nth(i);
        await expectReachable(alice, row.getByRole('link', { name: 'Edit' }), `row ${i} Edit at ${width}px`);
        await expectReachable(alice, row.getByRole('link', { name: 'Delete' }), `row ${i} Delete at ${width}px`);
        const status = (await row.getByText('Not tested').boundingBox())!;
        const button = (await row.getByRole('button', { name: 'Test connection' }).boundingBox())!;
        const overlap = status.x < button.x + button.width && button.x < status.x + status.width && status.y < button.y + button.height && button.y < status.y + status.height;
        expect(overlap, `"Not tested" runs into "Test connection" at ${width}px`).toBe(false);
      }
      await screenshotWidths(alice, 'credentials-list');
      // Delete of the last row really opens its confirmation.
      const last = rows.last();
      await last.getByRole('link', { name: 'Delete' }).click();
      await alice.getByRole('dialog').waitFor();
      await alice.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    }
    await alice.setViewportSize({ width: 1280, height: 800 });
    expect(alice.errors).toEqual([]);
  });

  it('the Credential ID follows the name until “Edit ID” is chosen', async () => {
    await alice.goto(`${server.baseUrl}/w/private/credentials/new`);
    const id = alice.getByLabel('Credential ID');
    const editId = alice.getByRole('button', { name: 'Edit ID' });
    await alice.getByLabel('Credential Name').fill('Team GitHub');
    await expect.poll(() => id.inputValue(), { timeout: 5_000 }).toBe('team_github');
    // The preview's value lands at the swap; app.js locks the field at htmx:afterSettle, a moment later.
    await expect.poll(() => id.getAttribute('readonly'), { timeout: 5_000 }).not.toBeNull();
    expect(await editId.isVisible()).toBe(true);
    await screenshotWidths(alice, 'credential-form');

    await editId.click();
    expect(await id.getAttribute('readonly')).toBeNull();
    expect(await editId.isVisible()).toBe(false);
    expect(await id.evaluate((el) => el === document.activeElement)).toBe(true);
    await id.fill('github_token');
    await alice.getByLabel('Credential Name').fill('Team GitHub (main)');
    await alice.waitForTimeout(400); // the live preview would have answered by now
    expect(await id.inputValue()).toBe('github_token');
    await alice.getByLabel('Personal access token').fill('ghp_typed');
    await alice.getByRole('button', { name: 'Save credential' }).click();
    await alice.waitForURL((u) => u.pathname === '/w/private/credentials');
    expect(await alice.locator('#cred-github_token').innerText()).toContain('Team GitHub (main)');
    expect(alice.errors).toEqual([]);
  });

  it('without JavaScript the Credential ID is a plain field: typed IDs are kept, a blank one is made from the name', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, storageState: await alice.context().storageState() });
    const page = await context.newPage();
    for (const [name, typed, expected] of [
      ['Plain Slack', '', 'plain_slack'],
      ['Other Slack', 'slack_bot', 'slack_bot'],
    ]) {
      await page.goto(`${server.baseUrl}/w/private/credentials/new?type=slack`);
      const id = page.getByLabel('Credential ID');
      expect(await id.getAttribute('readonly')).toBeNull();
      expect(await page.getByRole('button', { name: 'Edit ID' }).isVisible()).toBe(false);
      await page.getByLabel('Credential Name').fill(name);
      await id.fill(typed);
      await page.getByLabel('Token', { exact: true }).fill('xoxb-typed');
      await page.getByRole('button', { name: 'Save credential' }).click();
      await page.waitForURL((u) => u.pathname === '/w/private/credentials');
      expect(await page.locator(`#cred-${expected}`).innerText()).toContain(name);
    }
    await context.close();
  });

  it('a page a member may not open is the calm error page with what to do, never a bare fragment', async () => {
    const bob = await newPage(browser);
    await signUp(bob, server.baseUrl, 'bob');
    // alice makes a project and adds bob as a viewer.
    await alice.goto(`${server.baseUrl}/projects/new`);
    await alice.getByLabel('Project name').fill('Platform Team');
    await alice.getByRole('button', { name: 'Create project' }).click();
    await alice.waitForURL((u) => /^\/w\/[^/]+\/members$/.test(u.pathname));
    const projectPath = new URL(alice.url()).pathname.replace(/\/members$/, '');
    await alice.getByLabel('Username', { exact: true }).fill('bob');
    await alice.getByLabel('Role', { exact: true }).selectOption('viewer');
    await alice.getByRole('button', { name: 'Add member' }).click();
    await alice.locator('#member-bob').waitFor();

    for (const url of [`${projectPath}/credentials/new`, `${projectPath}/toolkits/new`]) {
      const res = await bob.goto(`${server.baseUrl}${url}`);
      expect(res?.status(), url).toBe(403);
      expect(await bob.getByRole('heading', { level: 1 }).innerText(), url).toBe('Not allowed');
      expect(await bob.locator('main').innerText(), url).toMatch(/Ask a project admin/);
      expect(await bob.getByRole('link', { name: 'Back to Latchkey' }).isVisible(), url).toBe(true);
      expect(await bob.title(), url).toContain('Latchkey');
    }
    await screenshotWidths(bob, 'error-not-allowed');
  });
});
