/**
 * The `amr` of gatehouse's id_tokens follows the browser session's sign-in
 * (RFC 8176): `hwk`+`user` after a device-bound passkey, `swk`+`user` after a
 * synced one, through the code exchange and refreshes alike (the session's
 * `amr` travels on the code and the refresh family).
 */
import * as oauth from "oauth4webapi";
import { beforeAll, describe, expect, it } from "vitest";
import { appFetch, authorizationUrl, authorizeInBrowser, createClient, discover } from "../oauth/helpers";
import { createTestUser, setCookies, signInAs } from "../helpers/sessions";
import { SoftAuthenticator } from "./authenticator";
import { registerPasskey, signInWithPasskey } from "./helpers";

let as: oauth.AuthorizationServer;
const fetchOpt = { [oauth.customFetch]: appFetch };

beforeAll(async () => {
  as = await discover();
});

/** A browser signed in with a passkey: its Cookie header. */
async function passkeyBrowser(authenticator: SoftAuthenticator): Promise<string> {
  const userId = await createTestUser({ name: "Pat" });
  expect((await registerPasskey((await signInAs(userId)).cookieHeader, authenticator)).res.status).toBe(200);
  const { res } = await signInWithPasskey(authenticator);
  expect(res.status).toBe(200);
  const cookies = setCookies(res);
  return `__Host-gh_session=${cookies.get("__Host-gh_session")!.value}; __Host-gh_refresh=${cookies.get("__Host-gh_refresh")!.value}`;
}

async function idTokenAmr(browser: string): Promise<{ exchanged: unknown; refreshed: unknown }> {
  const spa = await createClient({ type: "public", redirectUris: ["https://spa.example.org/callback"] });
  const asClient: oauth.Client = { client_id: spa.clientId };
  const { url, verifier, nonce, state } = await authorizationUrl(as, spa, { scope: "openid offline_access", resource: "https://api.example.com" });
  const callback = await authorizeInBrowser(browser, url);
  const params = oauth.validateAuthResponse(as, asClient, callback, state);
  const res = await oauth.authorizationCodeGrantRequest(as, asClient, oauth.None(), params, spa.redirectUri, verifier, fetchOpt);
  const tokens = await oauth.processAuthorizationCodeResponse(as, asClient, res, { expectedNonce: nonce, requireIdToken: true });
  const refreshed = await oauth.processRefreshTokenResponse(as, asClient, await oauth.refreshTokenGrantRequest(as, asClient, oauth.None(), tokens.refresh_token!, fetchOpt));
  return { exchanged: oauth.getValidatedIdTokenClaims(tokens)?.amr, refreshed: oauth.getValidatedIdTokenClaims(refreshed)?.amr };
}

describe("id_token amr after a passkey sign-in", () => {
  it("is hwk+user for a device-bound passkey, at the exchange and on refresh", async () => {
    expect(await idTokenAmr(await passkeyBrowser(new SoftAuthenticator()))).toEqual({ exchanged: ["hwk", "user"], refreshed: ["hwk", "user"] });
  });

  it("is swk+user for a synced passkey", async () => {
    expect(await idTokenAmr(await passkeyBrowser(new SoftAuthenticator({ backupEligible: true })))).toEqual({ exchanged: ["swk", "user"], refreshed: ["swk", "user"] });
  });

  it("stays fed for a session recorded before amr was (NULL)", async () => {
    const browser = await signInAs(await createTestUser());
    expect(await idTokenAmr(browser.cookieHeader)).toEqual({ exchanged: ["fed"], refreshed: ["fed"] });
  });
});
