// Fake external services for tests: one real HTTP server on 127.0.0.1 (node:http, a free port)
// that answers like GitHub, GitLab, Jira, Confluence and Slack, plus a few plain test endpoints.
// Never a mock: Latchkey's outbound client really connects to it, so tests see exactly what went
// over the wire. The app refuses loopback unless allowed: create the app with
// `createTestApp({ env: { OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } })`.
//
//   const svc = await startFakeService({ tokens: { 'ghp_alice': 'alice' } });   // token → login
//   ... save a credential with base_url: svc.url and token 'ghp_alice' ...
//   expect(svc.requests.at(-1)).toMatchObject({ method: 'GET', path: '/user' });
//   await svc.close();                                                          // in afterEach
//
// `tokens` maps a secret the service accepts to the account it belongs to (the login). Any other
// secret, or none, is refused the way the real service refuses it.
//
// Endpoints (base_url = svc.url for every type; the paths do not clash):
//
//   GitHub      Authorization: Bearer <token>
//     GET  /user                          200 {login, id} | 401 {message:'Bad credentials'}
//     GET  /user/repos                    200 [{id, name, full_name, private}]
//     POST /repos/:owner/:repo/issues     201 {number, title, body, html_url} (JSON body {title, body})
//   GitLab      PRIVATE-TOKEN: <token>
//     GET  /api/v4/user                   200 {id, username} | 401 {message:'401 Unauthorized'}
//     GET  /api/v4/projects               200 [{id, name, path_with_namespace}]
//   Jira        Authorization: Basic base64(email:api_token), api_token a known token
//     GET  /rest/api/3/myself             200 {emailAddress: email, displayName: login, accountId} | 401
//     GET  /rest/api/3/search/jql?jql=    200 {issues:[{key, fields:{summary}}], jql}
//     POST /rest/api/3/issue              201 {id, key} (key is <project>-<n>)
//   Confluence  as Jira
//     GET  /wiki/rest/api/user/current    200 {emailAddress: email, email, displayName: login, publicName} | 401
//     GET  /wiki/rest/api/search?cql=     200 {results:[…], cql}
//   Slack       Authorization: Bearer <token>; always HTTP 200
//     POST /api/auth.test                 {ok:true, user: login, team} | {ok:false, error:'invalid_auth'}
//     POST /api/chat.postMessage          {ok:true, channel, ts, message:{text}} | {ok:false, error:'invalid_auth'}
//   Plain (no authentication)
//     ANY  /echo[/N][/anything][?status=N]
//                                         N (default 200) with JSON of the request's headers (lowercase
//                                         names; authorization, private-token and x-* first, so a short
//                                         summary of the body still shows them). A base_url of
//                                         svc.url + '/echo/401' makes any type's Test connection show
//                                         the headers it sent: proves a secret comes back [REDACTED]
//     ANY  /boom[/anything]               500 {message:'Internal Server Error'} (usable as a base_url)
//     GET  /redirect-to?url=U[&status=N]  N (default 302) with Location: U
//     GET  /status/:code                  that status with {status: code}
//     GET  /slow?ms=N                     waits N ms (default 1000), then 200 {slept: N}
//     GET  /big?bytes=N                   200 text/plain of N bytes (for the response size cap)
//   Anything else                         404 {message:'Not Found'}
//
// Every request is recorded, in order, in `requests` as {method, path (no query), query, url (as
// sent, with query), headers (lowercase names), body (text), json (parsed body or undefined)}, so a
// test can assert what Latchkey sent, or that it sent nothing (`requests.length === 0`).
//
// `headers` (initially empty) is added to every answer: set e.g. svc.headers['X-RateLimit-Remaining']
// = '42' or svc.headers['GitHub-Authentication-Token-Expiration'] = '2026-12-31 08:00:00 UTC' to
// answer like a service that reports its budget or a token's end.
//
// closedPortUrl() returns an http://127.0.0.1:<port> where nothing listens (for "unreachable").
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type RecordedRequest = {
  method: string;
  /** The path without the query string, e.g. '/rest/api/3/search/jql'. */
  path: string;
  query: Record<string, string>;
  /** The request target as sent, with the query string. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: unknown;
};

export type FakeService = {
  /** http://127.0.0.1:<port>, to use as a credential's base_url. */
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Headers added to every answer (tests set and clear them). */
  headers: Record<string, string>;
  close(): Promise<void>;
};

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

