// What both engines check about their committed migrations (db/migrations, db/migrations-pg).
import fs from 'node:fs';
import path from 'node:path';

/** The `when` of every migration in a folder's drizzle-kit journal, oldest first. */
export function journalTimes(migrationsFolder: string): number[] {
  const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: { when: number }[] };
  return journal.entries.map((e) => e.when);
}

/**
 * Returns the one-line refusal for a database whose newest applied migration is newer than every
 * migration this version knows (a newer Latchkey migrated it; this one cannot know its schema),
 * or null when this version may serve it.
 */
export function newerSchemaMessage(migrationsFolder: string, lastApplied: number): string | null {
  const known = Math.max(0, ...journalTimes(migrationsFolder));
  if (lastApplied <= known) return null;
  return 'the database was migrated by a newer version of Latchkey than this one; run that version (or restore a backup made before the upgrade); refusing to start';
}
