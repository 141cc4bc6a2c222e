import { describe, expect, it } from "vitest";
import { fakeCalls, type IdTokenTamper } from "../fakes/control";
import { authorizeAt, configured, expectFailure, newRequest, signIn } from "./support";

const kakao = () => configured("kakao");
const SECRET = "test-kakao-secret-0123456789";

describe("kakao: authorization URL", () => {
  it("comes from Kakao's discovery with openid scope, nonce, PKCE and state", async () => {
    const request = newRequest(kakao());
    const url = await kakao().authorizationUrl(request);
    expect(url.origin + url.pathname).toBe("https://kauth.kakao.com/oauth/authorize");
    expect(url.searchParams.get("scope")).toBe("openid account_email profile_nickname profile_image");
    expect(url.searchParams.get("nonce")).toBe(request.nonce);
    expect(url.searchParams.get("state")).toBe(request.state);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
  });
});

describe("kakao: completeSignIn", () => {
  it("subject from the id_token, profile from /v2/user/me, client_secret_post", async () => {
    const { result, scenarioId } = await signIn(kakao(), "kakao", { user: { id: "4031", name: "라이언" } });
    expect(result.profile).toEqual({
      provider: "kakao",
      subject: "4031",
      issuer: "https://kauth.kakao.com",
      email: "kakao-user@kakao.example",
      emailVerified: true,
      name: "라이언",
      image: "https://k.kakaocdn.example/profile.jpg",
    });
    expect(result.tokens.refreshToken).toMatch(/^kakao-refresh-/);
    expect(result.tokens.scopes).toEqual(["openid", "account_email", "profile_nickname", "profile_image"]);
    expect((await fakeCalls({ scenario: scenarioId, endpoint: "profile" })).length).toBe(1);
  });

  it.each([
    [true, true, true],
    [false, true, false],
    [true, false, false],
  ])("is_email_verified %s and is_email_valid %s → emailVerified %s", async (verified, valid, expected) => {
    const { result } = await signIn(kakao(), "kakao", { user: { emailVerified: verified }, kakaoEmailValid: valid });
    expect(result.profile.emailVerified).toBe(expected);
  });

  it("no email consent → no email", async () => {
    const { result } = await signIn(kakao(), "kakao", { user: { email: null } });
    expect(result.profile.email).toBeNull();
    expect(result.profile.emailVerified).toBe(false);
  });
});

describe("kakao: errors", () => {
  it("/v2/user/me for another user than the id_token → OAuthCallback", async () => {
    const flow = await authorizeAt(kakao(), "kakao", { userinfoSub: "999" });
    await expectFailure(kakao().completeSignIn(flow.input), "OAuthCallback");
  });

  it.each<IdTokenTamper>(["alg-none", "hs256", "wrong-iss", "wrong-aud", "wrong-nonce", "expired", "bad-signature", "unknown-kid"])(
    "id_token %s → OAuthCallback",
    async (tamper) => {
      const flow = await authorizeAt(kakao(), "kakao", { idToken: { tamper } });
      await expectFailure(kakao().completeSignIn(flow.input), "OAuthCallback", [SECRET]);
    },
  );

  it("KOE320 (bad code) → OAuthCallback with the OAuth code only", async () => {
    const flow = await authorizeAt(kakao(), "kakao");
    await kakao().completeSignIn(flow.input);
    const error = await expectFailure(kakao().completeSignIn(flow.input), "OAuthCallback");
    expect(error.extra.providerError).toBe("invalid_grant");
    expect(JSON.stringify(error.extra)).not.toContain(flow.callbackUrl.searchParams.get("code"));
  });

  it("a dead access token at /v2/user/me (-401) → OAuthCallback", async () => {
    const flow = await authorizeAt(kakao(), "kakao", { profile: { providerError: -401 } });
    await expectFailure(kakao().completeSignIn(flow.input), "OAuthCallback");
  });

  it.each([
    ["a hang", { hang: true }],
    ["HTML", { html: true }],
    ["500", { status: 500 }],
  ] as const)("/v2/user/me answering with %s → ProviderUnavailable", async (_label, fault) => {
    const provider = configured("kakao", { timeoutMs: 300 });
    const flow = await authorizeAt(provider, "kakao", { profile: fault });
    await expectFailure(provider.completeSignIn(flow.input), "ProviderUnavailable");
  });

  it("error=access_denied → AccessDenied", async () => {
    const flow = await authorizeAt(kakao(), "kakao", { authorizeError: "access_denied" });
    await expectFailure(kakao().completeSignIn(flow.input), "AccessDenied");
  });
});
