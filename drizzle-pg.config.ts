import { defineConfig } from 'drizzle-kit';

// PostgreSQL's migrations (DATABASE_URL=postgres://…); SQLite's are drizzle.config.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema-pg.ts',
  out: './db/migrations-pg',
});
