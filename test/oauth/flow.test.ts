/**
 * The whole authorization-code flow driven by oauth4webapi (a certified
 * relying-party library that checks `iss`, PKCE, state and id_token claims
 * strictly) against the real app, for a public SPA, a confidential web app
 * and a native app on a loopback port; a resource server verifies the
 * access tokens with gatehouse/verify. Round trips are counted.
 */
import * as oauth from "oauth4webapi";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyAccessToken } from "../../src/verify";
import { callWorker, createTestUser, resetRoundTrips, roundTrips, signInAs, type TestSession } from "../helpers/sessions";
import {
  appFetch,
  authorizationUrl,
  authorizeInBrowser,
  clientAuth,
  clientRows,
  createClient,
  discover,
  ISSUER,
  USERINFO_RESOURCE,
  type TestClient,
} from "./helpers";

let as: oauth.AuthorizationServer;
let userId: string;
let browser: TestSession;

beforeAll(async () => {
  as = await discover();
  userId = await createTestUser({ email: `oauth-${crypto.randomUUID()}@example.com`, name: "Ada" });
  browser = await signInAs(userId);
});

const fetchOpt = { [oauth.customFetch]: appFetch };

/** Authorizes (consenting when asked), exchanges the code, and returns the token response. */
async function signInWith(client: TestClient, options: { scope?: string; resource?: string; redirectUri?: string; method?: "basic" | "post" } = {}) {
  const asClient: oauth.Client = { client_id: client.clientId };
  const redirectUri = options.redirectUri ?? client.redirectUri;
  const { url, verifier, nonce, state } = await authorizationUrl(as, client, { ...options, redirectUri });
  const callback = await authorizeInBrowser(browser.cookieHeader, url);
  expect(callback.origin + callback.pathname).toBe(new URL(redirectUri).origin + new URL(redirectUri).pathname);
  const params = oauth.validateAuthResponse(as, asClient, callback, state);
  await resetRoundTrips();
  const res = await oauth.authorizationCodeGrantRequest(as, asClient, clientAuth(client, options.method), params, redirectUri, verifier, fetchOpt);
  const tokens = await oauth.processAuthorizationCodeResponse(as, asClient, res, { expectedNonce: nonce, requireIdToken: true });
  return { tokens, asClient, exchangeRoundTrips: await roundTrips() };
}

