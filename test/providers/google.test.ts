import { describe, expect, it } from "vitest";
import { fakeCalls, type IdTokenTamper } from "../fakes/control";
import { authorizeAt, configured, expectFailure, newRequest, signIn } from "./support";

const google = () => configured("google");
const SECRET = "test-google-secret-0123456789";

describe("google: authorization URL", () => {
  it("comes from discovery and carries PKCE S256, state, nonce and the OpenID scopes", async () => {
    const provider = google();
    const request = newRequest(provider);
    const url = await provider.authorizationUrl(request);
    expect(url.origin + url.pathname).toBe("https://accounts.google.com/o/oauth2/v2/auth");
    const p = url.searchParams;
    expect(p.get("response_type")).toBe("code");
    expect(p.get("client_id")).toBe("test-google-client.apps.googleusercontent.com");
    expect(p.get("redirect_uri")).toBe("https://auth.example.com/auth/callback/google");
    expect(p.get("scope")).toBe("openid email profile");
    expect(p.get("state")).toBe(request.state);
    expect(p.get("nonce")).toBe(request.nonce);
    expect(p.get("code_challenge_method")).toBe("S256");
    expect(p.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.get("code_challenge")).not.toBe(request.codeVerifier);
    expect(provider.usesNonce).toBe(true);
  });
});

describe("google: completeSignIn", () => {
  it("maps the verified id_token to the profile and returns Google's tokens", async () => {
    const before = Date.now();
    const { result } = await signIn(google(), "google", { user: { id: "1090", email: "bob@gmail.example", name: "Bob" } });
    expect(result.profile).toEqual({
      provider: "google",
      subject: "1090",
      issuer: "https://accounts.google.com",
      email: "bob@gmail.example",
      emailVerified: true,
      name: "Bob",
      image: "https://lh3.googleusercontent.example/a/alice",
    });
    expect(result.tokens.accessToken).toMatch(/^ya29\./);
    expect(result.tokens.scopes).toEqual(["openid", "email", "profile"]);
    const expiresAt = result.tokens.expiresAt!.getTime();
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3599_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3599_000);
  });

  it("email_verified false stays false", async () => {
    const { result } = await signIn(google(), "google", { user: { emailVerified: false } });
    expect(result.profile.email).toBe("alice@gmail.example");
    expect(result.profile.emailVerified).toBe(false);
  });

  it("needs no UserInfo call", async () => {
    const { scenarioId } = await signIn(google(), "google");
    expect(await fakeCalls({ scenario: scenarioId, endpoint: "userinfo" })).toEqual([]);
  });
});

describe("google: id_token attacks are OAuthCallback", () => {
  it.each<IdTokenTamper>(["alg-none", "hs256", "wrong-iss", "wrong-aud", "wrong-nonce", "expired", "future-iat", "bad-signature", "unknown-kid"])(
    "%s",
    async (tamper) => {
      const flow = await authorizeAt(google(), "google", { idToken: { tamper } });
      await expectFailure(google().completeSignIn(flow.input), "OAuthCallback", [SECRET]);
    },
  );

  it("a missing id_token is refused", async () => {
    const flow = await authorizeAt(google(), "google", { token: { status: 200, body: { access_token: "ya29.x", token_type: "Bearer", expires_in: 3599 } } });
    await expectFailure(google().completeSignIn(flow.input), "OAuthCallback");
  });
});

describe("google: clock leeway is 60 s both ways (F7)", () => {
  it("accepts an id_token that expired 30 s ago", async () => {
    const { result } = await signIn(google(), "google", { idToken: { iatOffset: -3630, expOffset: -30 } });
    expect(result.profile.subject).toBe("110169484474386276334");
  });

  it("refuses one that expired 90 s ago", async () => {
    const flow = await authorizeAt(google(), "google", { idToken: { iatOffset: -3690, expOffset: -90 } });
    await expectFailure(google().completeSignIn(flow.input), "OAuthCallback");
  });

  it("accepts an iat 30 s in the future (provider clock ahead)", async () => {
    const { result } = await signIn(google(), "google", { idToken: { iatOffset: 30, expOffset: 3630 } });
    expect(result.profile.subject).toBe("110169484474386276334");
  });

  it("refuses an iat 120 s in the future", async () => {
    const flow = await authorizeAt(google(), "google", { idToken: { iatOffset: 120, expOffset: 3720 } });
    await expectFailure(google().completeSignIn(flow.input), "OAuthCallback");
  });
});

describe("google: provider errors", () => {
  it.each([
    ["invalid_grant", "OAuthCallback"],
    ["invalid_client", "OAuthCallback"],
  ] as const)("token error %s → %s with the code in extra", async (providerError, code) => {
    const flow = await authorizeAt(google(), "google", { token: { providerError } });
    const error = await expectFailure(google().completeSignIn(flow.input), code, [SECRET]);
    expect(error.extra.providerError).toBe(providerError);
  });

  it("a reused code is invalid_grant", async () => {
    const flow = await authorizeAt(google(), "google");
    await google().completeSignIn(flow.input);
    const error = await expectFailure(google().completeSignIn(flow.input), "OAuthCallback");
    expect(error.extra.providerError).toBe("invalid_grant");
  });

  it("a wrong PKCE verifier is invalid_grant", async () => {
    const flow = await authorizeAt(google(), "google");
    const error = await expectFailure(google().completeSignIn({ ...flow.input, codeVerifier: "y".repeat(43) }), "OAuthCallback");
    expect(error.extra.providerError).toBe("invalid_grant");
  });

  it("the nonce the route stored must be the one in the id_token", async () => {
    const flow = await authorizeAt(google(), "google");
    await expectFailure(google().completeSignIn({ ...flow.input, nonce: "another-nonce" }), "OAuthCallback");
  });

  it("error=access_denied → AccessDenied without a token call", async () => {
    const flow = await authorizeAt(google(), "google", { authorizeError: "access_denied" });
    await expectFailure(google().completeSignIn(flow.input), "AccessDenied");
    expect(await fakeCalls({ scenario: flow.scenarioId, endpoint: "token" })).toEqual([]);
  });

  it.each([
    ["503", { status: 503 }],
    ["HTML", { html: true }],
    ["a hang", { hang: true }],
  ] as const)("a token endpoint answering with %s → ProviderUnavailable", async (_label, fault) => {
    const provider = configured("google", { timeoutMs: 300 });
    const flow = await authorizeAt(provider, "google", { token: fault });
    await expectFailure(provider.completeSignIn(flow.input), "ProviderUnavailable");
  });
});
