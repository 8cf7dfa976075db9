// The one rule for a connected credential's expires_at (connectedSchedule), table-driven, with the
// token answers it reads (refresh_token_expires_in as GitHub Apps send it, form-encoded too).
import { describe, expect, it } from 'vitest';
import { connectedSchedule, readTokenAnswer, type TokenSet } from '../../src/connect/token-client';

const T = 1_800_000_000_000;
const tokens = (t: Partial<TokenSet>): TokenSet => ({ accessToken: 'at', refreshToken: null, expiresIn: null, refreshTokenExpiresIn: null, ...t });

describe('connectedSchedule', () => {
  const cases: { name: string; tokens: TokenSet; kept?: { keptRefresh: boolean; keptExpiresAt: number | null }; want: ReturnType<typeof connectedSchedule> }[] = [
    { name: 'refresh token, no expiries: renews itself, refreshed only on a 401', tokens: tokens({ refreshToken: 'rt' }), want: { tokenExpiresAt: null, tokenRefreshAt: null, expiresAt: null } },
    { name: 'refresh token and expires_in: refreshed ahead, the credential does not expire', tokens: tokens({ refreshToken: 'rt', expiresIn: 3600 }), want: { tokenExpiresAt: T + 3_600_000, tokenRefreshAt: T + 2_700_000, expiresAt: null } },
    { name: 'refresh_token_expires_in: the credential ends with its refresh token', tokens: tokens({ refreshToken: 'rt', expiresIn: 28800, refreshTokenExpiresIn: 15897600 }), want: { tokenExpiresAt: T + 28_800_000, tokenRefreshAt: T + 27_900_000, expiresAt: T + 15_897_600_000 } },
    { name: 'no refresh token, expires_in: the credential ends with its access token, no refresh ahead', tokens: tokens({ expiresIn: 3600 }), want: { tokenExpiresAt: T + 3_600_000, tokenRefreshAt: null, expiresAt: T + 3_600_000 } },
    { name: 'no refresh token, no expires_in: unknown', tokens: tokens({}), want: { tokenExpiresAt: null, tokenRefreshAt: null, expiresAt: null } },
    { name: 'a refresh that keeps the stored refresh token keeps its expiry', tokens: tokens({ expiresIn: 3600 }), kept: { keptRefresh: true, keptExpiresAt: T + 99 }, want: { tokenExpiresAt: T + 3_600_000, tokenRefreshAt: T + 2_700_000, expiresAt: T + 99 } },
    { name: 'a refresh that rotates the refresh token takes the new one’s expiry', tokens: tokens({ refreshToken: 'rt2', expiresIn: 3600, refreshTokenExpiresIn: 60 }), kept: { keptRefresh: true, keptExpiresAt: T + 99 }, want: { tokenExpiresAt: T + 3_600_000, tokenRefreshAt: T + 2_700_000, expiresAt: T + 60_000 } },
  ];
  for (const c of cases) it(c.name, () => expect(connectedSchedule(T, c.tokens, c.kept)).toEqual(c.want));
});

describe('readTokenAnswer: refresh_token_expires_in', () => {
  it('reads it from JSON and form-encoded answers, and only with a refresh token', () => {
    expect(readTokenAnswer({ access_token: 'a', refresh_token: 'r', expires_in: 28800, refresh_token_expires_in: 15897600 })).toEqual({ tokens: { accessToken: 'a', refreshToken: 'r', expiresIn: 28800, refreshTokenExpiresIn: 15897600 } });
    expect(readTokenAnswer('access_token=a&refresh_token=r&expires_in=28800&refresh_token_expires_in=15897600')).toEqual({ tokens: { accessToken: 'a', refreshToken: 'r', expiresIn: 28800, refreshTokenExpiresIn: 15897600 } });
    expect(readTokenAnswer({ access_token: 'a', refresh_token_expires_in: 100 })).toEqual({ tokens: { accessToken: 'a', refreshToken: null, expiresIn: null, refreshTokenExpiresIn: null } });
    expect(readTokenAnswer({ access_token: 'a', refresh_token: 'r', refresh_token_expires_in: 'soon' })).toEqual({ tokens: { accessToken: 'a', refreshToken: 'r', expiresIn: null, refreshTokenExpiresIn: null } });
  });
});
