// Where the project's own files are, whether the code runs from src/ (tsx, tests) or from the
// bundle in dist/ (npm start, the container): the nearest folder above that has package.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the Latchkey folder (no package.json above the code)');
    dir = up;
  }
  return dir;
}

export const ROOT_DIR = findRoot();
export const MIGRATIONS_DIR = path.join(ROOT_DIR, 'db/migrations');
export const PUBLIC_DIR = path.join(ROOT_DIR, 'public');
export const MIGRATIONS_PG_DIR = path.join(ROOT_DIR, 'db/migrations-pg');
