/**
 * The same flow driven by openid-client (panva's certified relying-party
 * library, built on oauth4webapi), running inside workerd: discovery,
 * authorization URL, the consent page, code exchange with PKCE, nonce and
 * state checks, refresh, userinfo and revocation, for a confidential web
 * client and a public client.
 */
import * as client from "openid-client";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestUser, signInAs, type TestSession } from "../helpers/sessions";
import { appFetch, authorizeInBrowser, createClient, ISSUER } from "./helpers";

let browser: TestSession;
let userId: string;

beforeAll(async () => {
  userId = await createTestUser({ email: `oc-${crypto.randomUUID()}@example.com`, name: "Grace" });
  browser = await signInAs(userId);
});

async function configure(clientId: string, secret: string | null): Promise<client.Configuration> {
  const config = await client.discovery(
    new URL(ISSUER),
    clientId,
    secret === null ? undefined : secret,
    secret === null ? client.None() : client.ClientSecretBasic(secret),
    { [client.customFetch]: appFetch },
  );
  config[client.customFetch] = appFetch;
  return config;
}

describe("openid-client", () => {
  it.each([
    ["confidential web client", "confidential" as const],
    ["public client", "public" as const],
  ])("%s: sign in, refresh, userinfo, revoke", async (_, type) => {
    const app = await createClient({ type, redirectUris: [`https://oc-${type}.example.com/callback`] });
    const config = await configure(app.clientId, app.secret);
    expect(config.serverMetadata().issuer).toBe(ISSUER);

    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: app.redirectUri,
      scope: "openid profile email offline_access",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      nonce,
      state,
      resource: "https://api.example.com",
    });
    const callback = await authorizeInBrowser(browser.cookieHeader, url);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
      idTokenExpected: true,
    });
    expect(tokens.claims()).toMatchObject({ sub: userId, aud: app.clientId, name: "Grace" });
    expect(tokens.refresh_token).toBeTruthy();

    const info = await client.fetchUserInfo(config, tokens.access_token, userId);
    expect(info.email).toMatch(/^oc-/);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.claims()?.sub).toBe(userId);

    await client.tokenRevocation(config, refreshed.refresh_token!);
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });

    // A tampered state is caught by the library.
    const url2 = client.buildAuthorizationUrl(config, {
      redirect_uri: app.redirectUri,
      scope: "openid",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      nonce,
      state,
    });
    const callback2 = await authorizeInBrowser(browser.cookieHeader, url2);
    await expect(client.authorizationCodeGrant(config, callback2, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: "other" })).rejects.toThrow();
  });
});