/** Starts the fake service on 127.0.0.1 and a free port. */
export async function startFakeService(opts: { tokens?: Record<string, string> } = {}): Promise<FakeService> {
  const tokens = new Map(Object.entries(opts.tokens ?? {}));
  const requests: RecordedRequest[] = [];
  const extraHeaders: Record<string, string> = {};
  let issueNumber = 0;

  const bearer = (h: http.IncomingHttpHeaders): string | null => {
    const m = /^Bearer\s+(.+)$/i.exec(h.authorization ?? '');
    return m && tokens.has(m[1]) ? tokens.get(m[1])! : null;
  };
  const basic = (h: http.IncomingHttpHeaders): { email: string; login: string } | null => {
    const m = /^Basic\s+(.+)$/i.exec(h.authorization ?? '');
    if (!m) return null;
    const pair = Buffer.from(m[1], 'base64').toString('utf8');
    const i = pair.indexOf(':');
    if (i < 0) return null;
    const [email, token] = [pair.slice(0, i), pair.slice(i + 1)];
    return tokens.has(token) ? { email, login: tokens.get(token)! } : null;
  };
  const privateToken = (h: http.IncomingHttpHeaders): string | null => {
    const t = h['private-token'];
    return typeof t === 'string' && tokens.has(t) ? tokens.get(t)! : null;
  };

  const githubDenied: Reply = { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } };
  const atlassianDenied: Reply = { status: 401, body: { message: 'Client must be authenticated to access this resource.' } };
  const slackDenied: Reply = { status: 200, body: { ok: false, error: 'invalid_auth' } };

  async function route(r: RecordedRequest): Promise<Reply> {
    const { method, path, query, headers } = r;
    const body = (r.json ?? {}) as Record<string, unknown>;
    let m: RegExpExecArray | null;

    // Plain test endpoints
    if ((m = /^\/echo(?:\/(\d{3}))?(?:\/.*)?$/.exec(path))) return { status: Number(query.status) || Number(m[1]) || 200, body: credentialHeadersFirst(headers) };
    if (path === '/boom' || path.startsWith('/boom/')) return { status: 500, body: { message: 'Internal Server Error' } };
    if (path === '/redirect-to') return { status: Number(query.status) || 302, headers: { Location: query.url ?? '/' }, body: { redirect: query.url ?? '/' } };
    if ((m = /^\/status\/(\d{3})$/.exec(path))) return { status: Number(m[1]), body: { status: Number(m[1]) } };
    if (path === '/slow') {
      const ms = Number(query.ms) || 1000;
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { status: 200, body: { slept: ms } };
    }
    if (path === '/big') return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'x'.repeat(Number(query.bytes) || 0) };

    // GitHub
    if (method === 'GET' && path === '/user') {
      const login = bearer(headers);
      return login ? { status: 200, body: { login, id: 1000 + [...tokens.values()].indexOf(login), type: 'User' } } : githubDenied;
    }
    if (method === 'GET' && path === '/user/repos') {
      const login = bearer(headers);
      if (!login) return githubDenied;
      return { status: 200, body: [1, 2].map((i) => ({ id: i, name: `repo-${i}`, full_name: `${login}/repo-${i}`, private: i === 2 })) };
    }
    if (method === 'POST' && (m = /^\/repos\/([^/]+)\/([^/]+)\/issues$/.exec(path))) {
      if (!bearer(headers)) return githubDenied;
      issueNumber++;
      return { status: 201, body: { number: issueNumber, title: body.title ?? null, body: body.body ?? null, html_url: `https://github.com/${m[1]}/${m[2]}/issues/${issueNumber}` } };
    }

    // GitLab
    if (method === 'GET' && path === '/api/v4/user') {
      const login = privateToken(headers);
      return login ? { status: 200, body: { id: 2000, username: login, name: login } } : { status: 401, body: { message: '401 Unauthorized' } };
    }
    if (method === 'GET' && path === '/api/v4/projects') {
      const login = privateToken(headers);
      return login ? { status: 200, body: [{ id: 1, name: 'demo', path_with_namespace: `${login}/demo` }] } : { status: 401, body: { message: '401 Unauthorized' } };
    }

    // Jira
    if (method === 'GET' && path === '/rest/api/3/myself') {
      const who = basic(headers);
      return who ? { status: 200, body: { accountId: `acc-${who.login}`, emailAddress: who.email, displayName: who.login, active: true } } : atlassianDenied;
    }
    if (method === 'GET' && path === '/rest/api/3/search/jql') {
      if (!basic(headers)) return atlassianDenied;
      return { status: 200, body: { jql: query.jql ?? '', issues: [{ id: '10001', key: 'DEMO-1', fields: { summary: 'First issue' } }] } };
    }
    if (method === 'POST' && path === '/rest/api/3/issue') {
      if (!basic(headers)) return atlassianDenied;
      issueNumber++;
      const fields = (body.fields ?? {}) as { project?: { key?: string } };
      return { status: 201, body: { id: String(10000 + issueNumber), key: `${fields.project?.key ?? 'DEMO'}-${issueNumber}` } };
    }

    // Confluence
    if (method === 'GET' && path === '/wiki/rest/api/user/current') {
      const who = basic(headers);
      return who ? { status: 200, body: { type: 'known', accountId: `acc-${who.login}`, emailAddress: who.email, email: who.email, displayName: who.login, publicName: who.login } } : atlassianDenied;
    }
    if (method === 'GET' && path === '/wiki/rest/api/search') {
      if (!basic(headers)) return atlassianDenied;
      return { status: 200, body: { cql: query.cql ?? '', results: [{ content: { id: '1', type: 'page', title: 'Home' } }] } };
    }

    // Slack
    if (method === 'POST' && path === '/api/auth.test') {
      const login = bearer(headers);
      return login ? { status: 200, body: { ok: true, user: login, user_id: `U-${login}`, team: 'Fake Team' } } : slackDenied;
    }
    if (method === 'POST' && path === '/api/chat.postMessage') {
      if (!bearer(headers)) return slackDenied;
      return { status: 200, body: { ok: true, channel: body.channel ?? null, ts: `${Date.now() / 1000}`, message: { text: body.text ?? null } } };
    }

    return { status: 404, body: { message: 'Not Found' } };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = new URL(req.url ?? '/', 'http://fake.invalid');
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: target.pathname,
        query: Object.fromEntries(target.searchParams),
        url: req.url ?? '/',
        headers: { ...req.headers },
        body: text,
        json,
      };
      requests.push(recorded);
      route(recorded).then(
        (reply) => {
          const isText = typeof reply.body === 'string';
          const payload = reply.body === undefined ? '' : isText ? (reply.body as string) : JSON.stringify(reply.body);
          res.writeHead(reply.status, { 'Content-Type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', ...extraHeaders, ...reply.headers });
          res.end(payload);
        },
        (err: Error) => {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(`fake service error: ${err.message}`);
        },
      );
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    headers: extraHeaders,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The request's headers with the ones that carry credentials first. */
function credentialHeadersFirst(headers: http.IncomingHttpHeaders): Record<string, unknown> {
  const rank = (k: string) => (k === 'authorization' ? 0 : k === 'private-token' ? 1 : k.startsWith('x-') ? 2 : 3);
  return Object.fromEntries(Object.entries(headers).sort(([a], [b]) => rank(a) - rank(b)));
}

/** Returns http://127.0.0.1:<port> for a port nothing listens on (it was free a moment ago). */
export async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
