/** @jsxImportSource hono/jsx */
/**
 * The sign-in page: one plain link per enabled provider, so it works with
 * JavaScript off and from the keyboard (the CSP forbids script anyway).
 * hono/jsx escapes every value; `redirect_to` is already validated when it
 * gets here. A signed-in visitor sees who they are, a way on (their app or
 * the account page) and a sign-out form.
 */
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
  return (
    <Layout title="Sign in">
      {who ? <SignedInBox who={who} redirectTo={props.redirectTo} /> : null}
      <h1>{who ? "Sign in as someone else" : "Sign in"}</h1>
      {props.email ? (
        <a class="button" href={props.redirectTo ? `/auth/email?redirect_to=${encodeURIComponent(props.redirectTo)}` : "/auth/email"}>
          <span>Continue with email</span>
        </a>
      ) : null}
      {props.providers.length === 0 && !props.email ? (
        <p class="muted">No sign-in provider is configured yet.</p>
      ) : (
        <nav aria-label="Sign-in providers">
          {props.providers.map((p) => (
            <a class="button" href={signInHref(p.id, props.redirectTo)}>
              <ProviderMark id={p.id} name={p.name} />
              <span>Continue with {p.name}</span>
            </a>
          ))}
        </nav>
      )}
      <p class="muted">
        <small>Signing in sets two cookies on this site, used only to keep you signed in.</small>
      </p>
    </Layout>
  );
}

function SignedInBox(props: { who: SignedInAs; redirectTo: string | null }) {
  const label = props.who.name ?? props.who.email ?? "your account";
  return (
    <section aria-label="Current session">
      <p>
        Signed in as <strong>{label}</strong>
        {props.who.email && props.who.name ? <span class="muted"> ({props.who.email})</span> : null}
      </p>
      {props.redirectTo ? (
        <a class="button" href={props.redirectTo}>
          Continue to {new URL(props.redirectTo).host}
        </a>
      ) : null}
      <p>
        <a href="/account">Your account</a>
      </p>
      <form method="post" action="/auth/signout" class="inline">
        <button class="button small" type="submit">
          Sign out
        </button>
      </form>
      <hr />
    </section>
  );
}
