// The bare limit for the execute path: a Hono server whose handler only forwards the same call
// with fetch (no auth, no database, no audit).
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const upstream = process.env.UPSTREAM!;
const app = new Hono();
app.get('/healthz', (c) => c.text('ok'));
app.post('/execute', async (c) => {
  const res = await fetch(`${upstream}/user`, { headers: { Authorization: 'Bearer bench-token', Accept: 'application/json' } });
  return c.json({ ok: true, result: { status: res.status, body: await res.json() } });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' });
