/** @jsxImportSource hono/jsx */
/**
 * Email sign-in pages: the address form, and the code form that a typed code
 * and an emailed link both end on. A link only fills in the code: a person
 * (not a mail scanner fetching links) presses the button, which POSTs.
 * Plain HTML forms: no script, CSP unchanged.
 */
import { en, type Messages } from "../i18n/en";
import { Layout } from "./layout";

/** @example String(<EmailStartPage redirectTo={null} />) */
export function EmailStartPage(props: { redirectTo: string | null; t?: Messages }) {
  const t = props.t ?? en;
  return (
    <Layout title={t.email.startTitle} t={t}>
      <h1>{t.email.startTitle}</h1>
      <p class="muted">{t.email.startExplain}</p>
      <form method="post" action="/auth/email">
        <label for="email">{t.email.address}</label>
        <input id="email" name="email" type="email" autocomplete="email" required maxlength={320} />
        {props.redirectTo ? <input type="hidden" name="redirect_to" value={props.redirectTo} /> : null}
        <button class="button" type="submit">
          {t.email.send}
        </button>
      </form>
      <p>
        <a href={props.redirectTo ? `/auth/signin?redirect_to=${encodeURIComponent(props.redirectTo)}` : "/auth/signin"}>{t.email.otherWays}</a>
      </p>
    </Layout>
  );
}

/**
 * The code form; `code` pre-filled when the person came through the emailed link.
 * `redirectTo` (already validated) is kept by the "send a new code" link.
 *
 * @example String(<EmailCodePage challenge="…" code={null} redirectTo={null} />)
 */
export function EmailCodePage(props: { challenge: string; code: string | null; redirectTo?: string | null; t?: Messages }) {
  const t = props.t ?? en;
  const fromLink = props.code !== null;
  return (
    <Layout title={fromLink ? t.email.confirmTitle : t.email.enterTitle} t={t}>
      <h1>{fromLink ? t.email.confirmTitle : t.email.checkTitle}</h1>
      <p class="muted">
        {fromLink ? t.email.confirmExplain : t.email.checkExplain}
      </p>
      <form method="post" action="/auth/email/verify">
        <input type="hidden" name="c" value={props.challenge} />
        <label for="code">{t.email.code}</label>
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
          {fromLink ? t.email.signIn : t.email.continue}
        </button>
      </form>
      <p>
        <a href={props.redirectTo ? `/auth/email?redirect_to=${encodeURIComponent(props.redirectTo)}` : "/auth/email"}>{t.email.newCode}</a>
      </p>
    </Layout>
  );
}
