// What a PostgreSQL failure means, for the error pages and the start-up line. Kept apart from
// src/store/postgres.ts so that reading an error never loads the `pg` driver: on SQLite it is
// never loaded at all (startup.ts imports the engine only when DATABASE_URL is set).

/** PostgreSQL error codes that mean "cannot reach or lost the database", as opposed to a bad query. */
const UNAVAILABLE = /^(08|57P0[1-3]|53300)/;

/** True when `err` says the database is unreachable (connection refused, lost, shutting down). */
export function isUnavailable(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown; message?: string } | undefined; e; e = e.cause as typeof e) {
    const code = e.code ?? '';
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN'].includes(code) || UNAVAILABLE.test(code)) return true;
    if (/Connection terminated|connection timeout|Client has encountered a connection error|Cannot use a pool after calling end/i.test(e.message ?? '')) return true;
  }
  return false;
}

/** A one-line reason for a failed start, naming the host and database but never the password. */
export function describePgError(err: unknown, url: string): string {
  const where = safeTarget(url);
  const e = err as { code?: string; message?: string };
  if (e.code === '28P01' || e.code === '28000') return `cannot sign in to PostgreSQL at ${where}: ${e.message} (check the user and password in DATABASE_URL)`;
  if (e.code === '3D000') return `PostgreSQL at ${where}: ${e.message} (create it first)`;
  if (isUnavailable(err)) return `cannot reach PostgreSQL at ${where} (${e.code ?? e.message}); check DATABASE_URL and that the server is running`;
  return (e.message ?? String(err)).replace(/\s+/g, ' ');
}

/** host:port/database of a DATABASE_URL, without its user or password. */
export function safeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}
