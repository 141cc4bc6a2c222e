/**
 * Naver Login (네이버 로그인). Plain OAuth 2: token errors come with HTTP
 * 200, the token request repeats `state`, and the profile API wraps its
 * answer in `{ resultcode: "00", message, response }`. Naver does not say
 * whether the email was confirmed, so it counts as unverified.
 */
import type { AuthorizationServer } from "oauth4webapi";
import type { ProviderConfig } from "../config";
import { providerFailure, safeErrorCode } from "./failure";
import { errorsWithStatus200, getJsonObject, httpOptions, isObject, stringOrNull } from "./http";
import { buildAuthorizationUrl, exchangeCode, oauthClient, tokenSet } from "./oauth";
import type { ProviderOptions, SignInProvider } from "./types";

const NAVER: AuthorizationServer = {
  issuer: "https://nid.naver.com",
  authorization_endpoint: "https://nid.naver.com/oauth2.0/authorize",
  token_endpoint: "https://nid.naver.com/oauth2.0/token",
};
const PROFILE = new URL("https://openapi.naver.com/v1/nid/me");
/** Naver grants what the app is configured for in its console; no scope parameter. */
export const NAVER_DEFAULT_SCOPES = [] as const;

/**
 * @example
 * const naver = createNaver(config, { graphVersion: "v24.0", timeoutMs: 5000 });
 */
export function createNaver(config: ProviderConfig, options: ProviderOptions): SignInProvider {
  const c = oauthClient(config.id, NAVER, config, "post", httpOptions({ timeoutMs: options.timeoutMs, dialect: errorsWithStatus200 }));

  return {
    id: config.id,
    kind: config.kind,
    name: config.name,
    usesNonce: false,
    defaultScopes: NAVER_DEFAULT_SCOPES,
    authorizationUrl: (request) => buildAuthorizationUrl(c, request),
    async completeSignIn(input) {
      const { tokens } = await exchangeCode(c, input, { oidc: false, additionalParameters: { state: input.state } });
      const body = await getJsonObject(config.id, "profile", PROFILE, tokens.access_token, {
        timeoutMs: options.timeoutMs,
        classify: (status, json) => {
          if (!isObject(json) || typeof json.resultcode !== "string" || json.resultcode === "00") return undefined;
          const code = safeErrorCode(json.resultcode);
          // 024/028: authentication failed / header missing; the rest are Naver's trouble.
          return status === 401 || code === "024" || code === "028"
            ? { code: "OAuthCallback", reason: `naver_${code}`, providerError: code }
            : { code: "ProviderUnavailable", reason: `naver_${code}` };
        },
      });
      const user = isObject(body.response) ? body.response : undefined;
      const subject = stringOrNull(user, "id");
      if (body.resultcode !== "00" || subject === null) throw providerFailure(config.id, "profile", "OAuthCallback", "missing_id");
      return {
        profile: {
          provider: config.id,
          subject,
          issuer: null,
          email: stringOrNull(user, "email"),
          emailVerified: false,
          name: stringOrNull(user, "name") ?? stringOrNull(user, "nickname"),
          image: stringOrNull(user, "profile_image"),
        },
        tokens: tokenSet(tokens, input.scopes),
      };
    },
  };
}
