// Shared pieces of the JSON API: the contract's error shape, body parsing, workspace lookup.
import type { Context } from 'hono';
import type { z } from 'zod';
import { findWorkspace } from '../store/workspaces';
import type { AppEnv, Deps } from '../env';
import { NotFound } from './errors';

/** Answers with the contract's error shape. */
export function apiError(c: Context, status: 400 | 401 | 403 | 404 | 409 | 415 | 422 | 429 | 502, error: string, message: string, extra: Record<string, unknown> = {}) {
  return c.json({ error, message, ...extra }, status);
}

/** Answers 400 invalid_input with a message per field. */
export function invalidInput(c: Context, fields: Record<string, string>) {
  return apiError(c, 400, 'invalid_input', 'Some fields are not valid.', { fields });
}

/** The `fields` of a 400 for a failed schema parse: one message per field, named by its dotted path. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join('.') : '_body';
    if (!Object.hasOwn(fields, key)) Object.defineProperty(fields, key, { value: issue.message, enumerable: true, writable: true, configurable: true });
  }
  return fields;
}

/** Returns the parsed JSON object body, or null when the body is not a JSON object. */
export async function jsonBody(c: Context): Promise<Record<string, unknown> | null> {
  try {
    const v = await c.req.json();
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Returns the workspace named by `:ws` for the caller, or throws NotFound. */
export async function apiWorkspace(deps: Deps, c: Context<AppEnv>) {
  const ws = await findWorkspace(deps.store, c.get('user')!.id, c.req.param('ws') ?? c.req.param('slug') ?? '');
  if (!ws) throw new NotFound();
  return ws;
}

