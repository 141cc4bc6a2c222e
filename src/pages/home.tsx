/** @jsxImportSource hono/jsx */
/**
 * The worker's root page (`GET /`): `npm run dev` prints this URL, so it says
 * what gatehouse is and where to go: sign-in, the account page, and the
 * documents a backend needs. No forms, no scripts, nothing about the visitor.
 */
import { en, type Messages } from "../i18n/en";
import { Layout } from "./layout";

/** @example <HomePage /> */
export function HomePage(props: { t?: Messages } = {}) {
  const t = props.t ?? en;
  return (
    <Layout title={t.home.title} t={t}>
      <h1>gatehouse</h1>
      <p>{t.home.intro}</p>
      <a class="button" href="/auth/signin">
        {t.home.signIn}
      </a>
      <a class="button" href="/account">
        {t.home.account}
      </a>
      <h2>{t.home.developers}</h2>
      <ul>
        <li>
          <a href="/.well-known/openid-configuration">OpenID configuration</a>: {t.home.openid}
        </li>
        <li>
          <a href="/.well-known/jwks.json">JWKS</a>: {t.home.jwks}
        </li>
        <li>
          <a href="/health">Health</a>: {t.home.health}
        </li>
      </ul>
      <p class="muted">
        {t.home.operators}
      </p>
    </Layout>
  );
}
