/**
 * Fake Naver Login: nid.naver.com/oauth2.0/{authorize,token} and
 * openapi.naver.com/v1/nid/me. Token errors come with HTTP 200
 * `{ error, error_description }`; the profile API answers
 * `{ resultcode, message, response }` ("00" = success, "024" = bad token).
 */
import { CLIENTS } from "./clients.ts";
import { authorize, faultResponse, grantedScopes, json, readParams, redeemCode } from "./flow.ts";
import { state } from "./state.ts";
import type { FakeUser } from "./types.ts";

const DEFAULT_USER: Required<FakeUser> = {
  id: "32742776",
  email: "naver-user@naver.example",
  emailVerified: false,
  name: "네이버 사용자",
  picture: "https://phinf.pstatic.example/profile.png",
  login: "naver-user",
};

const TOKEN_ERRORS: Record<string, string> = {
  invalid_request: "no valid data in session",
  invalid_client: "client authentication failed",
  server_error: "internal server error",
};

function tokenError(code: string | number): Response {
  return json({ error: String(code), error_description: TOKEN_ERRORS[String(code)] ?? String(code) });
}

function profileError(code: string | number): Response {
  const c = String(code);
  return c === "024" || c === "028"
    ? json({ resultcode: c, message: "Authentication failed / 인증에 실패했습니다." }, 401)
    : json({ resultcode: c, message: "Internal Server Error" }, 500);
}

/** Handles nid.naver.com and openapi.naver.com. */
export async function naverFake(request: Request, url: URL): Promise<Response | undefined> {
  const at = url.origin + url.pathname;
  if (at === "https://nid.naver.com/oauth2.0/authorize") {
    return authorize({ provider: "naver", url, client: CLIENTS.naver, defaultUser: DEFAULT_USER, errorDescription: "Canceled By User" });
  }
  if (at === "https://nid.naver.com/oauth2.0/token") {
    const params = await readParams(request, url);
    const result = redeemCode("naver", request, params, CLIENTS.naver, ["post"]);
    if ("failure" in result) return tokenError(result.failure === "invalid_client" ? "invalid_client" : "invalid_request");
    // Naver requires the authorization request's state again.
    if (params.get("state") !== result.grant.state) return tokenError("invalid_request");
    const fault = await faultResponse(result.grant.scenario.token, tokenError);
    if (fault) return fault;
    const token = state.issueToken("AAAAN", result.grant, grantedScopes(result.grant), 3600);
    // expires_in is a string in Naver's responses.
    return json({ access_token: token, refresh_token: `naver-refresh-${Date.now()}`, token_type: "bearer", expires_in: "3600" });
  }
  if (at === "https://openapi.naver.com/v1/nid/me") {
    const issued = state.bearer(request, url);
    state.record({ provider: "naver", endpoint: "profile", method: request.method, ...(issued ? { scenario: issued.grant.scenarioId } : {}) });
    if (!issued) return profileError("024");
    const fault = await faultResponse(issued.grant.scenario.profile, profileError);
    if (fault) return fault;
    const user = issued.grant.user;
    return json({
      resultcode: "00",
      message: "success",
      response: {
        id: user.id,
        nickname: user.login,
        name: user.name,
        ...(user.email !== null ? { email: user.email } : {}),
        profile_image: user.picture,
      },
    });
  }
  return undefined;
}