describe("discovery", () => {
  it("publishes RFC 8414 and OpenID metadata that match what is implemented", async () => {
    expect(as.issuer).toBe(ISSUER);
    expect(as.code_challenge_methods_supported).toEqual(["S256"]);
    expect(as.response_types_supported).toEqual(["code"]);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    const res = await callWorker("/.well-known/oauth-authorization-server");
    expect(res.status).toBe(200);
    const metadata = (await res.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/oauth/authorize`,
      token_endpoint: `${ISSUER}/oauth/token`,
      revocation_endpoint: `${ISSUER}/oauth/revoke`,
      grant_types_supported: ["authorization_code", "refresh_token"],
      token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
    });
    // Only what is implemented: no logout endpoint, no request objects.
    const oidc = (await (await callWorker("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(oidc).not.toHaveProperty("end_session_endpoint");
    expect(oidc).toMatchObject({ ...metadata, request_parameter_supported: false, id_token_signing_alg_values_supported: ["ES256"] });
  });
});

describe("CORS for browser clients on other sites", () => {
  it("the token endpoint answers any origin's preflight and POST without credentials; the authorization endpoint sends no CORS headers", async () => {
    const preflight = await callWorker("/oauth/token", {
      method: "OPTIONS",
      headers: { origin: "https://spa.example.org", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();
    const post = await callWorker("/oauth/token", { method: "POST", headers: { origin: "https://spa.example.org", "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=x" });
    expect(post.headers.get("access-control-allow-origin")).toBe("*");
    const authorize = await callWorker("/oauth/authorize", { headers: { origin: "https://spa.example.org" } });
    expect(authorize.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("public SPA client", () => {
  it("signs in with PKCE, gets id_token, access token for the API and a refresh token", async () => {
    const spa = await createClient({ type: "public", redirectUris: ["https://spa.example.org/callback"] });
    const { tokens, asClient, exchangeRoundTrips } = await signInWith(spa, { resource: "https://api.example.com", scope: "openid profile email offline_access notes:read" });
    expect(exchangeRoundTrips).toBe(1);
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(claims).toMatchObject({ sub: userId, aud: spa.clientId, iss: ISSUER, name: "Ada", email_verified: false, amr: ["fed"] });
    expect(typeof claims.auth_time).toBe("number");
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope).toBe("openid profile email offline_access notes:read");

    // A resource server verifies the access token with gatehouse/verify, from the JWKS alone.
    const verified = await verifyAccessToken(tokens.access_token, {
      issuer: ISSUER,
      audience: "https://api.example.com",
      jwksUrl: `${ISSUER}/.well-known/jwks.json`,
      fetch: (url, init) => appFetch(String(url), init ?? {}),
    });
    expect(verified.ok).toBe(true);
    if (verified.ok) expect(verified.claims).toMatchObject({ sub: userId, client_id: spa.clientId, scope: "openid profile email offline_access notes:read" });
    // oauth4webapi's own RFC 9068 validator agrees.
    const rsClaims = await oauth.validateJwtAccessToken(
      as,
      new Request("https://api.example.com/notes", { headers: { authorization: `Bearer ${tokens.access_token}` } }),
      "https://api.example.com",
      fetchOpt,
    );
    expect(rsClaims.client_id).toBe(spa.clientId);

    // Refresh: one round trip, a new refresh token, the old one still answers within the grace window without a new one.
    await resetRoundTrips();
    const refreshed = await oauth.processRefreshTokenResponse(as, asClient, await oauth.refreshTokenGrantRequest(as, asClient, oauth.None(), tokens.refresh_token!, fetchOpt));
    expect(await roundTrips()).toBe(1);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(oauth.getValidatedIdTokenClaims(refreshed)?.sub).toBe(userId);
  });

  it("remembers consent: the second authorization answers at once in at most one round trip", async () => {
    const spa = await createClient({ type: "public", redirectUris: ["https://spa2.example.org/cb"] });
    await signInWith(spa);
    const { url } = await authorizationUrl(as, spa);
    await resetRoundTrips();
    const res = await callWorker(url.pathname + url.search, { headers: { cookie: browser.cookieHeader } });
    expect(res.status).toBe(302);
    expect(await roundTrips()).toBeLessThanOrEqual(1);
    const location = new URL(res.headers.get("location")!);
    expect(location.searchParams.get("code")).toBeTruthy();
    expect(location.searchParams.get("iss")).toBe(ISSUER);
    expect((await clientRows(spa.clientId)).grants).toBe(1);
  });

  it("without offline_access issues no refresh token and creates no family", async () => {
    const spa = await createClient({ type: "public", redirectUris: ["https://spa3.example.org/cb"] });
    const { tokens } = await signInWith(spa, { scope: "openid email" });
    expect(tokens.refresh_token).toBeUndefined();
    expect((await clientRows(spa.clientId)).families).toBe(0);
    // The default resource is gatehouse's userinfo endpoint.
    const at = JSON.parse(atob(tokens.access_token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/"))) as { aud: string };
    expect(at.aud).toBe(USERINFO_RESOURCE);
  });
});

describe("confidential web client", () => {
  it("authenticates with client_secret_basic and with client_secret_post; userinfo answers for the access token", async () => {
    const web = await createClient({ type: "confidential", redirectUris: ["https://web.example.net/auth/callback"] });
    for (const method of ["basic", "post"] as const) {
      const { tokens, asClient } = await signInWith(web, { method, scope: "openid email offline_access" });
      expect(oauth.getValidatedIdTokenClaims(tokens)?.aud).toBe(web.clientId);
      const info = await oauth.processUserInfoResponse(as, asClient, userId, await oauth.userInfoRequest(as, asClient, tokens.access_token, fetchOpt));
      expect(info.sub).toBe(userId);
      expect(info.email).toMatch(/^oauth-/);
      expect(info.name).toBeUndefined();
      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        asClient,
        await oauth.refreshTokenGrantRequest(as, asClient, clientAuth(web, method), tokens.refresh_token!, fetchOpt),
      );
      expect(refreshed.access_token).toBeTruthy();
    }
  });

  it("revocation (RFC 7009): a revoked refresh token stops, a revoked access token stops at userinfo", async () => {
    const web = await createClient({ type: "confidential", redirectUris: ["https://web2.example.net/cb"] });
    const { tokens, asClient } = await signInWith(web, { scope: "openid offline_access" });
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, asClient, clientAuth(web), tokens.access_token, fetchOpt));
    const info = await oauth.userInfoRequest(as, asClient, tokens.access_token, fetchOpt);
    expect(info.status).toBe(401);
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, asClient, clientAuth(web), tokens.refresh_token!, fetchOpt));
    const refresh = await oauth.refreshTokenGrantRequest(as, asClient, clientAuth(web), tokens.refresh_token!, fetchOpt);
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toMatchObject({ error: "invalid_grant" });
  });
});

describe("native client on a loopback port", () => {
  it("matches a loopback redirect URI on any port (RFC 8252 §7.3)", async () => {
    const app = await createClient({ type: "public", applicationType: "native", redirectUris: ["http://127.0.0.1/callback"] });
    for (const port of [49152, 61234]) {
      const { tokens } = await signInWith(app, { redirectUri: `http://127.0.0.1:${port}/callback`, scope: "openid offline_access" });
      expect(tokens.refresh_token).toBeTruthy();
    }
  });
});
