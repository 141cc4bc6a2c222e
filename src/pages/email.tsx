/** @jsxImportSource hono/jsx */
/**
 * Email sign-in pages: the address form, and the code form that a typed code
 * and an emailed link both end on. A link only fills in the code: a person
 * (not a mail scanner fetching links) presses the button, which POSTs.
 * Plain HTML forms: no script, CSP unchanged.
 */
import { Layout } from "./layout";

/** @example String(<EmailStartPage redirectTo={null} />) */
export function EmailStartPage(props: { redirectTo: string | null }) {
  return (
    <Layout title="Sign in with email">
      <h1>Sign in with email</h1>
      <p class="muted">We send a six-digit code and a sign-in link to your address.</p>
      <form method="post" action="/auth/email">
        <label for="email">Email address</label>
        <input id="email" name="email" type="email" autocomplete="email" required maxlength={320} />
        {props.redirectTo ? <input type="hidden" name="redirect_to" value={props.redirectTo} /> : null}
        <button class="button" type="submit">
          Send the code
        </button>
      </form>
      <p>
        <a href={props.redirectTo ? `/auth/signin?redirect_to=${encodeURIComponent(props.redirectTo)}` : "/auth/signin"}>Other ways to sign in</a>
      </p>
    </Layout>
  );
}

/**
 * The code form; `code` pre-filled when the person came through the emailed link.
 *
 * @example String(<EmailCodePage challenge="…" code={null} />)
 */
export function EmailCodePage(props: { challenge: string; code: string | null }) {
  const fromLink = props.code !== null;
  return (
    <Layout title={fromLink ? "Confirm sign-in" : "Enter your code"}>
      <h1>{fromLink ? "Confirm sign-in" : "Check your email"}</h1>
      <p class="muted">
        {fromLink
          ? "Press the button to finish signing in. This works only in the browser where you asked for the code."
          : "If the address can receive mail, a six-digit code is on its way. It expires in 10 minutes."}
      </p>
      <form method="post" action="/auth/email/verify">
        <input type="hidden" name="c" value={props.challenge} />
        <label for="code">Code</label>
        <input
          id="code"
          class="code"
          name="code"
          inputmode="numeric"
          autocomplete="one-time-code"
          pattern="[0-9]{6}"
          maxlength={6}
          required
          value={props.code ?? undefined}
        />
        <button class="button" type="submit">
          {fromLink ? "Sign in" : "Continue"}
        </button>
      </form>
      <p>
        <a href="/auth/email">Send a new code</a>
      </p>
    </Layout>
  );
}
