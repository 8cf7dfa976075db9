// Connect my account in real Chromium: from the toolkit's Credential setup required banner, Connect
// github → the fake provider's consent page → Approve → back on the toolkit, and Run works with the
// connected account. Screenshots of each step; axe finds no violations on Latchkey's pages.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOAuth, type FakeOAuth } from '../helpers/fake-oauth';
import { accessibilityViolations, launchBrowser, newPage, screenshot, signUp, startServer, tearDown, type Server } from './harness';

describe('connect an account from the banner', () => {
  let server: Server;
  let browser: Browser;
  let op: FakeOAuth;

  beforeAll(async () => {
    op = await startFakeOAuth({ login: 'alice', consent: true });
    server = await startServer({ OUTBOUND_ALLOW_HOSTS: '127.0.0.1' });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await tearDown({ browser, server, fakes: [op] });
  });

  it('Connect → consent → back on the toolkit; Run works', async () => {
    const page = await newPage(browser);
    const base = server.baseUrl;
    await signUp(page, base, 'alice');

    await page.goto(`${base}/admin/oauth-apps`);
    await page.getByLabel('Name').fill('github');
    await page.getByLabel('Client ID').fill(op.clientId);
    await page.getByLabel('Client secret').fill(op.clientSecret);
    await page.getByLabel('Authorization URL').fill(`${op.url}/authorize`);
    await page.getByLabel('Token URL').fill(`${op.url}/token`);
    await page.getByLabel('API base URL').fill(op.url);
    await page.getByRole('button', { name: 'Register app' }).click();
    await page.waitForURL(/done=created/);
    await expect.poll(() => page.locator('.callback-url').first().textContent()).toBe(`${base}/oauth/callback/github`);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'connect-01-oauth-apps');

    const created = await page.request.post(`${base}/w/private/toolkits`, {
      form: { name: 'GitHub', type: 'github', credential_choice: 'private', private_credential_id: 'github_token' },
      headers: { Origin: base },
      maxRedirects: 0,
    });
    expect(created.status()).toBe(303);
    await page.goto(new URL(created.headers().location, base).toString());
    await expect.poll(() => page.locator('#setup-required').count()).toBe(1);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'connect-02-banner');

    await page.getByRole('link', { name: 'Connect github' }).click();
    await page.waitForURL((u) => u.href.startsWith(op.url));
    await screenshot(page, 'connect-03-consent');
    await page.getByRole('link', { name: 'Approve' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${base}/w/private/toolkits/`));
    await expect.poll(() => page.getByText('Connected as @alice').count()).toBeGreaterThan(0);
    expect(await accessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'connect-04-back-on-toolkit');

    await page.locator('#tool-get_authenticated_user').getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => page.locator('#run-get_authenticated_user-result').textContent()).toContain('"login": "alice"');
    await screenshot(page, 'connect-05-run');
    expect(page.errors).toEqual([]);
  }, 120_000);
});
