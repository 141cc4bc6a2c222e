import { describe, expect, it } from "vitest";
import { fakeCalls } from "../fakes/control";
import { authorizeAt, configured, expectFailure, newRequest, signIn } from "./support";

const facebook = () => configured("facebook");
const SECRET = "test-facebook-secret-0123456789";

describe("facebook: authorization URL", () => {
  it("uses the configured Graph API version, PKCE S256, state and default scopes", async () => {
    const provider = configured("facebook", { graphVersion: "v23.0" });
    const request = newRequest(provider);
    const url = await provider.authorizationUrl(request);
    expect(url.origin + url.pathname).toBe("https://www.facebook.com/v23.0/dialog/oauth");
    expect(url.searchParams.get("client_id")).toBe("1234567890");
    expect(url.searchParams.get("scope")).toBe("email public_profile");
    expect(url.searchParams.get("state")).toBe(request.state);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.has("nonce")).toBe(false);
  });

  it("takes the version from configuration (FACEBOOK_GRAPH_VERSION, default v24.0)", async () => {
    const url = await facebook().authorizationUrl(newRequest(facebook()));
    expect(url.pathname).toBe("/v24.0/dialog/oauth");
  });
});

describe("facebook: completeSignIn", () => {
  it("maps /me; the email is never verified; scopes come from /me/permissions", async () => {
    const before = Date.now();
    const { result, scenarioId } = await signIn(facebook(), "facebook", { user: { id: "777", name: "Mark" } });
    expect(result.profile).toEqual({
      provider: "facebook",
      subject: "777",
      issuer: null,
      email: "fb-user@facebook.example",
      emailVerified: false,
      name: "Mark",
      image: "https://platform-lookaside.fbsbx.example/platform/profilepic/?asid=10158000000000001",
    });
    expect(result.tokens.scopes).toEqual(["email", "public_profile"]);
    expect(result.tokens.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 5183944_000);
    expect((await fakeCalls({ scenario: scenarioId })).map((c) => c.endpoint).sort()).toEqual(["authorize", "permissions", "profile", "token"]);
  });

  it("granted scopes are what Graph says, not the callback's granted_scopes", async () => {
    const { result, callbackUrl } = await signIn(facebook(), "facebook", {
      grantedScopes: ["public_profile"],
      callbackParams: { granted_scopes: "email,public_profile,user_friends", denied_scopes: "" },
    });
    expect(callbackUrl.searchParams.get("granted_scopes")).toBe("email,public_profile,user_friends");
    expect(result.tokens.scopes).toEqual(["public_profile"]);
    expect(result.profile.email).toBeNull();
  });
});

describe("facebook: errors", () => {
  it.each([
    ["190 (expired token)", 190, "OAuthCallback"],
    ["4 (rate limit)", 4, "ProviderUnavailable"],
    ["2 (temporary)", 2, "ProviderUnavailable"],
  ] as const)("Graph /me error %s → %s", async (_label, providerError, code) => {
    const flow = await authorizeAt(facebook(), "facebook", { profile: { providerError } });
    const error = await expectFailure(facebook().completeSignIn(flow.input), code, [SECRET]);
    if (code === "OAuthCallback") expect(error.extra.providerError).toBe(`graph_${providerError}`);
  });

  it("a rate-limited permissions call → ProviderUnavailable", async () => {
    const flow = await authorizeAt(facebook(), "facebook", { permissions: { providerError: 4 } });
    await expectFailure(facebook().completeSignIn(flow.input), "ProviderUnavailable");
  });

  it("an OAuthException from the token endpoint (reused code) → OAuthCallback", async () => {
    const flow = await authorizeAt(facebook(), "facebook");
    await facebook().completeSignIn(flow.input);
    const error = await expectFailure(facebook().completeSignIn(flow.input), "OAuthCallback");
    expect(error.extra.providerError).toBe("graph_100");
  });

  it("a token endpoint throttled with code 4 → ProviderUnavailable", async () => {
    const flow = await authorizeAt(facebook(), "facebook", { token: { providerError: 4 } });
    await expectFailure(facebook().completeSignIn(flow.input), "ProviderUnavailable");
  });

  it("error=access_denied → AccessDenied without a token call", async () => {
    const flow = await authorizeAt(facebook(), "facebook", { authorizeError: "access_denied", callbackParams: { error_reason: "user_denied", error_code: "200" } });
    await expectFailure(facebook().completeSignIn(flow.input), "AccessDenied");
    expect(await fakeCalls({ scenario: flow.scenarioId, endpoint: "token" })).toEqual([]);
  });

  it.each([
    ["a hang", { hang: true }],
    ["HTML", { html: true }],
    ["500", { status: 500 }],
  ] as const)("/me answering with %s → ProviderUnavailable", async (_label, fault) => {
    const provider = configured("facebook", { timeoutMs: 300 });
    const flow = await authorizeAt(provider, "facebook", { profile: fault });
    await expectFailure(provider.completeSignIn(flow.input), "ProviderUnavailable");
  });
});
