/**
 * The real certified OpenID provider (`oidc-provider`, scripts/local-oidc)
 * that test/global-setup.ts starts on localhost: the whole flow with its
 * development login, no fakes. This never skips: without the provider the
 * first test fails and says why (F14).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loginAtLocalProvider } from "../helpers/oidc-login";
import { configured, expectFailure, newRequest } from "./support";

const issuer = (env as unknown as Record<string, string | undefined>).OIDC_LOCAL_ISSUER;
const local = () => configured("local");

async function authorizeLocal(username: string) {
  const provider = local();
  const request = newRequest(provider);
  const callbackUrl = await loginAtLocalProvider((await provider.authorizationUrl(request)).href, username);
  return { provider, request, callbackUrl, input: { ...request, callbackUrl } };
}

describe("local OpenID provider", () => {
  it("is started by the test harness and configured as the `local` provider", () => {
    expect(issuer, "test/global-setup.ts must start scripts/local-oidc and pass its issuer to testBindings({ oidcIssuer })").toMatch(
      /^http:\/\/localhost:\d+$/,
    );
  });

  it("signs a user in end to end: PKCE, nonce, iss, ES256 id_token, UserInfo", async () => {
    const { provider, input, callbackUrl } = await authorizeLocal("alice");
    expect(callbackUrl.origin + callbackUrl.pathname).toBe("https://auth.example.com/auth/callback/local");
    expect(callbackUrl.searchParams.get("iss")).toBe(issuer);
    const { profile, tokens } = await provider.completeSignIn(input);
    expect(profile).toEqual({
      provider: "local",
      subject: "alice",
      issuer,
      email: "alice@local.test",
      emailVerified: true,
      name: "alice",
      image: null,
    });
    expect(tokens.accessToken.length).toBeGreaterThan(20);
    expect(tokens.scopes).toEqual(["openid", "email", "profile"]);
    expect(tokens.expiresAt).toBeInstanceOf(Date);
  });

  it("refuses a replayed code", async () => {
    const { provider, input } = await authorizeLocal("bob");
    await provider.completeSignIn(input);
    const error = await expectFailure(provider.completeSignIn(input), "OAuthCallback");
    expect(error.extra.providerError).toBe("invalid_grant");
  });

  it("refuses a wrong PKCE verifier", async () => {
    const { provider, input } = await authorizeLocal("carol");
    const error = await expectFailure(provider.completeSignIn({ ...input, codeVerifier: "z".repeat(43) }), "OAuthCallback");
    expect(error.extra.providerError).toBe("invalid_grant");
  });

  it("refuses the callback for another state", async () => {
    const { provider, input } = await authorizeLocal("dave");
    await expectFailure(provider.completeSignIn({ ...input, state: "not-this-one" }), "StateInvalid");
  });
});
