// Every encoding an upstream can echo a secret in is redacted: raw, base64 (padded, unpadded),
// base64url, and each URL-encoded with upper-, lower- or mixed-case escapes and `+` for spaces.
import { describe, expect, it } from 'vitest';
import { getCredentialType, secretValuesForRedaction } from '../../src/domain/credential-types';
import { redactSecrets } from '../../src/http/redaction';

const password = 'p@ss w/rd+ü=?';
const type = getCredentialType('http_basic')!;
const fields = { base_url: 'https://api.example.com', username: 'alice' };
const secrets = secretValuesForRedaction(type, fields, { password });
const header = type.auth(fields, { password }).Authorization; // "Basic <base64(alice:password)>"
const pair = header.slice('Basic '.length);
const b64 = (s: string) => Buffer.from(s).toString('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');
const lowerEscapes = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
const mixedEscapes = (s: string) => s.replace(/%([0-9A-F])([0-9A-F])/g, (_, a: string, b: string) => `%${a}${b.toLowerCase()}`);
const form = (s: string) => new URLSearchParams({ x: s }).toString().slice(2);

describe('redactSecrets covers every encoding of an http_basic credential', () => {
  it.each<[string, string]>([
    ['raw password', password],
    ['raw header', header],
    ['header, encodeURIComponent', encodeURIComponent(header)],
    ['header, lowercase %xx', lowerEscapes(encodeURIComponent(header))],
    ['header, mixed-case %xx', mixedEscapes(encodeURIComponent(header))],
    ['header, form-encoded (+ for space)', form(header)],
    ['header, encodeURI', encodeURI(header)],
    ['pair, padded base64', pair],
    ['pair, unpadded', pair.replace(/=+$/, '')],
    ['pair, base64url', pair.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')],
    ['pair, URL-encoded', encodeURIComponent(pair)],
    ['password, encodeURIComponent', encodeURIComponent(password)],
    ['password, lowercase %xx', lowerEscapes(encodeURIComponent(password))],
    ['password, form-encoded', form(password)],
    ['password, base64 padded', b64(password)],
    ['password, base64 unpadded', b64(password).replace(/=+$/, '')],
    ['password, base64url', b64url(password)],
    ['password, base64url padded', b64(password).replace(/\+/g, '-').replace(/\//g, '_')],
    ['password base64, URL-encoded', encodeURIComponent(b64(password))],
  ])('%s', (_, form) => {
    const echoed = { message: `you sent <${form}>`, [form]: [form] };
    const out = JSON.stringify(redactSecrets(echoed, secrets));
    expect(out).toContain('[REDACTED]');
    expect(out).not.toContain(form);
    expect(out).not.toContain(password);
    expect(out).not.toContain(pair.replace(/=+$/, ''));
  });

  it('leaves text that only looks alike', () => {
    expect(redactSecrets('alice is the username; Basic auth is used', secrets)).toBe('alice is the username; Basic auth is used');
  });

  it('ignores secrets shorter than 4 characters and walks nested values', () => {
    const value = { a: 'xx-s3cr3t-xx', b: ['s3cr3t', { c: 'abc s3cr3t' }], n: 1, z: null };
    expect(redactSecrets(value, ['s3cr3t', 'abc'])).toEqual({ a: 'xx-[REDACTED]-xx', b: ['[REDACTED]', { c: 'abc [REDACTED]' }], n: 1, z: null });
  });
});
