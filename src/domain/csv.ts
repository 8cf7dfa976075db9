// CSV cells for spreadsheets (RFC 4180), safe to open: a cell that a spreadsheet would read as a
// formula (starting with = + - @, or a tab or carriage return that hides one) gets a leading '.

/** Returns one CSV cell: formula-guarded, and quoted (quotes doubled) when it holds , " CR or LF. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Returns one CSV record, CRLF-terminated. */
export function csvLine(values: (string | number | boolean | null | undefined)[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
