import { describe, expect, it } from "vitest";
import { fakeCalls } from "../fakes/control";
import { authorizeAt, configured, expectFailure, newRequest, signIn } from "./support";

const naver = () => configured("naver");
const SECRET = "test-naver-secret-0123456789";

describe("naver: authorization URL", () => {
  it("has PKCE, state and the redirect_uri, and no scope (Naver's are set in its console)", async () => {
    const request = newRequest(naver());
    const url = await naver().authorizationUrl(request);
    expect(url.origin + url.pathname).toBe("https://nid.naver.com/oauth2.0/authorize");
    expect(url.searchParams.get("state")).toBe(request.state);
    expect(url.searchParams.get("redirect_uri")).toBe("https://auth.example.com/auth/callback/naver");
    expect(url.searchParams.has("scope")).toBe(false);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
  });
});

describe("naver: completeSignIn", () => {
  it("maps response.*; the email is never verified; expires_in arrives as a string", async () => {
    const before = Date.now();
    const { result } = await signIn(naver(), "naver", { user: { id: "abc123", email: "me@naver.example", name: "홍길동" } });
    expect(result.profile).toEqual({
      provider: "naver",
      subject: "abc123",
      issuer: null,
      email: "me@naver.example",
      emailVerified: false,
      name: "홍길동",
      image: "https://phinf.pstatic.example/profile.png",
    });
    expect(result.tokens.refreshToken).toMatch(/^naver-refresh-/);
    expect(result.tokens.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 3600_000);
    expect(result.tokens.scopes).toEqual([]);
  });
});

describe("naver: errors", () => {
  it("a token error sent with HTTP 200 → OAuthCallback with the code only", async () => {
    const flow = await authorizeAt(naver(), "naver", { token: { providerError: "invalid_request" } });
    const error = await expectFailure(naver().completeSignIn(flow.input), "OAuthCallback", [SECRET]);
    expect(error.extra.providerError).toBe("invalid_request");
    expect(await fakeCalls({ scenario: flow.scenarioId, endpoint: "profile" })).toEqual([]);
  });

  it("a reused code is refused", async () => {
    const flow = await authorizeAt(naver(), "naver");
    await naver().completeSignIn(flow.input);
    await expectFailure(naver().completeSignIn(flow.input), "OAuthCallback");
  });

  it.each([
    ["024 (authentication failed)", "024", "OAuthCallback"],
    ["500", "500", "ProviderUnavailable"],
  ] as const)("profile resultcode %s → %s", async (_label, providerError, code) => {
    const flow = await authorizeAt(naver(), "naver", { profile: { providerError } });
    await expectFailure(naver().completeSignIn(flow.input), code);
  });

  it("a profile answer that is not resultcode 00 → refused", async () => {
    const flow = await authorizeAt(naver(), "naver", { profile: { status: 200, body: { resultcode: "00", message: "success" } } });
    await expectFailure(naver().completeSignIn(flow.input), "OAuthCallback");
  });

  it("error=access_denied → AccessDenied", async () => {
    const flow = await authorizeAt(naver(), "naver", { authorizeError: "access_denied" });
    await expectFailure(naver().completeSignIn(flow.input), "AccessDenied");
  });

  it.each([
    ["a hang", { hang: true }],
    ["HTML", { html: true }],
    ["503", { status: 503 }],
  ] as const)("a token endpoint answering with %s → ProviderUnavailable", async (_label, fault) => {
    const provider = configured("naver", { timeoutMs: 300 });
    const flow = await authorizeAt(provider, "naver", { token: fault });
    await expectFailure(provider.completeSignIn(flow.input), "ProviderUnavailable");
  });
});
