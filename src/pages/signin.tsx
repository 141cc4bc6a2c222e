/** @jsxImportSource hono/jsx */
/**
 * The sign-in page: one plain link per enabled provider, so it works with
 * JavaScript off and from the keyboard (the CSP forbids script anyway).
 * hono/jsx escapes every value; `redirect_to` is already validated when it
 * gets here. A signed-in visitor sees who they are, a way on (their app or
 * the account page) and a sign-out form.
 */
import { en, type Messages } from "../i18n/en";
import { Layout } from "./layout";
import { ProviderMark } from "./provider-mark";

export interface SignedInAs {
  name: string | null;
  email: string | null;
}

export interface SignInPageProps {
  providers: readonly { id: string; name: string }[];
  /** Validated absolute URL, or null for the default. */
  redirectTo: string | null;
  /** The current session's profile, or null when nobody is signed in. */
  signedIn?: SignedInAs | null;
  /** Email codes are enabled: offer `/auth/email`. */
  email?: boolean;
  /** Passkeys are enabled: the passkey script's absolute URL (routes/assets.ts). */
  passkeyScript?: string | undefined;
  /** The texts of the request's language (`i18n/`); English when absent. */
  t?: Messages;
}

/**
 * The link that starts a sign-in with one provider.
 *
 * @example
 * signInHref("github", "https://app.example.com/") // "/auth/signin/github?redirect_to=https%3A%2F%2Fapp.example.com%2F"
 */
export function signInHref(providerId: string, redirectTo: string | null): string {
  const path = `/auth/signin/${encodeURIComponent(providerId)}`;
  return redirectTo === null ? path : `${path}?redirect_to=${encodeURIComponent(redirectTo)}`;
}

/** @example String(<SignInPage providers={[{ id: "github", name: "GitHub" }]} redirectTo={null} />) */
export function SignInPage(props: SignInPageProps) {
  const who = props.signedIn ?? null;
  const t = props.t ?? en;
  return (
    <Layout title={t.signin.title} t={t} script={props.passkeyScript}>
      {who ? <SignedInBox who={who} redirectTo={props.redirectTo} t={t} /> : null}
      <h1>{who ? t.signin.titleSomeoneElse : t.signin.title}</h1>
      {props.email ? (
        <a class="button" href={props.redirectTo ? `/auth/email?redirect_to=${encodeURIComponent(props.redirectTo)}` : "/auth/email"}>
          <span>{t.signin.continueWithEmail}</span>
        </a>
      ) : null}
      {props.passkeyScript ? <PasskeySignIn redirectTo={props.redirectTo} t={t} /> : null}
      {props.providers.length === 0 && !props.email && !props.passkeyScript ? (
        <p class="muted">{t.signin.none}</p>
      ) : (
        <nav aria-label={t.signin.providersLabel}>
          {props.providers.map((p) => (
            <a class="button" href={signInHref(p.id, props.redirectTo)}>
              <ProviderMark id={p.id} name={p.name} />
              <span>{t.signin.continueWith(p.name)}</span>
            </a>
          ))}
        </nav>
      )}
      <p class="muted">
        <small>{t.signin.cookies}</small>
      </p>
    </Layout>
  );
}

/**
 * Passkey sign-in and sign-up: hidden until the passkey script finds WebAuthn
 * (without JavaScript the page shows only the other methods). The input lets
 * the browser offer its passkeys as autofill (`autocomplete="username webauthn"`).
 */
function PasskeySignIn(props: { redirectTo: string | null; t: Messages }) {
  const t = props.t;
  return (
    <section data-passkey-root data-autofill="true" data-redirect-to={props.redirectTo ?? undefined} data-working={t.passkeys.working} aria-label={t.passkeys.signinHeading} hidden>
      <label for="passkey-username">{t.passkeys.usernameLabel}</label>
      <input id="passkey-username" type="text" name="username" autocomplete="username webauthn" />
      <button class="button" type="button" data-passkey="signin" disabled>
        <span>{t.passkeys.signIn}</span>
      </button>
      <details>
        <summary>{t.passkeys.createHeading}</summary>
        <label for="passkey-display-name">{t.passkeys.displayName}</label>
        <input id="passkey-display-name" type="text" name="display_name" maxlength={64} autocomplete="name" />
        <button class="button" type="button" data-passkey="signup" disabled>
          <span>{t.passkeys.create}</span>
        </button>
      </details>
      <p role="status" class="muted" data-passkey-status></p>
      <hr />
    </section>
  );
}

function SignedInBox(props: { who: SignedInAs; redirectTo: string | null; t: Messages }) {
  const t = props.t;
  const label = props.who.name ?? props.who.email ?? t.signin.yourAccountFallback;
  return (
    <section aria-label={t.signin.currentSession}>
      <p>
        {t.signin.signedInAs} <strong>{label}</strong>
        {props.who.email && props.who.name ? <span class="muted"> ({props.who.email})</span> : null}
      </p>
      {props.redirectTo ? (
        <a class="button" href={props.redirectTo}>
          {t.signin.continueTo(new URL(props.redirectTo).host)}
        </a>
      ) : null}
      <p>
        <a href="/account">{t.common.yourAccount}</a>
      </p>
      <form method="post" action="/auth/signout" class="inline">
        <button class="button small" type="submit">
          {t.common.signOut}
        </button>
      </form>
      <hr />
    </section>
  );
}
