// How a service checks its input: one zod schema per input, declared beside the service. The
// same schema validates the API body and the page form (both reach the service as the same
// command), gives their errors as `{ "path.to.field": "sentence" }`, and is published as JSON
// Schema in /api/v1/openapi.json. The product's own rules (what a Credential ID looks like, what
// a project name needs) stay pure functions in src/domain; schemas call them through `rule`, so
// each rule is written once.
import { z } from 'zod';

/** Returns a zod refinement that reports the sentence `check` returns for a value (null: fine). */
export function rule(check: (value: string) => string | null) {
  return (value: string, ctx: z.RefinementCtx) => {
    const message = check(value);
    if (message) ctx.addIssue({ code: 'custom', message });
  };
}

/** A text field: `missing` is the sentence for absent, blank or non-text input; trimmed; at most `max` characters. */
export function requiredText(missing: string, max: number, tooLong = `Use at most ${max} characters.`) {
  return z.string({ error: missing }).trim().min(1, missing).max(max, tooLong);
}

export type Parsed<T> = { ok: true; data: T } | { ok: false; data: Partial<T>; errors: Record<string, string> };

/**
 * Checks `value` against an object schema field by field, so one bad field does not hide the
 * others: errors are keyed by dotted path (`credential.scope`), the first per field, and `data`
 * holds every field that passed (the service can still check those against the database).
 */
export function parseInput<S extends z.ZodObject>(schema: S, value: unknown): Parsed<z.output<S>> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, data: {}, errors: { _body: 'Send a JSON object.' } };
  const data: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    const r = (field as z.ZodType).safeParse((value as Record<string, unknown>)[key]);
    if (r.success) {
      if (r.data !== undefined) data[key] = r.data;
    } else {
      for (const issue of r.error.issues) errors[[key, ...issue.path.map(String)].join('.')] ??= issue.message;
    }
  }
  if (Object.keys(errors).length) return { ok: false, data: data as Partial<z.output<S>>, errors };
  return { ok: true, data: data as z.output<S> };
}
