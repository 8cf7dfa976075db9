// The Audit log and Users pages in real Chromium against the real server: a month of team
// history (written through the real appendAudit chain before anyone signs in), real toolkit runs
// against a fake GitHub, filters applied with htmx (results swapped, URL updated, no reload), the
// charts, an event's details, Verify, a project admin's scoped view, and the Users page.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/password';
import { generateApiToken, hashToken } from '../../src/auth/tokens';
import { loadKeyRing } from '../../src/crypto/keyring';
import { appendAudit, DAY_MS, type AuditInput } from '../../src/store/audit';
import { openDatabase, sqliteEngine } from '../../src/store/db';
import { createStore, writeTx } from '../../src/store/store';
import { insertApiToken } from '../../src/store/tokens';
import { createUser } from '../../src/store/users';
import { addMember, createProject, type Workspace } from '../../src/store/workspaces';
import { startFakeService, type FakeService } from '../helpers/fake-services';
import { launchBrowser, newPage, PASSWORD, screenshot, screenshotWidths, SCREENSHOT_DIR, signIn, startServer, type Server, tearDown } from './harness';

/** A screenshot of what is on screen (a modal dialog over a long page reads better this way). */
async function viewportShot(page: Page, name: string) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

type Seeded = { aliceToken: string; mariaToken: string; toolkitId: number };

/**
 * Writes a month of history into the server's database before anyone signs in (the log's times
 * never go backwards, so history has to come first): people, two projects, and toolkit runs
 * spread over 30 days, each event appended through the real chain logic.
 */
