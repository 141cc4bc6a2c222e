/** @jsxImportSource hono/jsx */
/**
 * The sign-in page: one plain link per enabled provider, so it works with
 * JavaScript off (the CSP forbids script anyway). hono/jsx escapes every
 * value; `redirect_to` is already validated when it gets here.
 */
import { Layout } from "./layout";

export interface SignInPageProps {
  providers: readonly { id: string; name: string }[];
  /** Validated absolute URL, or null for the default. */
  redirectTo: string | null;
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
  return (
    <Layout title="Sign in">
      <h1>Sign in</h1>
      {props.providers.length === 0 ? (
        <p class="muted">No sign-in provider is configured yet.</p>
      ) : (
        <nav aria-label="Sign-in providers">
          {props.providers.map((p) => (
            <a class="button" href={signInHref(p.id, props.redirectTo)}>
              Continue with {p.name}
            </a>
          ))}
        </nav>
      )}
    </Layout>
  );
}
