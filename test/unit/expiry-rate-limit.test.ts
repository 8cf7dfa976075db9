// The two pure readers of time-bound facts, as tables: expiryOf (the one rule for "soon" and
// "expired", on the app clock), parseExpiry (what people type and GitHub reports) and
// parseRateLimit (GitHub's X-RateLimit-*, the IETF RateLimit-*, Retry-After).
import { describe, expect, it } from 'vitest';
import { expiryOf, parseExpiry, EXPIRES_SOON_MS } from '../../src/domain/expiry';
import { parseRateLimit, rateLimitJson } from '../../src/domain/rate-limit';

const NOW = Date.parse('2026-12-01T12:00:00Z');

describe('expiryOf', () => {
  it.each([
    { name: 'unknown', at: null, word: 'none' },
    { name: 'a year away', at: NOW + 365 * 86_400_000, word: 'ok' },
    { name: 'just over seven days away', at: NOW + EXPIRES_SOON_MS + 1, word: 'ok' },
    { name: 'exactly seven days away', at: NOW + EXPIRES_SOON_MS, word: 'soon' },
    { name: 'one minute away', at: NOW + 60_000, word: 'soon' },
    { name: 'this very moment', at: NOW, word: 'expired' },
    { name: 'yesterday', at: NOW - 86_400_000, word: 'expired' },
  ])('$name → $word', ({ at, word }) => expect(expiryOf(at, NOW)).toBe(word));
});

describe('parseExpiry', () => {
  it.each([
    { text: '2026-12-31', iso: '2026-12-31T00:00:00.000Z' },
    { text: '2026-12-31T08:00:00Z', iso: '2026-12-31T08:00:00.000Z' },
    { text: '2026-12-31T08:00:00+02:00', iso: '2026-12-31T06:00:00.000Z' },
    { text: '2026-12-31 08:00:00 UTC', iso: '2026-12-31T08:00:00.000Z' },
    { text: '2026-12-31 08:00:00 +0200', iso: '2026-12-31T06:00:00.000Z' },
    { text: 'next tuesday', iso: null },
    { text: '2026-13-45', iso: null },
    { text: '', iso: null },
  ])('$text → $iso', ({ text, iso }) => {
    const ms = parseExpiry(text);
    expect(ms === null ? null : new Date(ms).toISOString()).toBe(iso);
  });
});

describe('parseRateLimit', () => {
  const resetEpoch = Math.floor(NOW / 1000) + 600;
  it.each([
    { name: 'no headers', headers: { 'content-type': 'application/json' }, json: null },
    {
      name: 'GitHub X-RateLimit-* (reset: epoch seconds)',
      headers: { 'x-ratelimit-remaining': '4999', 'x-ratelimit-limit': '5000', 'x-ratelimit-reset': String(resetEpoch) },
      json: { remaining: 4999, limit: 5000, reset_at: new Date(resetEpoch * 1000).toISOString() },
    },
    { name: 'header names in any case', headers: { 'X-RateLimit-Remaining': '12' }, json: { remaining: 12, limit: null, reset_at: null } },
    {
      name: 'IETF RateLimit-* (reset: seconds from now)',
      headers: { 'ratelimit-remaining': '7', 'ratelimit-limit': '100', 'ratelimit-reset': '30' },
      json: { remaining: 7, limit: 100, reset_at: new Date(NOW + 30_000).toISOString() },
    },
    { name: 'IETF limit with a policy after the number', headers: { 'ratelimit-remaining': '0', 'ratelimit-limit': '100, 100;w=60' }, json: { remaining: 0, limit: 100, reset_at: null } },
    { name: 'Retry-After seconds alone: nothing left until then', headers: { 'retry-after': '120' }, json: { remaining: 0, limit: null, reset_at: new Date(NOW + 120_000).toISOString() } },
    { name: 'Retry-After as an HTTP date', headers: { 'retry-after': 'Tue, 01 Dec 2026 12:05:00 GMT' }, json: { remaining: 0, limit: null, reset_at: '2026-12-01T12:05:00.000Z' } },
    { name: 'Retry-After unreadable: no budget', headers: { 'retry-after': 'soon-ish' }, json: null },
    { name: 'a remaining count that is not a number: no budget', headers: { 'x-ratelimit-remaining': 'lots' }, json: null },
    {
      name: 'X-RateLimit without reset takes Retry-After for it',
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-limit': '60', 'retry-after': '60' },
      json: { remaining: 0, limit: 60, reset_at: new Date(NOW + 60_000).toISOString() },
    },
  ])('$name', ({ headers, json }) => {
    const r = parseRateLimit(headers, NOW);
    expect(r === null ? null : rateLimitJson(r)).toEqual(json);
  });
});
