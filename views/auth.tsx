// Sign-in and sign-up pages.
import { AuthPage } from './layout';
import { Banner, Field } from './ui';

export type AuthFormProps = {
  username?: string;
  errors?: { username?: string; password?: string; form?: string };
  next?: string;
  signupOpen: boolean;
  notice?: string;
};

/** The sign-in page (GET /login). */
export function LoginPage(props: AuthFormProps) {
  return (
    <AuthPage title="Sign in">
      <h1>Sign in</h1>
      {props.notice ? <Banner tone="success">{props.notice}</Banner> : null}
      {props.errors?.form ? <Banner tone="danger">{props.errors.form}</Banner> : null}
      <form method="post" action="/login" class="stack">
        <input type="hidden" name="next" value={props.next ?? ''} />
        <Field label="Username" name="username" error={props.errors?.username}>
          <input id="f-username" name="username" autocomplete="username" required value={props.username ?? ''} autofocus />
        </Field>
        <Field label="Password" name="password" error={props.errors?.password}>
          <input id="f-password" name="password" type="password" autocomplete="current-password" required />
        </Field>
        <button class="btn btn-primary btn-block" type="submit">
          Sign in
        </button>
      </form>
      {props.signupOpen ? (
        <p class="auth-switch">
          New here? <a href="/signup">Create an account</a>
        </p>
      ) : (
        <p class="auth-switch muted">Accounts are created by your Latchkey administrator.</p>
      )}
    </AuthPage>
  );
}

/** The sign-up page (GET /signup). */
export function SignupPage(props: AuthFormProps & { first: boolean }) {
  return (
    <AuthPage title="Sign up">
      <h1>Create your account</h1>
      {props.first ? (
        <Banner tone="info" title="You are the first person here">
          This account becomes the instance administrator.
        </Banner>
      ) : null}
      {props.errors?.form ? <Banner tone="danger">{props.errors.form}</Banner> : null}
      <form method="post" action="/signup" class="stack">
        <Field label="Username" name="username" error={props.errors?.username} help="Lowercase letters, digits, “.”, “_” or “-”.">
          <input id="f-username" name="username" autocomplete="username" required value={props.username ?? ''} autofocus />
        </Field>
        <Field label="Password" name="password" error={props.errors?.password} help="At least 12 characters. A passphrase works well.">
          <input id="f-password" name="password" type="password" autocomplete="new-password" required minlength={12} maxlength={256} />
        </Field>
        <button class="btn btn-primary btn-block" type="submit">
          Sign up
        </button>
      </form>
      <p class="auth-switch">
        Already have an account? <a href="/login">Sign in</a>
      </p>
    </AuthPage>
  );
}
