// Audit log at scale: seeds N events (default 1,000,000) through the real appendAudit chain
// logic, batched in big transactions, then measures the Audit page (first page, filtered pages,
// deep keyset pages), its htmx fragment, the API, a streamed CSV export, the charts' query and
// the chain verification, all server-side through app.request.
//
//   npx tsx bench/seed-audit.ts [--events N] [--db FILE] [--days D] [--batch B] [--runs R] [--keep]
//
// Without --db it works in a temp directory and removes it afterwards (unless --keep). With --db
// it seeds into that file (key from SECRET_KEY or the secret.key next to it, created if missing);
// an existing log is extended, so the chain keeps verifying.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../src/app';
import { hashPassword } from '../src/auth/password';
import { loadConfig } from '../src/config';
import { loadKeyRing } from '../src/crypto/keyring';
import { appendAudit, executionStats, verifyAuditChain, type AuditInput } from '../src/store/audit';
import { openDatabase, sqliteEngine } from '../src/store/db';
import { createStore, writeTx } from '../src/store/store';
import { createUser } from '../src/store/users';
import { addMember, createProject, type Workspace } from '../src/store/workspaces';
import { createLogger } from '../src/log';
import { createApiToken } from '../src/services/create-api-token';

const DAY = 86_400_000;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const N = Number(arg('events', '1000000').replace(/_/g, ''));
const DAYS = Number(arg('days', '365'));
const BATCH = Number(arg('batch', '20000'));
const RUNS = Number(arg('runs', '7'));
const KEEP = process.argv.includes('--keep');
const dbArg = process.argv.includes('--db') ? arg('db', '') : '';

// A small deterministic PRNG, so two runs seed the same log.
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
/** Skewed pick: a few users and toolkits do most of the work, as in real teams. */
const skewed = <T>(xs: T[]) => xs[Math.floor(xs.length * rand() ** 2.2)];

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1)).padStart(8) + ' ms';

