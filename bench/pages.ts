// Benchmark 2: pages at realistic size — a project with 50 members, 200 toolkits and 1,000
// credentials — the Toolkits page, the Credentials page and a toolkit's page with its team
// readiness view, with a signed-in session. Also measures cold start to a healthy /healthz.
import { SERVER, freePort, load, saveResult, startNode, tempDir } from './lib';
import { api, openSeedApp, seedUser } from './seed';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);

export async function benchPages() {
  const dataDir = tempDir('latchkey-bench-pages-');
  const seed = await openSeedApp(dataDir);
  const admin = await seedUser(seed, 'alice', true);
  await api(seed, admin.token, 'POST', '/projects', { name: 'Platform' });
  for (let i = 1; i < 50; i++) {
    const u = await seedUser(seed, `member${String(i).padStart(2, '0')}`);
    await api(seed, admin.token, 'POST', '/projects/platform/members', { username: u.username, role: i % 5 === 0 ? 'editor' : 'viewer' });
    // Every other member already has the agreed private credential.
    if (i % 2 === 0) await api(seed, u.token, 'POST', '/workspaces/private/credentials', { name: 'GitHub Token', type: 'github', secrets: { token: `t-${i}` } });
  }
  for (let i = 0; i < 1000; i++) {
    await api(seed, admin.token, 'POST', '/workspaces/platform/credentials', { name: `Service credential ${i}`, type: i % 10 === 9 ? 'http_bearer' : 'github', fields: i % 10 === 9 ? { base_url: 'https://example.com' } : {}, secrets: { token: `secret-${i}` } });
  }
  let firstToolkit = 0;
  for (let i = 0; i < 200; i++) {
    const t = (await api(seed, admin.token, 'POST', '/workspaces/platform/toolkits', {
      name: `Toolkit ${String(i).padStart(3, '0')}`,
      type: 'github',
      settings: {},
      credential: i % 2 ? { scope: 'private', credential_id: 'github_token' } : { scope: 'project', credential_id: `service_credential_${i}` },
    })) as { id: number };
    firstToolkit ||= t.id;
  }
  await seed.close();

  // Cold start: process spawn to the first healthy /healthz, on the seeded database. The first
  // start after seeding warms tsx's transpile cache, as any start after an install does.
  const coldStarts: number[] = [];
  await (await startNode(SERVER, { DATA_DIR: dataDir, SECRET_KEY: seed.secretKey }, await freePort())).stop();
  for (let i = 0; i < 3; i++) {
    const s = await startNode(SERVER, { DATA_DIR: dataDir, SECRET_KEY: seed.secretKey }, await freePort());
    coldStarts.push(Math.round(s.startMs));
    await s.stop();
  }
  const live = await startNode(SERVER, { DATA_DIR: dataDir, SECRET_KEY: seed.secretKey }, await freePort());
  const login = await fetch(`${live.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: live.url, 'Sec-Fetch-Site': 'same-origin' },
    body: 'username=alice&password=correct+horse+battery+staple',
  });
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.includes('session=')) ?? '';
  if (!cookie) throw new Error(`sign-in failed: ${login.status}`);
  const headers = { Cookie: cookie };
  const pages = {
    toolkits: `${live.url}/w/platform/toolkits`,
    credentials: `${live.url}/w/platform/credentials`,
    toolkit_readiness: `${live.url}/w/platform/toolkits/${firstToolkit + 1}`,
  };
  const results: Record<string, unknown> = {};
  for (const [name, url] of Object.entries(pages)) {
    const probe = await fetch(url, { headers }).catch((err) => {
      throw new Error(`${name}: ${err.cause?.message ?? err.message}; server said: ${live.output().slice(-2000)}`);
    });
    if (probe.status !== 200) throw new Error(`${name}: ${probe.status}`);
    const bytes = (await probe.text()).length;
    await load({ url, headers, duration: 2, connections: 10 });
    // One connection: the latency a person feels. Ten at once: how it holds up under a crowd.
    const single = await load({ url, headers, duration: DURATION, connections: 1 });
    const crowd = await load({ url, headers, duration: DURATION, connections: 10 });
    results[name] = { ...single, bytes, crowd };
  }
  await live.stop();
  const out = { size: { members: 50, toolkits: 200, credentials: 1000 }, connections: '1 and 10', duration_s: DURATION, pages: results, cold_start_ms: coldStarts };
  saveResult('pages', out);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchPages().then((r) => console.log(JSON.stringify(r, null, 2)));
}
