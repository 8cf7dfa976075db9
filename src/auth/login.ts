// Signing in and up: password checks, throttling and the audit events they leave.
import { recordAudit } from '../store/audit';
import { createUser, findUserForLogin, hasAnyUser } from '../store/users';
import { normalizeUsername, validatePassword, validateUsername } from '../domain/names';
import type { Deps } from '../env';
import { hashPassword, verifyPassword } from './password';

export type SignInResult =
  | { ok: true; cookie: string; deviceCookie: string; user: { id: string; username: string } }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfter: number };

/**
 * Checks a username and password; starts a session on success. A browser with a device cookie for
 * this username is limited per that cookie only, so failures from elsewhere cannot lock its owner
 * out; any other client is throttled per account and per address.
 */
export async function signIn(deps: Deps, rawUsername: unknown, password: unknown, address: string, deviceCookie?: string): Promise<SignInResult> {
  const username = normalizeUsername(rawUsername);
  const device = deps.devices.verify(deviceCookie, username);
  const limits: [typeof deps.throttle.account, string][] = device
    ? [[deps.throttle.device, `d:${device}`]]
    : [[deps.throttle.account, `u:${username}`], [deps.throttle.address, `a:${address}`]];
  const wait = Math.max(...await Promise.all(limits.map(([throttle, key]) => throttle.retryAfter(key))));
  if (wait > 0) {
    deps.log.warn('sign-in throttled', { address, retryAfter: wait });
    return { ok: false, reason: 'throttled', retryAfter: wait };
  }
  const user = username ? await findUserForLogin(deps.store, username) : undefined;
  const pass = typeof password === 'string' ? password.slice(0, 1024) : '';
  const valid = (await verifyPassword(user?.passwordHash, pass)) && !!user && !user.disabled;
  if (!valid || !user) {
    for (const [throttle, key] of limits) await throttle.fail(key);
    // Never the password, and the typed name only when it is an account (people type passwords there).
    deps.log.warn('sign-in failed', { user: user?.username ?? null, reason: user?.disabled ? 'disabled' : user ? 'bad_password' : 'unknown_user', address, trustedDevice: !!device });
    await recordAudit(deps.store, {
      actor: user ? { id: user.id, username: user.username } : null,
      workspace: null,
      action: 'user.login_failed',
      // Only a real account is named: a typed name that matches nobody may be a password.
      target: user ? `user:${user.username}` : null,
      outcome: 'failure',
      details: { reason: user?.disabled ? 'disabled' : user ? 'bad_credentials' : 'unknown_user' },
    });
    return { ok: false, reason: 'invalid' };
  }
  // Success clears only the counter that was checked: the owner signing in on a trusted device
  // must not hand an attacker elsewhere a fresh set of guesses.
  await limits[0][0].reset(limits[0][1]);
  const cookie = await deps.auth.createSession(user.id);
  await recordAudit(deps.store, { actor: { id: user.id, username: user.username }, workspace: null, action: 'user.login', target: `user:${user.username}` });
  return { ok: true, cookie, deviceCookie: deps.devices.issue(user.username), user: { id: user.id, username: user.username } };
}

export type SignUpResult =
  | { ok: true; cookie: string; deviceCookie: string }
  | { ok: false; errors: { username?: string; password?: string; form?: string } };

/** Creates an account (the first one becomes instance admin) and starts its session. */
export async function signUp(deps: Deps, rawUsername: unknown, password: unknown): Promise<SignUpResult> {
  const username = normalizeUsername(rawUsername);
  const pass = typeof password === 'string' ? password : '';
  // Closed sign-up refuses before looking at the input, so the answer is the same for everyone.
  const closed = deps.config.signup === 'closed';
  if (closed && (await hasAnyUser(deps.store))) return { ok: false, errors: { form: 'Sign-up is closed on this instance. Ask an administrator for an account.' } };
  const errors: { username?: string; password?: string } = {};
  const usernameError = validateUsername(username);
  if (usernameError) errors.username = usernameError;
  const passwordError = validatePassword(pass);
  if (passwordError) errors.password = passwordError;
  if (errors.username || errors.password) return { ok: false, errors };
  const result = await createUser(deps.store, { username, passwordHash: await hashPassword(pass), onlyIfFirst: closed }, { actor: null, action: 'user.signup' });
  if (!result.ok) {
    return result.reason === 'username_taken'
      ? { ok: false, errors: { username: 'That username is taken. Pick another one.' } }
      : { ok: false, errors: { form: 'Sign-up is closed on this instance. Ask an administrator for an account.' } };
  }
  return { ok: true, cookie: await deps.auth.createSession(result.user.id), deviceCookie: deps.devices.issue(result.user.username) };
}
