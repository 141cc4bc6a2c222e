import { describe, expect, it } from "vitest";
import { fakeCalls } from "../fakes/control";
import { authorizeAt, configured, expectFailure, signIn } from "./support";

const github = () => configured("github");
const SECRET = "test-github-secret-0123456789";

describe("github: authorization URL", () => {
  it("asks for a code with PKCE S256, state, scopes and the exact redirect_uri", async () => {
    const provider = github();
    const url = await provider.authorizationUrl({
      state: "state-123",
      codeVerifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
      nonce: null,
      redirectUri: "https://auth.example.com/auth/callback/github",
      scopes: provider.defaultScopes,
    });
    expect(url.origin + url.pathname).toBe("https://github.com/login/oauth/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: "code",
      client_id: "test-github-client",
      redirect_uri: "https://auth.example.com/auth/callback/github",
      scope: "read:user user:email",
      state: "state-123",
      // RFC 7636 appendix B test vector.
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
    });
    expect(provider.usesNonce).toBe(false);
  });
});

describe("github: completeSignIn", () => {
  it("maps the user, picks the primary verified email, keeps the granted scopes", async () => {
    const { result } = await signIn(github(), "github", {
      user: { id: "4242", login: "hubot", name: "Hubot" },
      githubEmails: [
        { email: "old@example.com", primary: false, verified: true },
        { email: "hubot@example.com", primary: true, verified: true },
      ],
    });
    expect(result.profile).toEqual({
      provider: "github",
      subject: "4242",
      issuer: null,
      email: "hubot@example.com",
      emailVerified: true,
      name: "Hubot",
      image: "https://avatars.githubusercontent.example/u/1001",
    });
    expect(result.tokens.accessToken).toMatch(/^gho_/);
    expect(result.tokens.refreshToken).toBeNull();
    expect(result.tokens.expiresAt).toBeNull();
    expect(result.tokens.scopes).toEqual(["read:user", "user:email"]);
  });

  it("never takes an unverified primary or a verified secondary address", async () => {
    const { result } = await signIn(github(), "github", {
      githubEmails: [
        { email: "primary-unverified@example.com", primary: true, verified: false },
        { email: "secondary-verified@example.com", primary: false, verified: true },
      ],
    });
    expect(result.profile.email).toBeNull();
    expect(result.profile.emailVerified).toBe(false);
  });

  it("skips /user/emails when user:email was not granted", async () => {
    const { result, scenarioId } = await signIn(github(), "github", { grantedScopes: ["read:user"] });
    expect(result.profile.email).toBeNull();
    expect(result.tokens.scopes).toEqual(["read:user"]);
    expect(await fakeCalls({ scenario: scenarioId, endpoint: "emails" })).toEqual([]);
  });

  it("falls back to the login when the user has no display name", async () => {
    const { result } = await signIn(github(), "github", { user: { name: null, login: "nameless" } });
    expect(result.profile.name).toBe("nameless");
  });
});

