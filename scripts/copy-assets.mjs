// Copies htmx from node_modules into public/ (run by npm's postinstall), so pages load it from
// this server and never from a CDN.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const src = path.join(path.dirname(require.resolve('htmx.org/package.json')), 'dist/htmx.min.js');
const dest = path.join(path.dirname(new URL(import.meta.url).pathname), '../public/htmx.min.js');
fs.copyFileSync(src, dest);
