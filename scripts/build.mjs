// Bundles the server into dist/server.js with esbuild (run by postinstall and before start), so
// production starts plain `node` on JavaScript: no TypeScript loader, a faster cold start and
// less memory. Dependencies stay external (better-sqlite3 is native). The CLI and the tests run
// the TypeScript sources directly with tsx.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// --if-sources: at `npm ci` in the container's dependency layer the sources are not copied yet;
// the Dockerfile runs the build again once they are.
if (process.argv.includes('--if-sources') && !fs.existsSync(path.join(root, 'src/server.ts'))) process.exit(0);
await build({
  entryPoints: [path.join(root, 'src/server.ts')],
  outdir: path.join(root, 'dist'),
  entryNames: '[name]',
  // What is imported dynamically (the PostgreSQL engine) goes into a chunk of its own, loaded
  // only when used: one bundle file would load its external imports (pg) at start-up.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  jsx: 'automatic',
  jsxImportSource: 'hono/jsx',
  sourcemap: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});
