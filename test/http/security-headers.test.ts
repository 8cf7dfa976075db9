// Response headers and page markup that a strict CSP depends on (SECURITY.md, "Headers"): a
// Content-Security-Policy without inline script or eval, the htmx-config meta tag, nosniff, and
// no-store on everything a signed-in user is shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, ORIGIN, type TestApp } from '../helpers/app';

let t: TestApp;
let alice: Awaited<ReturnType<TestApp['user']>>;

beforeAll(async () => {
  t = await createTestApp();
  alice = await t.user('alice');
  await t.user('bob');
  expect((await t.api('POST', '/projects', alice.token, { name: 'Team' })).status).toBe(201);
  expect((await t.api('POST', '/projects/team/members', alice.token, { username: 'bob', role: 'viewer' })).status).toBe(201);
});
afterAll(() => t.close());

/** Returns the CSP as a map of directive → sources. */
function parseCsp(header: string | null): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) map.set(name.toLowerCase(), sources);
  }
  return map;
}

type Tag = { name: string; attrs: Map<string, string> };

/** Returns every start tag of an HTML text with its attributes (enough for server-rendered markup). */
function tags(html: string): Tag[] {
  const out: Tag[] = [];
  for (const m of html.matchAll(/<([a-zA-Z][\w-]*)((?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g)) {
    const attrs = new Map<string, string>();
    for (const a of (m[2] ?? '').matchAll(/\s+([^\s=/>]+)(?:\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
      attrs.set(a[1].toLowerCase(), unescape(a[3] ?? a[4] ?? a[5] ?? ''));
    }
    out.push({ name: m[1].toLowerCase(), attrs });
  }
  return out;
}

function unescape(s: string): string {
  return s.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

/** Checks markup that must work under script-src 'self', style-src 'self' and htmx allowEval=false. */
function expectCspSafeMarkup(label: string, html: string) {
  for (const tag of tags(html)) {
    const where = `${label}: <${tag.name}>`;
    if (tag.name === 'script') {
      expect(tag.attrs.get('src'), `${where} must load a same-origin file, not inline code`).toMatch(/^\/static\//);
      expect(tag.attrs.get('type') ?? '', where).not.toMatch(/module|importmap/);
    }
    expect(tag.name, `${label}: inline <style> is blocked by style-src 'self'`).not.toBe('style');
    for (const [name, value] of tag.attrs) {
      expect(name, `${where} inline event handler`).not.toMatch(/^on/);
      expect(name, `${where} hx-on needs eval`).not.toMatch(/^hx-on/);
      expect(name, `${where} hx-vars needs eval`).not.toBe('hx-vars');
      expect(name, `${where} inline style attribute is blocked by style-src 'self'`).not.toBe('style');
      if (name === 'hx-vals') expect(value, `${where} js: hx-vals need eval`).not.toMatch(/^\s*javascript:|^\s*js:/);
      if (name === 'hx-trigger') expect(value, `${where} trigger filters [..] need eval`).not.toContain('[');
      if (name === 'href' || name === 'src' || name === 'action') expect(value.trim().toLowerCase(), `${where} ${name}`).not.toMatch(/^javascript:/);
    }
  }
}

type Target = {
  name: string;
  method?: 'GET' | 'POST';
  url: string;
  signedIn: boolean;
  form?: Record<string, string>;
  htmx?: boolean;
  status: number;
  /** A whole HTML document (with <head>), a fragment, or something else. */
  kind: 'document' | 'fragment' | 'other';
};

const TARGETS: Target[] = [
  { name: 'sign-in page', url: '/login', signedIn: false, status: 200, kind: 'document' },
  { name: 'sign-up page', url: '/signup', signedIn: false, status: 200, kind: 'document' },
  { name: 'failed sign-in', method: 'POST', url: '/login', form: { username: 'alice', password: 'wrong password here' }, signedIn: false, status: 401, kind: 'document' },
  { name: 'visitor redirect', url: '/', signedIn: false, status: 303, kind: 'other' },
  { name: 'visitor 404', url: '/no/such/page', signedIn: false, status: 303, kind: 'other' },
  { name: 'healthz', url: '/healthz', signedIn: false, status: 200, kind: 'other' },
  { name: 'stylesheet', url: '/static/app.css', signedIn: false, status: 200, kind: 'other' },
  { name: 'script', url: '/static/app.js', signedIn: false, status: 200, kind: 'other' },
  { name: 'Private toolkits', url: '/w/private/toolkits', signedIn: true, status: 200, kind: 'document' },
  { name: 'Private credentials', url: '/w/private/credentials', signedIn: true, status: 200, kind: 'document' },
  { name: 'project toolkits', url: '/w/team/toolkits', signedIn: true, status: 200, kind: 'document' },
  { name: 'project credentials', url: '/w/team/credentials', signedIn: true, status: 200, kind: 'document' },
  { name: 'project members', url: '/w/team/members', signedIn: true, status: 200, kind: 'document' },
  { name: 'project members fragment', url: '/w/team/members', htmx: true, signedIn: true, status: 200, kind: 'fragment' },
  { name: 'new project', url: '/projects/new', signedIn: true, status: 200, kind: 'document' },
  { name: 'settings', url: '/settings', signedIn: true, status: 200, kind: 'document' },
  { name: 'new token (shown once)', method: 'POST', url: '/settings/tokens', form: { name: 'ci' }, signedIn: true, status: 201, kind: 'document' },
  { name: 'new token fragment', method: 'POST', url: '/settings/tokens', form: { name: 'ci-2' }, htmx: true, signedIn: true, status: 201, kind: 'fragment' },
  { name: 'member add refused (htmx fragment)', method: 'POST', url: '/w/team/members', form: { username: 'bob', role: 'viewer' }, htmx: true, signedIn: true, status: 409, kind: 'fragment' },
  { name: 'redirect home', url: '/', signedIn: true, status: 303, kind: 'other' },
  { name: 'signed-in 404', url: '/w/no-such-project/members', signedIn: true, status: 404, kind: 'document' },
];

async function fetchTarget(target: Target) {
  const res = await t.browser(target.method ?? 'GET', target.url, {
    cookie: target.signedIn ? alice.cookie : undefined,
    form: target.form,
    headers: target.htmx ? { 'HX-Request': 'true' } : undefined,
  });
  return { res, body: await res.text() };
}

describe('security headers', () => {
  it.each(TARGETS.map((x) => [x.name, x] as const))('%s', async (_name, target) => {
    const { res, body } = await fetchTarget(target);
    expect(res.status, body.slice(0, 200)).toBe(target.status);

    // A CSP on every answer; scripts only from this origin, never inline or eval.
    const csp = parseCsp(res.headers.get('content-security-policy'));
    const scriptSrc = csp.get('script-src') ?? csp.get('default-src');
    expect(scriptSrc, 'script-src or default-src').toBeDefined();
    for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'", '*', 'data:', 'blob:', 'http:', 'https:']) {
      expect(scriptSrc, `script-src allows ${bad}`).not.toContain(bad);
    }
    expect(scriptSrc).toContain("'self'");
    for (const [directive, sources] of csp) expect(sources, `${directive} allows eval`).not.toContain("'unsafe-eval'");
    if (csp.has('script-src-elem')) expect(csp.get('script-src-elem')).not.toContain("'unsafe-inline'");
    if (csp.has('script-src-attr')) expect(csp.get('script-src-attr')).not.toContain("'unsafe-inline'");
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);

    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('same-origin');

    // Nothing a signed-in user is shown may be kept by the browser or a proxy.
    if (target.signedIn) expect(res.headers.get('cache-control'), 'signed-in answers are not stored').toMatch(/(^|,\s*)no-store(\s*,|$)/);

    if (target.kind === 'document') {
      const meta = tags(body).find((x) => x.name === 'meta' && x.attrs.get('name') === 'htmx-config');
      expect(meta, 'htmx-config meta tag').toBeDefined();
      const config = JSON.parse(meta!.attrs.get('content')!);
      expect(config.allowEval).toBe(false);
      expect(config.includeIndicatorStyles).toBe(false);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      // The parser really saw the page's scripts (so the markup checks below are not vacuous).
      expect(tags(body).filter((x) => x.name === 'script').map((x) => x.attrs.get('src'))).toContain('/static/htmx.min.js');
    }
    if (target.kind !== 'other') expectCspSafeMarkup(target.name, body);
  });

  it('sends nosniff and a CSP on API answers too, and never lets them be cached', async () => {
    for (const [label, res] of [
      ['ok', await t.app.request(`${ORIGIN}/api/v1/me`, { headers: { Authorization: `Bearer ${alice.token}` } })],
      ['401', await t.app.request(`${ORIGIN}/api/v1/me`)],
      ['404', await t.app.request(`${ORIGIN}/api/v1/nothing`, { headers: { Authorization: `Bearer ${alice.token}` } })],
    ] as const) {
      expect(res.headers.get('x-content-type-options'), label).toBe('nosniff');
      expect(res.headers.get('content-security-policy'), label).toContain("script-src 'self'");
      expect(res.headers.get('content-type'), label).toMatch(/^application\/json/);
    }
  });

  it('serves the htmx it configures, from this origin', async () => {
    const res = await t.app.request(`${ORIGIN}/static/htmx.min.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