async function seedHistory(server: Server): Promise<{ aliceToken: string; mariaToken: string }> {
  const { ring } = loadKeyRing({ dataDir: server.dataDir });
  const engine = sqliteEngine(openDatabase(path.join(server.dataDir, 'latchkey.db')));
  const end = Date.now() - 60 * 60_000;
  let now = end - 31 * DAY_MS;
  const store = await createStore(engine, ring, { now: () => now });
  try {
    const passwordHash = await hashPassword(PASSWORD);
    const people: Record<string, { id: string; username: string }> = {};
    for (const name of ['alice', 'maria', 'carol', 'dmitri', 'priya', 'tomas']) {
      const r = await createUser(store, { username: name, passwordHash, isAdmin: name === 'alice' }, { actor: null, action: name === 'alice' ? 'user.signup' : 'user.create' });
      if (!r.ok) throw new Error(r.reason);
      people[name] = r.user;
    }
    const asWs = (p: { id: number; slug: string; name: string }, role: 'admin'): Workspace => ({ id: p.id, kind: 'project', ref: p.slug, name: p.name, role, ownerUserId: null });
    const platform = asWs(await createProject(store, people.alice, 'Platform'), 'admin');
    const data = asWs(await createProject(store, people.carol, 'Data Science'), 'admin');
    for (const n of ['maria', 'dmitri', 'tomas']) await addMember(store, people.alice, platform, n, 'editor');
    for (const n of ['priya', 'maria']) await addMember(store, people.carol, data, n, 'viewer');

    const toolkits = [
      { id: 901, name: 'GitHub', ws: platform, tool: 'list_repositories', weight: 9 },
      { id: 902, name: 'Jira Cloud', ws: platform, tool: 'search_issues', weight: 6 },
      { id: 903, name: 'Release notes (Slack)', ws: platform, tool: 'post_message', weight: 3 },
      { id: 904, name: 'GitLab mirror', ws: platform, tool: 'list_projects', weight: 2 },
      { id: 905, name: 'Warehouse API', ws: data, tool: 'request', weight: 5 },
      { id: 906, name: 'Confluence search', ws: data, tool: 'search_pages', weight: 2 },
    ];
    const runners = ['maria', 'dmitri', 'tomas', 'alice', 'priya'];
    let rnd = 7;
    const rand = () => ((rnd = (rnd * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const events: { at: number; input: AuditInput }[] = [];
    for (let day = 0; day < 30; day++) {
      const weekend = new Date(end - (29 - day) * DAY_MS).getUTCDay() % 6 === 0;
      const runs = Math.round((weekend ? 6 : 26 + day * 0.9) * (0.75 + rand() * 0.5));
      for (let i = 0; i < runs; i++) {
        let pickW = rand() * toolkits.reduce((s, t) => s + t.weight, 0);
        const tk = toolkits.find((t) => (pickW -= t.weight) < 0) ?? toolkits[0];
        const who = people[tk.ws === data ? (rand() < 0.6 ? 'priya' : 'maria') : runners[Math.floor(rand() ** 1.6 * 4)]];
        const failed = rand() < (day > 20 && tk.id === 902 ? 0.3 : 0.06);
        events.push({
          at: end - (29 - day) * DAY_MS - 9 * 3600_000 + Math.floor(rand() * 9 * 3600_000),
          input: {
            actor: who,
            workspace: { id: tk.ws.id, ref: tk.ws.ref },
            action: 'toolkit.execute',
            target: `toolkit:${tk.id}`,
            outcome: failed ? 'failure' : 'success',
            details: { toolkit: tk.name, toolkit_type: 'github', tool: tk.tool, status: failed ? 502 : 200, credential: { scope: 'private', credential_id: 'github_token', owner: who.username }, duration_ms: 120 + Math.floor(rand() * 600) },
          },
        });
      }
      events.push({ at: end - (29 - day) * DAY_MS - 10 * 3600_000, input: { actor: people[runners[day % 5]], workspace: null, action: 'user.login', target: `user:${runners[day % 5]}` } });
    }
    events.sort((a, b) => a.at - b.at);
    await writeTx(store, async (tx) => {
      for (const e of events) {
        now = e.at;
        await appendAudit(store, tx, e.input);
      }
    });
    now = Date.now();
    const aliceToken = generateApiToken();
    await insertApiToken(store, people.alice, 'browser test', hashToken(aliceToken));
    const mariaToken = generateApiToken();
    await insertApiToken(store, people.maria, 'browser test', hashToken(mariaToken));
    return { aliceToken, mariaToken };
  } finally {
    await engine.close();
  }
}

describe('audit and users pages in a browser', () => {
  let server: Server;
  let browser: Browser;
  let fake: FakeService;
  let seeded: Seeded;

  const api = async (token: string, method: string, url: string, body?: unknown) => {
    const res = await fetch(`${server.baseUrl}/api/v1${url}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: (await res.json().catch(() => null)) as any };
  };

  beforeAll(async () => {
    fake = await startFakeService({ tokens: { ghp_alice_browser: 'alice-gh', ghp_maria_browser: 'maria-gh' } });
    server = await startServer({ OUTBOUND_ALLOW_HOSTS: '127.0.0.1' });
    browser = await launchBrowser();
    const tokens = await seedHistory(server);
    // Today's runs are real: private credentials, a toolkit, and executions against the fake GitHub.
    for (const [token, secret] of [
      [tokens.aliceToken, 'ghp_alice_browser'],
      [tokens.mariaToken, 'ghp_maria_browser'],
    ]) {
      expect((await api(token, 'POST', '/workspaces/private/credentials', { name: 'GitHub Token', type: 'github', fields: { base_url: fake.url }, secrets: { token: secret } })).status).toBe(201);
    }
    const tk = await api(tokens.aliceToken, 'POST', '/workspaces/platform/toolkits', { name: 'GitHub', type: 'github', settings: {}, credential: { scope: 'private', credential_id: 'github_token' } });
    expect(tk.status).toBe(201);
    for (const token of [tokens.aliceToken, tokens.mariaToken, tokens.mariaToken]) {
      expect((await api(token, 'POST', `/workspaces/platform/toolkits/${tk.json.id}/execute`, { tool: 'get_authenticated_user', input: {} })).status).toBe(200);
    }
    seeded = { ...tokens, toolkitId: tk.json.id };
  });

  afterAll(async () => {
    const stopped = await tearDown({ browser, server, fakes: [fake] });
    if (stopped) expect(stopped.code, `server did not exit cleanly on SIGTERM:\n${stopped.output}`).toBe(0);
  });

  const rowsShown = (page: Page) => page.locator('#audit-results table.audit-table tbody tr').count();

  it('filters with htmx (URL updates, no reload), shows the charts, an event, and verifies the chain', async () => {
    const alice = await newPage(browser);
    await signIn(alice, server.baseUrl, 'alice');
    await alice.getByRole('link', { name: 'Audit log' }).click();
    await alice.waitForURL((u) => u.pathname === '/admin/audit');
    expect(await alice.getByRole('heading', { name: 'Audit log', level: 1 }).isVisible()).toBe(true);

    // Both charts are drawn on the server as accessible SVG, with their numbers for screen readers.
    const daily = alice.locator('#execution-charts svg[role="img"]').first();
    expect(await daily.isVisible()).toBe(true);
    expect(await daily.getAttribute('aria-label')).toMatch(/^Toolkit runs per day over the last 30 days: [\d,]+ runs, [\d,]+ failed\.$/);
    expect(await daily.locator('> title').count()).toBe(1);
    expect(await alice.locator('#execution-charts rect.bar-success').count()).toBeGreaterThan(20);
    const top = alice.locator('#execution-charts svg[role="img"]').nth(1);
    expect(await top.getAttribute('aria-label')).toContain('GitHub');
    expect(await alice.locator('#execution-charts details.chart-data').count()).toBe(2);
    expect(await alice.locator('[style]').count()).toBe(0);

    // Verify the chain.
    await alice.getByRole('button', { name: 'Verify' }).click();
    await alice.locator('#chain-status').getByText(/Chain verified through event [\d,]+/).waitFor();
    expect(await alice.locator('#chain-status').textContent()).toContain('up to date');
    await screenshot(alice, 'audit-log');

    // Filters apply through htmx: only the results are swapped and the URL follows.
    await alice.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
    await alice.getByLabel('Action').selectOption('toolkit.execute');
    await alice.waitForURL((u) => u.searchParams.get('action') === 'toolkit.execute');
    expect(alice.url()).toBe(`${server.baseUrl}/admin/audit?action=toolkit.execute`);
    await alice.getByLabel('Actor').fill('maria');
    await alice.getByLabel('Actor').press('Enter');
    await alice.waitForURL((u) => u.searchParams.get('actor') === 'maria');
    await alice.getByRole('heading', { name: 'Activity of maria' }).waitFor();
    await alice.getByLabel('Outcome').selectOption('failure');
    await alice.waitForURL((u) => u.searchParams.get('outcome') === 'failure');
    await alice.getByLabel('Outcome').selectOption('');
    await alice.waitForURL((u) => !u.searchParams.has('outcome'));
    expect(await alice.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    expect(new URL(alice.url()).search).toBe('?actor=maria&action=toolkit.execute');
    expect(await rowsShown(alice)).toBe(50);
    const actors = await alice.locator('#audit-results table.audit-table .actor-link').allTextContents();
    expect(new Set(actors.map((a) => a.trim()))).toEqual(new Set(['Mmaria']));
    expect(await alice.locator('#execution-charts').getByText('by maria').isVisible()).toBe(true);
    await screenshot(alice, 'audit-log-filtered');

    // Older pages come from the keyset link; Newest goes back.
    const firstId = await alice.locator('#audit-results table.audit-table td.event-id').first().textContent();
    await alice.getByRole('link', { name: 'Older' }).click();
    await alice.waitForURL((u) => u.searchParams.has('before'));
    expect(await alice.locator('#audit-results table.audit-table td.event-id').first().textContent()).not.toBe(firstId);
    expect(await alice.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);

    // The view is shareable: a fresh load of the URL shows the same filters.
    await alice.goto(`${server.baseUrl}/admin/audit?actor=maria&action=toolkit.execute`);
    expect(await alice.getByLabel('Actor').inputValue()).toBe('maria');
    expect(await alice.getByLabel('Action').inputValue()).toBe('toolkit.execute');

    // An event's details open in a dialog.
    await alice.locator('#audit-results table.audit-table tbody tr').first().getByRole('link', { name: /Details of event/ }).click();
    const dialog = alice.locator('#event-dialog');
    await dialog.waitFor();
    expect(await dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toContain('toolkit.execute');
    expect(await dialog.locator('.event-json').textContent()).toContain('"credential_id"');
    await viewportShot(alice, 'audit-event-details');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });

    // An actor's name anywhere leads to their activity.
    await alice.goto(`${server.baseUrl}/admin/audit?action=member.add`);
    await alice.locator('#audit-results table.audit-table').getByRole('link', { name: 'carol' }).first().click();
    await alice.waitForURL((u) => u.searchParams.get('actor') === 'carol');
    expect(await alice.getByRole('heading', { name: 'Activity of carol' }).isVisible()).toBe(true);

    // Export buttons post to a URL that carries the filters (an export is recorded, so never a GET).
    await alice.goto(`${server.baseUrl}/admin/audit?actor=maria`);
    const csvForm = alice.locator('form', { has: alice.getByRole('button', { name: 'CSV' }) });
    expect(await csvForm.getAttribute('action')).toBe('/admin/audit/export.csv?actor=maria');
    expect(await csvForm.getAttribute('method')).toBe('post');
    expect(alice.errors).toEqual([]);
  });

  it('keeps the workspace in the selector and sidebar on admin pages, and counts the events shown', async () => {
    const alice = await newPage(browser);
    await signIn(alice, server.baseUrl, 'alice');
    const summary = alice.locator('#workspace-selector summary');
    const sidebar = alice.getByRole('navigation', { name: 'Main' });
    // Straight to the audit log in a new session: the Private workspace, with its pages in the sidebar.
    await alice.goto(`${server.baseUrl}/admin/audit?action=project.create`);
    expect(await summary.getAttribute('aria-label')).toBe('Workspace: Private');
    expect(await sidebar.getByRole('link', { name: 'Credentials', exact: true }).getAttribute('href')).toBe('/w/private/credentials');
    expect(await sidebar.getByRole('link', { name: 'Toolkits', exact: true }).getAttribute('href')).toBe('/w/private/toolkits');
    expect(await sidebar.getByRole('link', { name: 'Audit log' }).getAttribute('aria-current')).toBe('page');
    // Two events on one page: "2 events", not their ids.
    expect(await rowsShown(alice)).toBe(2);
    expect((await alice.locator('.audit-pager').innerText()).replace(/\s+/g, ' ').trim()).toBe('2 events Start of the log');

    // Coming from a project, the frame keeps that project.
    await alice.goto(`${server.baseUrl}/w/platform/toolkits`);
    await sidebar.getByRole('link', { name: 'Audit log' }).click();
    await alice.waitForURL((u) => u.pathname === '/admin/audit');
    expect(await summary.getAttribute('aria-label')).toBe('Workspace: Platform');
    expect(await sidebar.getByRole('link', { name: 'Toolkits', exact: true }).getAttribute('href')).toBe('/w/platform/toolkits');
    expect(await sidebar.getByRole('link', { name: 'Members', exact: true }).isVisible()).toBe(true);
    // A full page of 50 says so, with the older ones one click away.
    await alice.goto(`${server.baseUrl}/admin/audit?action=toolkit.execute`);
    expect(await alice.locator('.audit-pager').innerText()).toContain('50 events on this page');
    await screenshotWidths(alice, 'audit-log');
  });

  it('shows a project admin their projects only, and the Users page to instance admins', async () => {
    const carol = await newPage(browser);
    await signIn(carol, server.baseUrl, 'carol');
    await carol.getByRole('link', { name: 'Audit log' }).click();
    await carol.waitForURL((u) => u.pathname === '/admin/audit');
    expect(await carol.getByText('Events of the projects you administer: Data Science.').isVisible()).toBe(true);
    const workspaces = await carol.locator('#audit-results table.audit-table .ws-cell').allTextContents();
    expect(workspaces.length).toBeGreaterThan(0);
    expect(new Set(workspaces.map((w) => w.trim()))).toEqual(new Set(['Data Science']));
    expect(await carol.locator('#chain-status').count()).toBe(0);
    expect(await carol.getByRole('link', { name: 'Users' }).count()).toBe(0);
    const denied = await carol.goto(`${server.baseUrl}/admin/users`);
    expect(denied?.status()).toBe(403);
    expect(carol.errors.filter((e) => !e.includes('status of 403'))).toEqual([]);

    const alice = await newPage(browser);
    await signIn(alice, server.baseUrl, 'alice');
    await alice.getByRole('link', { name: 'Users' }).click();
    await alice.waitForURL((u) => u.pathname === '/admin/users');
    expect(await alice.locator('#user-maria').getByText('Active').isVisible()).toBe(true);
    expect(await alice.locator('#user-maria td').nth(3).textContent()).toBe('2');
    await screenshot(alice, 'users');

    // Create an account, then disable it through the confirmation dialog.
    await alice.getByLabel('Username').fill('nadia');
    await alice.getByLabel('Initial password').fill('nadia initial password');
    await alice.getByRole('button', { name: 'Create user' }).click();
    await alice.getByText('nadia was created.').waitFor();
    await alice.locator('#user-nadia').getByRole('link', { name: 'Disable' }).click();
    const dialog = alice.locator('#user-dialog');
    await dialog.waitFor();
    expect(await dialog.getByRole('heading', { name: 'Disable nadia?' }).isVisible()).toBe(true);
    await viewportShot(alice, 'users-disable-dialog');
    await dialog.getByRole('button', { name: 'Disable user' }).click();
    await alice.getByText('nadia was disabled.').waitFor();
    expect(await alice.locator('#user-nadia').getByText('Disabled').isVisible()).toBe(true);

    // Reset a password in its dialog; a too-short one is refused in place.
    await alice.locator('#user-tomas').getByRole('link', { name: 'Reset password' }).click();
    await alice.locator('#user-dialog').getByLabel('New password').fill('short');
    await alice.locator('#user-dialog').getByLabel('New password').evaluate((el) => el.removeAttribute('minlength'));
    await alice.locator('#user-dialog').getByRole('button', { name: 'Set password' }).click();
    await alice.locator('#user-dialog').getByText('Use at least 12 characters.').waitFor();
    await alice.locator('#user-dialog').getByLabel('New password').fill('tomas gets a new one');
    await alice.locator('#user-dialog').getByRole('button', { name: 'Set password' }).click();
    await alice.getByText('The password of tomas was reset').waitFor();
    expect(alice.errors.filter((e) => !e.includes('status of 400'))).toEqual([]); // the refused short one

    // Everything above is in the log.
    const log = await api(seeded.aliceToken, 'GET', '/audit?limit=10');
    const actions = log.json.events.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.create', 'user.disable', 'user.password_reset']));
  });
});
