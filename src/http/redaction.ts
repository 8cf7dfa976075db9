// Scrubbing secrets out of what an upstream service answers. An upstream can echo a credential in
// any encoding it likes, so each secret is matched in every form it can take on the way back:
// raw; base64 padded and unpadded; base64url padded and unpadded; and each of those URL-encoded
// (percent-escapes in upper, lower or mixed case, `+` or `%20` for a space, unreserved characters
// escaped or not). Secrets shorter than 4 characters are left alone: they would blank out common text.

const REDACTED = '[REDACTED]';
const MIN_SECRET_LENGTH = 4;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** Returns the text forms a secret can be echoed in before URL-encoding: raw and its base64 transcriptions. */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const b64 = bytes.toString('base64');
  const forms = [secret, b64, b64.replace(/=+$/, ''), bytes.toString('base64url'), b64.replace(/\+/g, '-').replace(/\//g, '_')];
  // A secret that is itself base64 (the "Basic …" value's pair) may come back unpadded or in the url alphabet.
  if (BASE64_RE.test(secret)) {
    const url = secret.replace(/\+/g, '-').replace(/\//g, '_');
    forms.push(secret.replace(/=+$/, ''), url, url.replace(/=+$/, ''));
  }
  return [...new Set(forms)].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
const hexRe = (byte: number) => {
  const [a, b] = byte.toString(16).toUpperCase().padStart(2, '0');
  const ci = (d: string) => (/[A-F]/.test(d) ? `[${d}${d.toLowerCase()}]` : d);
  return `%${ci(a)}${ci(b)}`;
};

/** One character's alternatives: itself (escaped), its UTF-8 bytes percent-encoded in any case, `+` for a space. */
function charPattern(ch: string): string {
  const alternatives = [escapeRe(ch), [...Buffer.from(ch, 'utf8')].map(hexRe).join('')];
  if (ch === ' ') alternatives.push('\\+');
  return `(?:${alternatives.join('|')})`;
}

// The ASCII characters' patterns, made once: building them per character of every secret on every
// call was ~6 % of the execute path's CPU (bench/analysis.md). Holds no secret.
const ASCII_PATTERNS = Array.from({ length: 128 }, (_, code) => charPattern(String.fromCharCode(code)));

/** Returns a pattern that matches the text raw or URL-encoded, character by character in any mix. */
function encodedPattern(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    out += code < 128 ? ASCII_PATTERNS[code] : charPattern(ch);
  }
  return out;
}

/** Returns one global pattern per secret matching every encoded form of it (longest secrets first). */
export function redactionPatterns(secrets: string[]): RegExp[] {
  const list = [...new Set(secrets.filter((s) => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
  return list.map((secret) => new RegExp(secretForms(secret).sort((a, b) => b.length - a.length).map(encodedPattern).join('|'), 'g'));
}

/** Deep-replaces every encoded form of each secret (4+ chars) in strings, array items, object keys and values. */
export function redactSecrets(value: unknown, secrets: string[]): unknown {
  return redactor(secrets)(value);
}

/** Returns redactSecrets for these secrets with their patterns built once (for several values of one call). */
export function redactor(secrets: string[]): (value: unknown) => unknown {
  const patterns = redactionPatterns(secrets);
  if (patterns.length === 0) return (value) => value;
  const str = (s: string) => patterns.reduce((acc, re) => acc.replace(re, REDACTED), s);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return str(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [str(k), walk(x)]));
    return v;
  };
  return walk;
}
