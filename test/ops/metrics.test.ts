// GET /metrics: absent (404) without METRICS_TOKEN; 401 without the token or with a wrong one;
// with it, the Prometheus text format with request, toolkit run, duration, audit and memory values.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bearerMatches, createMetrics, DURATION_BUCKETS } from '../../src/http/metrics';
import { createTestApp, type TestApp } from '../helpers/app';

const TOKEN = 'metrics-token-for-tests-0123456789';
const apps: TestApp[] = [];
const servers: http.Server[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function app(env: Record<string, string> = {}) {
  const t = await createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1', ...env } });
  apps.push(t);
  return t;
}

/** A local service: /ok answers 200, /fail answers 503. */
async function service(): Promise<string> {
  const s = http.createServer((req, res) => {
    req.resume();
    res.writeHead(req.url?.startsWith('/fail') ? 503 : 200, { 'Content-Type': 'application/json' });
    res.end('{}');
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const metrics = (t: TestApp, authorization?: string) => t.app.request('http://localhost/metrics', { headers: authorization ? { Authorization: authorization } : {} });

/** Parses the exposition text into samples, checking every line's syntax on the way. */
function parse(text: string) {
  expect(text.endsWith('\n')).toBe(true);
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  const types = new Map<string, string>();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-z_]+) (counter|gauge|histogram)$/.exec(line);
    if (type) {
      types.set(type[1], type[2]);
      continue;
    }
    const m = /^([a-z_]+)(?:\{(.*)\})? (-?[0-9.e+]+|\+Inf|NaN)$/.exec(line);
    expect(m, `bad line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m![2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    samples.push({ name: m![1], labels, value: Number(m![3]) });
  }
  const get = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return { samples, types, get, value: (name: string, labels: Record<string, string> = {}) => get(name, labels).reduce((a, s) => a + s.value, 0) };
}

describe('/metrics access', () => {
  it('does not exist without METRICS_TOKEN', async () => {
    const t = await app();
    expect((await metrics(t)).status).toBe(404);
    expect((await metrics(t, `Bearer ${TOKEN}`)).status).toBe(404);
  });

  it('refuses no token, a wrong token, another scheme and a prefix of the token (401)', async () => {
    const t = await app({ METRICS_TOKEN: TOKEN });
    for (const auth of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN, `bearer  ${TOKEN}`, 'Bearer ']) {
      const res = await metrics(t, auth);
      expect(res.status, String(auth)).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
      expect(await res.text()).not.toContain('latchkey_');
    }
    // A user's session or API token is not the metrics token either.
    const alice = await t.user('alice');
    expect((await metrics(t, `Bearer ${alice.token}`)).status).toBe(401);
  });

  it('compares tokens exactly', () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`Bearer ${TOKEN}`, `${TOKEN}0`)).toBe(false);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
    expect(bearerMatches('Bearer ', '')).toBe(false);
  });
});

describe('/metrics content', () => {
  it('serves the text format with request, run, duration, audit and memory values', async () => {
    const t = await app({ METRICS_TOKEN: TOKEN });
    const svc = await service();
    const alice = await t.user('alice');
    expect((await t.api('POST', '/workspaces/private/credentials', alice.token, { name: 'Svc', type: 'http_bearer', fields: { base_url: svc }, secrets: { token: 'svc-token' } })).status).toBe(201);
    const toolkit = await t.api('POST', '/workspaces/private/toolkits', alice.token, { name: 'Svc', type: 'http', settings: {}, credential: { scope: 'private', credential_id: 'svc' } });
    expect(toolkit.status).toBe(201);
    const run = (path: string) => t.api('POST', `/workspaces/private/toolkits/${toolkit.json.id}/execute`, alice.token, { tool: 'request', input: { method: 'GET', path } });
    expect((await run('/ok')).status).toBe(200);
    expect((await run('/ok')).status).toBe(200);
    expect((await run('/fail')).status).toBe(502);
    expect((await t.api('GET', '/workspaces/private/credentials', alice.token)).status).toBe(200);
    expect((await t.api('GET', '/workspaces/private/credentials', null)).status).toBe(401);
    for (let i = 0; i < 3; i++) await t.app.request('http://localhost/healthz');
    expect((await t.browser('GET', '/no/such/page/12345', { cookie: alice.cookie })).status).toBe(404);

    const res = await metrics(t, `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = parse(await res.text());

    expect(m.types.get('latchkey_http_requests_total')).toBe('counter');
    expect(m.value('latchkey_http_requests_total', { route: '/healthz', method: 'GET', status: '200' })).toBe(3);
    expect(m.value('latchkey_http_requests_total', { route: '/api/v1/workspaces/:ws/toolkits/:id/execute', method: 'POST', status: '200' })).toBe(2);
    expect(m.value('latchkey_http_requests_total', { route: '/api/v1/workspaces/:ws/toolkits/:id/execute', method: 'POST', status: '502' })).toBe(1);
    expect(m.value('latchkey_http_requests_total', { route: '/api/v1/workspaces/:ws/credentials', method: 'GET', status: '401' })).toBe(1);
    expect(m.value('latchkey_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    // Labels are route patterns: no raw path, id or name.
    for (const s of m.get('latchkey_http_requests_total')) expect(s.labels.route).not.toMatch(/private|12345|\/1\//);

    expect(m.types.get('latchkey_toolkit_executions_total')).toBe('counter');
    expect(m.value('latchkey_toolkit_executions_total', { toolkit_type: 'http', outcome: 'success' })).toBe(2);
    expect(m.value('latchkey_toolkit_executions_total', { toolkit_type: 'http', outcome: 'upstream_error' })).toBe(1);

    for (const name of ['latchkey_execute_duration_seconds', 'latchkey_upstream_duration_seconds']) {
      expect(m.types.get(name)).toBe('histogram');
      const buckets = m.get(`${name}_bucket`, { toolkit_type: 'http' });
      expect(buckets.map((b) => b.labels.le)).toEqual([...DURATION_BUCKETS.map(String), '+Inf']);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
      expect(buckets.at(-1)!.value).toBe(3);
      expect(m.value(`${name}_count`, { toolkit_type: 'http' })).toBe(3);
      expect(m.value(`${name}_sum`, { toolkit_type: 'http' })).toBeGreaterThan(0);
    }

    const audit = (await t.sqlOne<{ n: number }>('SELECT count(*) AS n FROM audit_events'))!.n;
    expect(audit).toBeGreaterThan(4);
    expect(m.value('latchkey_audit_events_total')).toBe(audit);
    expect(m.types.get('process_resident_memory_bytes')).toBe('gauge');
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(1e6);
  });

  it('escapes label values and keeps buckets cumulative', () => {
    const m = createMetrics();
    m.httpRequest('/a"b\\c\nd', 'BREW', 418);
    m.toolkitExecution('http', 'success', 0.003, 0.001);
    m.toolkitExecution('http', 'success', 0.2, null);
    m.toolkitExecution('http', 'success', 99, 99);
    const text = m.render({ auditEvents: 7 });
    expect(text).toContain('latchkey_http_requests_total{route="/a\\"b\\\\c\\nd",method="OTHER",status="418"} 1');
    expect(text).toContain('latchkey_execute_duration_seconds_bucket{toolkit_type="http",le="0.005"} 1');
    expect(text).toContain('latchkey_execute_duration_seconds_bucket{toolkit_type="http",le="0.25"} 2');
    expect(text).toContain('latchkey_execute_duration_seconds_bucket{toolkit_type="http",le="30"} 2');
    expect(text).toContain('latchkey_execute_duration_seconds_bucket{toolkit_type="http",le="+Inf"} 3');
    expect(text).toContain('latchkey_upstream_duration_seconds_count{toolkit_type="http"} 2');
    expect(text).toContain('latchkey_audit_events_total 7');
  });
});