describe("github: errors", () => {
  it("a token error sent with HTTP 200 is OAuthCallback with the code only", async () => {
    const flow = await authorizeAt(github(), "github", { token: { providerError: "bad_verification_code" } });
    const error = await expectFailure(github().completeSignIn(flow.input), "OAuthCallback", [SECRET, flow.callbackUrl.searchParams.get("code")!]);
    expect(error.extra).toEqual({ provider: "github", providerError: "bad_verification_code" });
    expect(await fakeCalls({ scenario: flow.scenarioId, endpoint: "profile" })).toEqual([]);
  });

  it("a code works once: the second exchange is refused by GitHub", async () => {
    const flow = await authorizeAt(github(), "github");
    await github().completeSignIn(flow.input);
    const error = await expectFailure(github().completeSignIn(flow.input), "OAuthCallback");
    expect(error.extra.providerError).toBe("bad_verification_code");
  });

  it("a wrong PKCE verifier is refused by GitHub", async () => {
    const flow = await authorizeAt(github(), "github");
    await expectFailure(github().completeSignIn({ ...flow.input, codeVerifier: "x".repeat(43) }), "OAuthCallback");
  });

  it("a different redirect_uri at the token endpoint is refused", async () => {
    const flow = await authorizeAt(github(), "github");
    const error = await expectFailure(
      github().completeSignIn({ ...flow.input, redirectUri: "https://auth.example.com/auth/callback/other" }),
      "OAuthCallback",
    );
    expect(error.extra.providerError).toBe("redirect_uri_mismatch");
  });

  it("error=access_denied at the callback is AccessDenied and makes no token call", async () => {
    const flow = await authorizeAt(github(), "github", { authorizeError: "access_denied" });
    const error = await expectFailure(github().completeSignIn(flow.input), "AccessDenied");
    expect(error.extra).toEqual({ provider: "github", providerError: "access_denied" });
    expect(await fakeCalls({ scenario: flow.scenarioId, endpoint: "token" })).toEqual([]);
  });

  it("another error= is OAuthCallback with the sanitized code, never the description", async () => {
    const flow = await authorizeAt(github(), "github", { authorizeError: "application_suspended" });
    const error = await expectFailure(github().completeSignIn(flow.input), "OAuthCallback");
    expect(error.extra.providerError).toBe("application_suspended");
    expect(error.message).not.toContain("script");
  });

  it("an error code that is not a code is reported as unknown", async () => {
    const flow = await authorizeAt(github(), "github", { authorizeError: "<img src=x onerror=alert(1)>" });
    const error = await expectFailure(github().completeSignIn(flow.input), "OAuthCallback");
    expect(error.extra.providerError).toBe("unknown");
  });

  it("a callback whose state differs is StateInvalid and makes no token call", async () => {
    const flow = await authorizeAt(github(), "github");
    await expectFailure(github().completeSignIn({ ...flow.input, state: "another-state" }), "StateInvalid");
    const noState = new URL(flow.callbackUrl);
    noState.searchParams.delete("state");
    await expectFailure(github().completeSignIn({ ...flow.input, callbackUrl: noState }), "StateInvalid");
    expect(await fakeCalls({ scenario: flow.scenarioId, endpoint: "token" })).toEqual([]);
  });

  it.each([
    ["5xx", { status: 503 }],
    ["an HTML page", { html: true }],
    ["an HTML error page", { html: true, status: 502 }],
  ] as const)("a token endpoint answering with %s is ProviderUnavailable", async (_label, fault) => {
    const flow = await authorizeAt(github(), "github", { token: fault });
    await expectFailure(github().completeSignIn(flow.input), "ProviderUnavailable");
  });

  it("a token endpoint that hangs is ProviderUnavailable after timeoutMs", async () => {
    const provider = configured("github", { timeoutMs: 300 });
    const flow = await authorizeAt(provider, "github", { token: { hang: true } });
    await expectFailure(provider.completeSignIn(flow.input), "ProviderUnavailable");
  });

  it.each([
    ["hangs", "ProviderUnavailable", { hang: true }],
    ["answers 500", "ProviderUnavailable", { status: 500 }],
    ["answers HTML", "ProviderUnavailable", { html: true }],
    ["is rate limited", "ProviderUnavailable", { providerError: "rate_limited" }],
    ["rejects the token", "OAuthCallback", { providerError: "bad_credentials" }],
  ] as const)("the user API that %s → %s", async (_label, code, fault) => {
    const provider = configured("github", { timeoutMs: 300 });
    const flow = await authorizeAt(provider, "github", { profile: fault });
    await expectFailure(provider.completeSignIn(flow.input), code);
  });

  it("an emails API failure fails the sign-in instead of dropping the email", async () => {
    const flow = await authorizeAt(github(), "github", { emails: { status: 502 } });
    await expectFailure(github().completeSignIn(flow.input), "ProviderUnavailable");
  });
});
