// Random tokens and their stored form. Only SHA-256 hashes of tokens reach the database.
import { createHash, randomBytes } from 'node:crypto';

/** Returns a new session token: 32 random bytes, base64url. */
export function generateSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Returns a new personal access token: `lk_` and 32 random bytes, base64url. */
export function generateApiToken(): string {
  return `lk_${randomBytes(32).toString('base64url')}`;
}

/** Returns the hex SHA-256 of a token: the only form in which tokens are stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
