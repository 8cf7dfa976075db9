// The OAuth consent page and the Settings list of connected applications in real Chromium
// against the real server: an MCP client registers, the person is sent through sign-in to the
// consent page (checked with axe-core), Allow lands on the client's real 127.0.0.1 callback
// (which the page's CSP form-action must permit), the code is exchanged, the grant is listed in
// Settings and revoked there with htmx; Deny sends access_denied back.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage, PASSWORD, ROOT, screenshot, signOut, signUp, startServer, type Server } from './harness';

type AxeViolation = { id: string; impact: string; help: string; nodes: { target: string[] }[] };

/** Runs axe-core (WCAG 2.0/2.1 A and AA) on the page, or on the part `include` selects; returns the violations. */
async function axe(page: Page, include = 'html'): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, so the page's CSP (no inline script) stays on.
  await page.evaluate(fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8'));
  return page.evaluate(async (include) => {
    const result = await (window as any).axe.run({ include: [include] }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v: any) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n: any) => ({ target: n.target })) }));
  }, include);
}

let server: Server;
let browser: Browser;
let callback: http.Server;
let redirectUri: string;
const received: URLSearchParams[] = [];

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // The MCP client's loopback redirect listener (RFC 8252), as Claude Code or VS Code run one.
  callback = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/callback') received.push(url.searchParams);
    res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>Done</title><h1>You can close this window.</h1>');
  });
  await new Promise<void>((r) => callback.listen(0, '127.0.0.1', r));
  redirectUri = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => (callback ? callback.close(() => r()) : r()));
  await server?.stop();
});

async function registerClient(name: string): Promise<string> {
  const res = await fetch(`${server.baseUrl}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ client_name: name, redirect_uris: [redirectUri] }) });
  expect(res.status).toBe(201);
  return (await res.json()).client_id;
}

function authorizeUrl(clientId: string, challenge: string, state: string) {
  const q = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, state, code_challenge: challenge, code_challenge_method: 'S256', resource: `${server.baseUrl}/mcp` });
  return `${server.baseUrl}/oauth/authorize?${q}`;
}

describe('OAuth consent and connected applications', () => {
  it('consent through sign-in, Allow reaches the client, Settings lists and revokes the grant', async () => {
    const page = await newPage(browser);
    await signUp(page, server.baseUrl, 'alice');
    await signOut(page);

    const clientId = await registerClient('Claude Code');
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    await page.goto(authorizeUrl(clientId, challenge, 'state-1'));
    await page.waitForURL((u) => u.pathname === '/login');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/oauth/authorize');

    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Allow Claude Code to act as you?');
    expect(await page.locator('#consent-redirect-host').textContent()).toBe(new URL(redirectUri).host);
    expect(await page.textContent('main')).toContain('Run your toolkits as you through the MCP endpoint');
    await screenshot(page, 'oauth-consent');
    const violations = await axe(page);
    expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);

    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(redirectUri));
    expect(await page.textContent('h1')).toBe('You can close this window.');
    const answer = received.at(-1)!;
    expect(answer.get('state')).toBe('state-1');
    expect(answer.get('iss')).toBe(server.baseUrl);
    const code = answer.get('code')!;
    expect(code).toBeTruthy();

    const tokenRes = await fetch(`${server.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: clientId }),
    });
    expect(tokenRes.status).toBe(200);
    const tokens = await tokenRes.json();

    await page.goto(`${server.baseUrl}/settings`);
    const section = page.locator('#oauth-grants');
    expect(await section.getByRole('cell', { name: 'Claude Code', exact: true }).count()).toBe(1);
    await screenshot(page, 'oauth-settings-grants');
    // This section only: the page around it (top bar, other sections) is other tests' subject.
    const settingsViolations = await axe(page, '#oauth-grants');
    expect(settingsViolations, JSON.stringify(settingsViolations, null, 2)).toEqual([]);
    const html = await page.content();
    expect(html).not.toContain(tokens.access_token);
    expect(html).not.toContain(tokens.refresh_token);

    page.once('dialog', (d) => void d.accept());
    await section.getByRole('button', { name: 'Revoke Claude Code' }).click();
    await page.locator('#oauth-grants').getByText('No connected applications').waitFor();
    await screenshot(page, 'oauth-settings-revoked');
    const refreshed = await fetch(`${server.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId }),
    });
    expect((await refreshed.json()).error).toBe('invalid_grant');
    expect(server.output()).not.toContain(tokens.access_token);
    expect(page.errors).toEqual([]);
  });

  it('Deny sends access_denied back to the client', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.baseUrl}/login`);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    const clientId = await registerClient('Some Agent');
    await page.goto(authorizeUrl(clientId, createHash('sha256').update('v'.repeat(43)).digest('base64url'), 'state-2'));
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL((u) => u.href.startsWith(redirectUri));
    const answer = received.at(-1)!;
    expect(answer.get('error')).toBe('access_denied');
    expect(answer.get('state')).toBe('state-2');
    expect(answer.get('code')).toBeNull();
    expect(page.errors).toEqual([]);
  });
});
