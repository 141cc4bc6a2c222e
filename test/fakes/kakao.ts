/**
 * Fake Kakao: OpenID issuer kauth.kakao.com (client_secret_post only, RS256)
 * and the user API kapi.kakao.com/v2/user/me. Errors as Kakao sends them:
 * `{ error, error_description, error_code: "KOE…" }`, and
 * `{ msg, code: -401 }` from kapi.
 */
import { CLIENTS } from "./clients.ts";
import { faultResponse, json } from "./flow.ts";
import { OidcFake } from "./oidc-fake.ts";
import { state } from "./state.ts";

const KOE: Record<string, [number, string, string]> = {
  invalid_client: [401, "KOE010", "Bad client credentials"],
  invalid_grant: [400, "KOE320", "authorization code not found for code=<redacted by nobody>"],
  redirect_uri_mismatch: [400, "KOE303", "Redirect URI mismatch."],
  invalid_request: [400, "KOE101", "invalid request"],
};

export const kakaoOidcFake = new OidcFake({
  provider: "kakao",
  issuer: "https://kauth.kakao.com",
  endpoints: {
    discovery: "https://kauth.kakao.com/.well-known/openid-configuration",
    authorization: "https://kauth.kakao.com/oauth/authorize",
    token: "https://kauth.kakao.com/oauth/token",
    userinfo: "https://kapi.kakao.com/v1/oidc/userinfo",
    jwks: "https://kauth.kakao.com/.well-known/jwks.json",
  },
  client: CLIENTS.kakao,
  auth: ["post"],
  alg: "RS256",
  issInCallback: false,
  defaultUser: {
    id: "4030000001",
    email: "kakao-user@kakao.example",
    emailVerified: true,
    name: "카카오 사용자",
    picture: "https://k.kakaocdn.example/profile.jpg",
    login: "kakao",
  },
  tokenError: (failure) => {
    const [status, code, description] = KOE[String(failure)] ?? [400, "KOE000", "error"];
    return json({ error: String(failure), error_description: description, error_code: code }, status);
  },
  tokenExtras: () => ({ token_type: "bearer", expires_in: 21599, refresh_token_expires_in: 5183999, refresh_token: `kakao-refresh-${Date.now()}` }),
  accessTokenPrefix: "kakao-",
});

const unauthorized = () => json({ msg: "this access token does not exist", code: -401 }, 401);

/** kapi.kakao.com/v2/user/me */
export async function kakaoUserMe(request: Request, url: URL): Promise<Response | undefined> {
  if (url.origin + url.pathname !== "https://kapi.kakao.com/v2/user/me") return undefined;
  const issued = state.bearer(request, url);
  state.record({ provider: "kakao", endpoint: "profile", method: request.method, ...(issued ? { scenario: issued.grant.scenarioId } : {}) });
  if (!issued) return unauthorized();
  const fault = await faultResponse(issued.grant.scenario.profile, (code) => (code === -401 ? unauthorized() : json({ msg: "internal error", code: Number(code) || -1 }, 500)));
  if (fault) return fault;
  const { user, scenario } = issued.grant;
  return json({
    id: Number(scenario.userinfoSub ?? user.id),
    connected_at: "2024-01-01T00:00:00Z",
    kakao_account: {
      profile_nickname_needs_agreement: false,
      profile: { nickname: user.name, profile_image_url: user.picture, thumbnail_image_url: user.picture, is_default_image: false },
      ...(user.email !== null
        ? { email_needs_agreement: false, is_email_valid: scenario.kakaoEmailValid ?? true, is_email_verified: user.emailVerified, email: user.email }
        : { email_needs_agreement: true }),
    },
  });
}