async function main() {
  const dataDir = dbArg ? path.dirname(path.resolve(dbArg)) : fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-audit-'));
  const dbFile = dbArg ? path.resolve(dbArg) : path.join(dataDir, 'latchkey.db');
  const { ring } = loadKeyRing({ secretKeyEnv: process.env.SECRET_KEY, dataDir });
  const db = openDatabase(dbFile);
  const engine = sqliteEngine(db);
  // Events are written with a simulated clock that walks from DAYS ago to now (the log's times
  // never go backwards, so the people and projects are made first, just before that window).
  const start = Date.now() - DAYS * DAY;
  let now = start - DAY;
  const clock = { now: () => now };
  const store = await createStore(engine, ring, clock);
  console.log(`audit bench: ${N.toLocaleString('en-US')} events over ${DAYS} days into ${dbFile}`);

  // People and projects, made with the real data functions (their own events are part of the log).
  const passwordHash = await hashPassword('correct horse battery staple');
  const tag = Date.now().toString(36).slice(-4);
  const users: { id: string; username: string }[] = [];
  for (let i = 0; i < 200; i++) {
    const r = await createUser(store, { username: i === 0 ? `admin-${tag}` : `user${i}-${tag}`, passwordHash, isAdmin: i === 0 }, { actor: null, action: 'user.create' });
    if (!r.ok) throw new Error(r.reason);
    users.push(r.user);
  }
  const projects: Workspace[] = [];
  for (let p = 0; p < 20; p++) {
    const owner = users[1 + p];
    const made = await createProject(store, owner, `Project ${p} ${tag}`);
    const ws: Workspace = { id: made.id, kind: 'project', ref: made.slug, name: made.name, role: 'admin', ownerUserId: null };
    projects.push(ws);
    for (let m = 0; m < 15; m++) await addMember(store, owner, ws, users[(p * 7 + m * 13) % 200].username, 'editor');
  }
  const privateIds = new Map(
    (db.$client.prepare(`SELECT id, owner_user_id FROM workspaces WHERE kind = 'private'`).all() as { id: number; owner_user_id: string }[]).map((r) => [r.owner_user_id, r.id]),
  );
  const toolkits = Array.from({ length: 60 }, (_, i) => ({ id: 10_000 + i, name: `${pick(['GitHub', 'GitLab', 'Jira', 'Slack', 'Confluence', 'Internal API'])} ${i}`, project: projects[i % 20] }));

  // The events: mostly toolkit runs, then sign-ins and the changes around them.
  const eventFor = (): AuditInput => {
    const actor = skewed(users);
    const r = rand();
    if (r < 0.55) {
      const tk = skewed(toolkits);
      const ok = rand() > 0.08;
      return {
        actor,
        workspace: { id: tk.project.id, ref: tk.project.ref },
        action: 'toolkit.execute',
        target: `toolkit:${tk.id}`,
        outcome: ok ? 'success' : 'failure',
        details: { toolkit: tk.name, toolkit_type: 'github', tool: pick(['get_authenticated_user', 'list_repositories', 'create_issue']), status: ok ? 200 : 502, credential: { scope: 'private', credential_id: 'github_token', owner: actor.username }, duration_ms: Math.floor(rand() * 900) },
      };
    }
    if (r < 0.7) return { actor, workspace: null, action: 'user.login', target: `user:${actor.username}` };
    if (r < 0.72) return { actor: null, workspace: null, action: 'user.login_failed', target: `user:${actor.username}`, outcome: 'failure', details: { reason: 'bad_credentials' } };
    if (r < 0.82) {
      const priv = rand() < 0.5;
      const ws = priv ? { id: privateIds.get(actor.id)!, ref: 'private' } : (({ id, ref }) => ({ id, ref }))(pick(projects));
      return { actor, workspace: ws, action: pick(['credential.create', 'credential.update', 'credential.delete']), target: `credential:token_${Math.floor(rand() * 500)}`, details: { scope: priv ? 'private' : 'project', type: 'github', fields: ['base_url'], secrets: ['token'] } };
    }
    if (r < 0.9) {
      const tk = pick(toolkits);
      return { actor, workspace: { id: tk.project.id, ref: tk.project.ref }, action: pick(['toolkit.create', 'toolkit.update', 'toolkit.credential_change']), target: `toolkit:${tk.id}`, details: { name: tk.name } };
    }
    const p = pick(projects);
    return { actor, workspace: { id: p.id, ref: p.ref }, action: pick(['member.add', 'member.role_change', 'member.remove']), target: `user:${pick(users).username}`, details: { role: 'viewer' } };
  };

  const step = (DAYS * DAY) / N;
  const seedStarted = performance.now();
  for (let done = 0; done < N; ) {
    const n = Math.min(BATCH, N - done);
    await writeTx(store, async (tx) => {
      for (let k = 0; k < n; k++) {
        now = Math.floor(start + (done + k) * step);
        await appendAudit(store, tx, eventFor());
      }
    });
    done += n;
    if (done % 100_000 === 0 || done === N) {
      const s = (performance.now() - seedStarted) / 1000;
      process.stdout.write(`  seeded ${done.toLocaleString('en-US')} in ${s.toFixed(1)} s (${Math.round(done / s).toLocaleString('en-US')}/s)\n`);
    }
  }
  now = Date.now();
  clock.now = () => Date.now();
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const total = (db.$client.prepare('SELECT max(id) AS n FROM audit_events').get() as { n: number }).n;
  const fileMb = fs.statSync(dbFile).size / 1e6;

  // The app on the seeded database, with an instance admin and a project admin signed in.
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const { app, deps } = await createApp({ engine, config, ring, log: createLogger('silent') });
  const cookieOf = async (userId: string) => (await deps.auth.createSession(userId)).split(';')[0];
  const admin = users[0];
  const adminCookie = await cookieOf(admin.id);
  const adminToken = await tokenFor(deps, admin);
  const projectAdmin = users[1]; // admin of Project 0 only
  const projectAdminCookie = await cookieOf(projectAdmin.id);

  const busyActor = users[3].username;
  const rareActor = users[190].username;
  const deep = Math.floor(total * 0.02); // 98% of the way down the log
  const weekAgo3m = new Date(Date.now() - 90 * DAY).toISOString().slice(0, 10);
  const weekAgo3mEnd = new Date(Date.now() - 84 * DAY).toISOString().slice(0, 10);

  const measure = async (label: string, url: string, opts: { cookie?: string; token?: string; htmx?: boolean; body?: boolean } = {}) => {
    const headers: Record<string, string> = {};
    if (opts.cookie) headers.Cookie = opts.cookie;
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.htmx) Object.assign(headers, { 'HX-Request': 'true', 'HX-Target': 'audit-results' });
    const times: number[] = [];
    let bytes = 0;
    let rows = 0;
    let cold = 0;
    for (let i = 0; i < RUNS + 1; i++) {
      const t0 = performance.now();
      const res = await app.request(`http://localhost${url}`, { headers });
      const text = await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`${url} → ${res.status}: ${text.slice(0, 300)}`);
      if (i > 0) times.push(ms);
      else cold = ms; // the first run also fills the charts' counts and statement caches
      bytes = text.length;
      rows = (text.match(/<tr id="event-/g) ?? []).length || (text.match(/"id":/g) ?? []).length;
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(`${label.padEnd(58)} ${fmt(median)}  (first ${fmt(cold).trim()}, max ${fmt(times[times.length - 1]).trim()}, ${rows} rows, ${(bytes / 1024).toFixed(0)} KiB)`);
    return median;
  };

  console.log(`\nseeded ${total.toLocaleString('en-US')} events in ${seedSeconds.toFixed(1)} s; database ${fileMb.toFixed(0)} MB`);
  console.log(`median of ${RUNS} runs after a first one (shown too), server-side through app.request:\n`);
  const results: Record<string, number> = {};
  const page = (label: string, qs: string, o: Parameters<typeof measure>[2] = {}) => measure(label, `/admin/audit${qs}`, { cookie: adminCookie, ...o }).then((ms) => (results[label] = ms));

  await page('page: first page, no filter', '');
  await page('page: first page, actor (busy user)', `?actor=${busyActor}`);
  await page('page: first page, actor (rare user)', `?actor=${rareActor}`);
  await page('page: first page, action=toolkit.execute&outcome=failure', '?action=toolkit.execute&outcome=failure');
  await page('page: first page, workspace (project)', `?workspace=${projects[5].ref}`);
  await page('page: first page, workspace=private', '?workspace=private');
  await page('page: first page, outcome=failure', '?outcome=failure');
  await page('page: first page, one week 3 months ago', `?since=${weekAgo3m}&until=${weekAgo3mEnd}`);
  await page('page: deep page, no filter (before near start)', `?before=${deep}`);
  await page('page: deep page, actor (busy user)', `?actor=${busyActor}&before=${deep}`);
  await page('page: deep page, action=member.add', `?action=member.add&before=${deep}`);
  await page('page: deep page, workspace + outcome=failure', `?workspace=${projects[5].ref}&outcome=failure&before=${deep}`);
  // Worst cases: filters that match nothing or almost nothing make the search walk its whole index range.
  await page('worst: outcome=denied (matches nothing)', '?outcome=denied');
  await page('worst: workspace=private&outcome=failure (rare)', '?workspace=private&outcome=failure');
  await page('worst: action=keys.rotate (matches nothing)', '?action=keys.rotate');
  await page('worst: actor (rare user) + action=member.remove', `?actor=${rareActor}&action=member.remove`);
  await page('fragment (htmx): first page, actor', `?actor=${busyActor}`, { htmx: true });
  await page('fragment (htmx): deep page, actor', `?actor=${busyActor}&before=${deep}`, { htmx: true });
  await page('project admin: first page (own project only)', '', { cookie: projectAdminCookie });
  await page('project admin: deep page', `?before=${deep}`, { cookie: projectAdminCookie });
  await measure('api: limit=500, no filter', '/api/v1/audit?limit=500', { token: adminToken });
  await measure('api: limit=50, actor, deep', `/api/v1/audit?actor=${busyActor}&before=${deep}`, { token: adminToken });

  // The charts' aggregate on its own (it is part of every page above).
  const scope = { kind: 'all' } as const;
  const t0 = performance.now();
  const stats = await executionStats(deps.store, scope, {});
  console.log(`${'charts: runs per day (30 days) and top 10 toolkits'.padEnd(58)} ${fmt(performance.now() - t0)}  (${stats.days.reduce((s, d) => s + d.success + d.failure, 0).toLocaleString('en-US')} runs counted)`);

  // A streamed export: time to the last byte, and how much the heap grew meanwhile.
  // About 100,000 events: the most recent days that hold that many (events are spread evenly).
  const recentDays = Math.max(1, Math.round((100_000 / Math.max(1, N)) * DAYS));
  const recentSince = new Date(Date.now() - recentDays * DAY).toISOString().slice(0, 10);
  for (const [label, qs] of [
    ['export csv: one busy actor', `?actor=${busyActor}`],
    [`export csv: ~100,000 events (since ${recentSince})`, `?since=${recentSince}`],
    ['export csv: everything', ''],
  ] as const) {
    const heapBefore = process.memoryUsage().heapUsed;
    let peak = heapBefore;
    const t1 = performance.now();
    const res = await app.request(`http://localhost/admin/audit/export.csv${qs}`, {
      method: 'POST',
      headers: { Cookie: adminCookie, Origin: 'http://localhost', 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    if (res.status !== 200) throw new Error(`export.csv${qs} → ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const reader = res.body!.getReader();
    let bytes = 0;
    let lines = 0;
    let firstByte = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!firstByte) firstByte = performance.now() - t1;
      bytes += value.length;
      for (const b of value) if (b === 10) lines++;
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    const ms = performance.now() - t1;
    console.log(
      `${label.padEnd(58)} ${fmt(ms)}  (${(lines - 1).toLocaleString('en-US')} events, ${(bytes / 1e6).toFixed(1)} MB, first byte ${firstByte.toFixed(1)} ms, heap +${((peak - heapBefore) / 1e6).toFixed(0)} MB)`,
    );
  }

  const t2 = performance.now();
  const full = await verifyAuditChain(deps.store);
  const fullMs = performance.now() - t2;
  console.log(`${'chain: full verification'.padEnd(58)} ${fmt(fullMs)}  (${full.ok ? `ok ${full.count.toLocaleString('en-US')}` : `broken at ${full.brokenId}`})`);
  const verify = async () => {
    const t = performance.now();
    const res = await app.request('http://localhost/admin/audit/verify', {
      method: 'POST',
      headers: { Cookie: adminCookie, Origin: 'http://localhost', 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/x-www-form-urlencoded', 'HX-Request': 'true' },
      body: '',
    });
    const text = await res.text();
    return { ms: performance.now() - t, text };
  };
  const first = await verify();
  const again = await verify();
  console.log(`${'chain: Verify button, first time (all events)'.padEnd(58)} ${fmt(first.ms)}  (${/verified through event [\d,]+/i.exec(first.text)?.[0] ?? 'see page'})`);
  console.log(`${'chain: Verify button, again (continues from the cache)'.padEnd(58)} ${fmt(again.ms)}`);

  await engine.close();
  if (!dbArg && !KEEP) fs.rmSync(dataDir, { recursive: true, force: true });
  else console.log(`\nkept ${dbFile}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/** A personal access token for the bench's admin. */
async function tokenFor(deps: Parameters<typeof createApiToken>[0], user: { id: string; username: string }): Promise<string> {
  const created = await createApiToken(deps, user, 'bench');
  if (!created.ok) throw new Error('token not created');
  return created.token;
}
