// The OAuth providers Latchkey knows: their endpoints (overridable per app for self-hosted
// servers), the credential type a connected account becomes, and the provider's own user call
// that names the account (`Connected as @alice`). One entry per provider; nothing else decides these.

export const PROVIDERS = ['github', 'gitlab', 'atlassian', 'slack', 'oauth2'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** How to ask the provider who the token belongs to: a path on the app's base_url (or its origin). */
type UserCall = { method: 'GET' | 'POST'; path: string; onOrigin?: boolean; account(body: unknown): string | undefined };

export type ProviderDef = {
  label: string;
  /** The credential type a connected account is saved as. */
  credentialType: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  baseUrl?: string;
  scopes: string;
  /** Extra query parameters the authorize URL needs. */
  authorizeParams?: Record<string, string>;
  userCall?: UserCall;
};

const str = (body: unknown, key: string): string | undefined => {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' && v ? v : undefined;
};

export const PROVIDER_DEFS: Record<Provider, ProviderDef> = {
  github: {
    label: 'GitHub',
    credentialType: 'github',
    authorizeUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    baseUrl: 'https://api.github.com',
    scopes: 'repo read:user',
    userCall: { method: 'GET', path: '/user', account: (b) => str(b, 'login') },
  },
  gitlab: {
    label: 'GitLab',
    credentialType: 'gitlab',
    authorizeUrl: 'https://gitlab.com/oauth/authorize',
    tokenUrl: 'https://gitlab.com/oauth/token',
    baseUrl: 'https://gitlab.com',
    scopes: 'api read_user',
    userCall: { method: 'GET', path: '/api/v4/user', account: (b) => str(b, 'username') },
  },
  atlassian: {
    label: 'Atlassian (Jira)',
    credentialType: 'jira',
    authorizeUrl: 'https://auth.atlassian.com/authorize',
    tokenUrl: 'https://auth.atlassian.com/oauth/token',
    baseUrl: 'https://api.atlassian.com',
    scopes: 'read:jira-work write:jira-work read:jira-user read:me offline_access',
    authorizeParams: { audience: 'api.atlassian.com', prompt: 'consent' },
    // /me lives at the API's root, not under a site's /ex/jira/<cloud id> base_url.
    userCall: { method: 'GET', path: '/me', onOrigin: true, account: (b) => str(b, 'nickname') ?? str(b, 'email') ?? str(b, 'name') },
  },
  slack: {
    label: 'Slack',
    credentialType: 'slack',
    authorizeUrl: 'https://slack.com/oauth/v2/authorize',
    tokenUrl: 'https://slack.com/api/oauth.v2.access',
    baseUrl: 'https://slack.com',
    scopes: 'chat:write',
    userCall: { method: 'POST', path: '/api/auth.test', account: (b) => ((b as { ok?: unknown })?.ok === true ? str(b, 'user') : undefined) },
  },
  oauth2: { label: 'OAuth 2 service', credentialType: 'http_bearer', scopes: '' },
};

/** Returns the provider's definition, or undefined for an unknown name. */
export function providerDef(name: string): ProviderDef | undefined {
  return (PROVIDERS as readonly string[]).includes(name) ? PROVIDER_DEFS[name as Provider] : undefined;
}

/** Returns the URL of the provider's user call for an app with this base_url. */
export function userCallUrl(call: UserCall, baseUrl: string): string {
  return call.onOrigin ? `${new URL(baseUrl).origin}${call.path}` : `${baseUrl.replace(/\/+$/, '')}${call.path}`;
}
