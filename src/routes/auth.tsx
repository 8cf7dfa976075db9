// Sign-in, sign-up and sign-out pages.
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { LoginPage, SignupPage } from '../../views/auth';
import { signIn, signUp } from '../auth/login';
import { hasAnyUser } from '../store/users';
import type { AppEnv, Deps } from '../env';
import { clientAddress, formString, safeNext } from './helpers';

/** Returns the sub-app for /login, /signup and /logout. */
export function authRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  const signupOpen = async () => deps.config.signup === 'open' || !(await hasAnyUser(deps.store));

  app.get('/login', async (c) => {
    if (c.get('user')) return c.redirect('/', 303);
    if (!(await hasAnyUser(deps.store))) return c.redirect('/signup', 303);
    return c.html(<LoginPage signupOpen={await signupOpen()} next={c.req.query('next')} notice={c.req.query('signed_out') ? 'You are signed out.' : undefined} />);
  });

  app.post('/login', async (c) => {
    const body = await c.req.parseBody();
    const username = formString(body, 'username');
    const next = safeNext(formString(body, 'next'));
    const result = await signIn(deps, username, formString(body, 'password'), clientAddress(c, deps.config.trustProxy), getCookie(c, deps.devices.name));
    if (result.ok) {
      c.header('Set-Cookie', result.cookie, { append: true });
      c.header('Set-Cookie', result.deviceCookie, { append: true });
      return c.redirect(next, 303);
    }
    const open = await signupOpen();
    if (result.reason === 'throttled') {
      c.header('Retry-After', String(result.retryAfter));
      const minutes = Math.ceil(result.retryAfter / 60);
      return c.html(<LoginPage signupOpen={open} username={username} errors={{ form: `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` }} />, 429);
    }
    return c.html(<LoginPage signupOpen={open} username={username} next={next} errors={{ form: 'That username and password do not match an account.' }} />, 401);
  });

  app.get('/signup', async (c) => {
    if (c.get('user')) return c.redirect('/', 303);
    if (!(await signupOpen())) return c.redirect('/login', 303);
    return c.html(<SignupPage signupOpen first={!(await hasAnyUser(deps.store))} />);
  });

  app.post('/signup', async (c) => {
    const body = await c.req.parseBody();
    const username = formString(body, 'username');
    const result = await signUp(deps, username, formString(body, 'password'));
    if (result.ok) {
      c.header('Set-Cookie', result.cookie, { append: true });
      c.header('Set-Cookie', result.deviceCookie, { append: true });
      return c.redirect('/', 303);
    }
    // Sign-up is closed: say so on the sign-in page rather than offering the same form again.
    if (result.errors.form) return c.html(<LoginPage signupOpen={false} errors={{ form: result.errors.form }} />, 403);
    return c.html(<SignupPage signupOpen first={!(await hasAnyUser(deps.store))} username={username} errors={result.errors} />, 400);
  });

  app.post('/logout', async (c) => {
    const sessionId = c.get('sessionId');
    if (sessionId) await deps.auth.invalidateSession(sessionId);
    c.header('Set-Cookie', deps.auth.blankCookie(), { append: true });
    return c.redirect('/login?signed_out=1', 303);
  });

  return app;
}
