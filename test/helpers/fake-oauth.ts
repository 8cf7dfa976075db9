// A fake OAuth 2 authorization server and the service it guards, for connected-account tests: one
// real HTTP server on 127.0.0.1 (a free port). Latchkey's outbound client really connects to it.
//
//   const op = await startFakeOAuth({ login: 'alice', expiresIn: 3600 });
//   GET  /authorize   checks client_id, redirect_uri, S256 challenge; redirects back with code+state
//                     (mode 'consent': an HTML page with an Approve link that does the same)
//   POST /token       authorization_code (checks secret, code, verifier) and refresh_token grants;
//                     every refresh rotates the refresh token (the old one is then invalid_grant);
//                     `op.expiresIn` (null: no expires_in), `op.refreshToken` (false: no refresh
//                     token issued), `op.refreshTokenExpiresIn` (GitHub Apps' refresh_token_expires_in), `op.refuse` ('invalid_grant' answers 400,
//                     'github' answers 200 {error}), `op.fail5xx`, `op.slowMs` change its behaviour
//   GET  /user        the service: 200 {login} for the CURRENT access token only, else 401
//                     (with `op.tokenExpirationHeader`, GitHub's GitHub-Authentication-Token-Expiration)
//
// `op.refreshes` counts refresh grants that succeeded; `op.issued` every token it handed out (canaries).
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export type FakeOAuth = Awaited<ReturnType<typeof startFakeOAuth>>;

/** Starts the fake provider; close() it in afterEach. */
export async function startFakeOAuth(opts: { login?: string; clientId?: string; clientSecret?: string; expiresIn?: number | null; refreshToken?: boolean; refreshTokenExpiresIn?: number | null; consent?: boolean } = {}) {
  const clientId = opts.clientId ?? 'fake-client';
  const clientSecret = opts.clientSecret ?? 'canary-client-secret-9d1e';
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const state = {
    url: '',
    login: opts.login ?? 'alice',
    expiresIn: opts.expiresIn === undefined ? 3600 : opts.expiresIn,
    refreshToken: opts.refreshToken ?? true,
    refreshTokenExpiresIn: opts.refreshTokenExpiresIn ?? (null as number | null),
    tokenExpirationHeader: null as string | null,
    refuse: null as null | 'invalid_grant' | 'github',
    fail5xx: false,
    slowMs: 0,
    consent: !!opts.consent,
    refreshes: 0,
    tokenCalls: 0,
    serviceCalls: 0,
    access: null as string | null,
    refresh: null as string | null,
    issued: [] as string[],
    clientId,
    clientSecret,
  };
  const token = (prefix: string) => {
    const t = `${prefix}-${randomBytes(12).toString('hex')}`;
    state.issued.push(t);
    return t;
  };
  const issue = () => {
    state.access = token('canary-at');
    state.refresh = state.refreshToken ? token('canary-rt') : null;
    return {
      access_token: state.access,
      token_type: 'bearer',
      ...(state.refresh ? { refresh_token: state.refresh } : {}),
      ...(state.expiresIn === null ? {} : { expires_in: state.expiresIn }),
      ...(state.refresh && state.refreshTokenExpiresIn !== null ? { refresh_token_expires_in: state.refreshTokenExpiresIn } : {}),
    };
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', state.url);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    if (url.pathname === '/authorize') {
      const q = url.searchParams;
      if (q.get('client_id') !== clientId || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge') || !q.get('state')) return json(res, 400, { error: 'invalid_request' });
      const code = randomBytes(12).toString('hex');
      codes.set(code, { challenge: q.get('code_challenge')!, redirectUri: q.get('redirect_uri')! });
      const back = new URL(q.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state')!);
      if (state.consent && q.get('approved') !== '1') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        return res.end(`<!doctype html><html lang="en"><head><title>Fake provider</title></head><body><main><h1>Authorize Latchkey?</h1><p>Latchkey wants to act as ${state.login}.</p><a id="approve" href="${back.toString().replace(/&/g, '&amp;')}">Approve</a></main></body></html>`);
      }
      res.writeHead(302, { Location: back.toString() });
      return res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      state.tokenCalls++;
      if (state.slowMs) await new Promise((r) => setTimeout(r, state.slowMs));
      if (state.fail5xx) return json(res, 503, { error: 'temporarily_unavailable' });
      if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) return json(res, 401, { error: 'invalid_client' });
      if (form.get('grant_type') === 'authorization_code') {
        const c = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (!c || c.challenge !== challenge || c.redirectUri !== form.get('redirect_uri')) return json(res, 400, { error: 'invalid_grant' });
        return json(res, 200, issue());
      }
      if (form.get('grant_type') === 'refresh_token') {
        if (state.refuse === 'github') return json(res, 200, { error: 'bad_refresh_token', error_description: 'The refresh token passed is incorrect or expired.' });
        if (state.refuse === 'invalid_grant' || form.get('refresh_token') !== state.refresh) return json(res, 400, { error: 'invalid_grant' });
        state.refreshes++;
        return json(res, 200, issue());
      }
      return json(res, 400, { error: 'unsupported_grant_type' });
    }
    if (url.pathname === '/user') {
      state.serviceCalls++;
      if (!state.access || req.headers.authorization !== `Bearer ${state.access}`) return json(res, 401, { message: 'Bad credentials' });
      if (state.tokenExpirationHeader) res.setHeader('GitHub-Authentication-Token-Expiration', state.tokenExpirationHeader);
      return json(res, 200, { login: state.login, id: 1 });
    }
    if (url.pathname === '/favicon.ico') return res.writeHead(204).end(); // the consent page's browser asks
    json(res, 404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    /** Makes the current access token invalid (the provider revoked or expired it early). */
    expireAccessToken() {
      state.access = token('canary-at-revoked');
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
