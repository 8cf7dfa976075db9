// Serves public/ from memory: a handful of small files, read once, with ETags.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Hono } from 'hono';
import { PUBLIC_DIR } from '../paths';

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Returns a sub-app serving every file of public/, and the generated `extra` files, under /static/. */
export function staticRoutes(extra: Record<string, string> = {}) {
  const files = new Map<string, { body: Buffer; type: string; etag: string }>();
  const add = (name: string, body: Buffer) => {
    const type = TYPES[path.extname(name)];
    if (type) files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  };
  for (const name of fs.readdirSync(PUBLIC_DIR)) add(name, fs.readFileSync(path.join(PUBLIC_DIR, name)));
  for (const [name, text] of Object.entries(extra)) add(name, Buffer.from(text));
  const app = new Hono();
  app.get('/static/:name', (c) => {
    const f = files.get(c.req.param('name'));
    if (!f) return c.notFound();
    c.header('ETag', f.etag);
    c.header('Cache-Control', 'public, max-age=300');
    if (c.req.header('If-None-Match') === f.etag) return c.body(null, 304);
    c.header('Content-Type', f.type);
    return c.body(new Uint8Array(f.body));
  });
  return app;
}
