/** @jsxImportSource hono/jsx */
/**
 * The worker's root page (`GET /`): `npm run dev` prints this URL, so it says
 * what gatehouse is and where to go: sign-in, the account page, and the
 * documents a backend needs. No forms, no scripts, nothing about the visitor.
 */
import { Layout } from "./layout";

/** @example <HomePage /> */
export function HomePage() {
  return (
    <Layout title="Sign-in service">
      <h1>gatehouse</h1>
      <p>This is a sign-in service. Applications send you here to sign in; you come back to them signed in.</p>
      <a class="button" href="/auth/signin">
        Sign in
      </a>
      <a class="button" href="/account">
        Your account: sign-in methods and sessions
      </a>
      <h2>For developers</h2>
      <ul>
        <li>
          <a href="/.well-known/openid-configuration">OpenID configuration</a>: the issuer and endpoints
        </li>
        <li>
          <a href="/.well-known/jwks.json">JWKS</a>: the public keys backends verify access tokens with
        </li>
        <li>
          <a href="/health">Health</a>: database and schema status
        </li>
      </ul>
      <p class="muted">
        Operators: the <code>docs/</code> folder of the gatehouse source explains deployment, sessions, organizations and every error code.
      </p>
    </Layout>
  );
}
