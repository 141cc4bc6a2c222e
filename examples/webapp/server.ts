/**
 * The example web app: a server-rendered application on ANOTHER SITE
 * (127.0.0.1, while gatehouse runs on localhost) that signs its users in
 * with gatehouse as its OAuth 2.1 authorization server / OpenID Provider:
 * a confidential client using oauth4webapi (authorization code + PKCE,
 * client_secret_basic), which checks `iss`, `state`, the nonce and the
 * id_token. It then calls the example API with the access token issued for
 * that API (RFC 8707 `resource`). Sessions live in memory; this is a demo.
 *
 *   GET /          signed in: who you are and what the API said; else a sign-in link
 *   GET /login     to gatehouse's /oauth/authorize
 *   GET /callback  the redirect URI: code exchange
 *   GET /logout    forgets the local session
 *
 * `npm run dev` registers it (scripts/dev.ts) and starts it; docs/oauth-server.md.
 */
import { serve } from "@hono/node-server";
import { Hono, type Context } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import { html } from "hono/html";
import * as oauth from "oauth4webapi";

export interface ExampleWebAppOptions {
  /** gatehouse's AUTH_URL: the issuer. */
  authUrl: string;
  /** This app's own origin, e.g. `http://127.0.0.1:5174`. */
  appUrl: string;
  clientId: string;
  clientSecret: string;
  /** The example API: the resource the access token is for. */
  apiUrl: string;
}

interface Pending {
  verifier: string;
  state: string;
  nonce: string;
}
interface Signed {
  sub: string;
  name: string | null;
  email: string | null;
  api: string;
}

/** http is allowed only because the development stack runs on localhost. */
const insecure = { [oauth.allowInsecureRequests]: true };

/**
 * The web app as a Hono app.
 *
 * @example
 * const app = createExampleWebApp({ authUrl, appUrl, clientId, clientSecret, apiUrl });
 */
export function createExampleWebApp(options: ExampleWebAppOptions): Hono {
  const issuer = new URL(options.authUrl);
  const client: oauth.Client = { client_id: options.clientId };
  const auth = oauth.ClientSecretBasic(options.clientSecret);
  const redirectUri = `${options.appUrl}/callback`;
  const pending = new Map<string, Pending>();
  const sessions = new Map<string, Signed>();
  let discovered: Promise<oauth.AuthorizationServer> | null = null;
  const server = () => {
    discovered ??= oauth
      .discoveryRequest(issuer, { algorithm: "oidc", ...insecure })
      .then((res) => oauth.processDiscoveryResponse(issuer, res))
      .catch((error: unknown) => {
        discovered = null;
        throw error;
      });
    return discovered;
  };
  const cookie = (c: Context, name: string, value: string) => setCookie(c, name, value, { path: "/", httpOnly: true, sameSite: "Lax" });

  const app = new Hono();
  app.get("/health", (c) => c.json({ ok: true }));
  app.get("/", (c) => {
    const signed = sessions.get(getCookie(c, "webapp_session") ?? "");
    return c.html(page(signed === undefined ? html`<p id="status">signed out</p><p><a href="/login">Sign in with gatehouse</a></p>` : html`
      <p id="status">signed in as <strong id="name">${signed.name ?? signed.sub}</strong></p>
      <p>Email: <span id="email">${signed.email ?? "(not shared)"}</span></p>
      <p>The API answered: <code id="api">${signed.api}</code></p>
      <p><a href="/logout">Sign out of this app</a></p>`));
  });
  app.get("/login", async (c) => {
    const as = await server();
    const tx: Pending = { verifier: oauth.generateRandomCodeVerifier(), state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce() };
    const id = crypto.randomUUID();
    pending.set(id, tx);
    cookie(c, "webapp_tx", id);
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: options.clientId,
      redirect_uri: redirectUri,
      response_type: "code",
      scope: "openid profile email offline_access",
      resource: options.apiUrl,
      code_challenge: await oauth.calculatePKCECodeChallenge(tx.verifier),
      code_challenge_method: "S256",
      state: tx.state,
      nonce: tx.nonce,
    }).toString();
    return c.redirect(url.href);
  });
  app.get("/callback", async (c) => {
    const as = await server();
    const id = getCookie(c, "webapp_tx") ?? "";
    const tx = pending.get(id);
    pending.delete(id);
    deleteCookie(c, "webapp_tx", { path: "/" });
    if (!tx) return c.html(page(html`<p id="status">error: no sign-in in progress</p>`), 400);
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(as, client, new URL(c.req.url, options.appUrl), tx.state);
    } catch (error) {
      const reason = error instanceof oauth.AuthorizationResponseError ? error.error : "invalid response";
      return c.html(page(html`<p id="status">not signed in: ${reason}</p><p><a href="/login">Try again</a></p>`), 400);
    }
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, tx.verifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: tx.nonce, requireIdToken: true });
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    const api = await fetch(new URL("/hello", options.apiUrl), { headers: { authorization: `Bearer ${tokens.access_token}` } });
    const session = crypto.randomUUID();
    sessions.set(session, {
      sub: claims.sub,
      name: typeof claims.name === "string" ? claims.name : null,
      email: typeof claims.email === "string" ? claims.email : null,
      api: `${api.status} ${await api.text()}`,
    });
    cookie(c, "webapp_session", session);
    return c.redirect("/");
  });
  app.get("/logout", (c) => {
    sessions.delete(getCookie(c, "webapp_session") ?? "");
    deleteCookie(c, "webapp_session", { path: "/" });
    return c.redirect("/");
  });
  return app;
}

function page(body: unknown) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example Web App</title></head>
<body style="font:16px system-ui;max-width:36rem;margin:3rem auto"><h1>Example Web App</h1>${body}</body></html>`;
}

/**
 * Listens on 127.0.0.1:`port`; resolves once listening.
 *
 * @example
 * const webapp = await startExampleWebApp({ port: 5174, authUrl, appUrl, clientId, clientSecret, apiUrl });
 */
export function startExampleWebApp(options: ExampleWebAppOptions & { port: number }): Promise<{ url: string; close: () => Promise<void> }> {
  const app = createExampleWebApp(options);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port, hostname: "127.0.0.1" }, () => {
      resolve({ url: options.appUrl, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
    server.once("error", reject);
  });
}
