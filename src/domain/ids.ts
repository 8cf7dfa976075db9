// Numeric ids in URLs (toolkits, audit events, tokens). Only the canonical spelling of a positive
// integer names a row: Number() would also read "1e0", "0x1", "01", " 1" or "1.0" as 1, so one
// object would answer to many URLs (and caches, logs and access checks keyed on the text disagree).

const ID_RE = /^[1-9][0-9]{0,15}$/;

/** Returns the id a path segment names, or null unless it is a canonical positive integer. */
export function parseId(raw: string | undefined): number | null {
  if (raw === undefined || !ID_RE.test(raw)) return null;
  const id = Number(raw);
  return Number.isSafeInteger(id) ? id : null;
}
