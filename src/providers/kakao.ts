/**
 * Kakao Login with OpenID Connect: the id_token names the user (`sub` is the
 * Kakao user id); the profile and the email's status come from
 * /v2/user/me, whose `id` must be that same user.
 */
import type { ProviderConfig } from "../config";
import { providerFailure } from "./failure";
import { getJsonObject, isObject, stringOrNull } from "./http";
import { openIdProvider } from "./oidc";
import type { ProviderOptions, SignInProvider } from "./types";

/** Kakao's OpenID issuer; its metadata comes from discovery. */
export const KAKAO_ISSUER = new URL("https://kauth.kakao.com");
const USER_ME = new URL("https://kapi.kakao.com/v2/user/me");
/** `openid` plus the consent items the profile reads (Kakao names scopes after them). */
export const KAKAO_DEFAULT_SCOPES = ["openid", "account_email", "profile_nickname", "profile_image"] as const;

/**
 * @example
 * const kakao = createKakao(config, { graphVersion: "v24.0", timeoutMs: 5000 });
 */
export function createKakao(config: ProviderConfig, options: ProviderOptions): SignInProvider {
  return openIdProvider(config, options, {
    issuer: KAKAO_ISSUER,
    defaultScopes: KAKAO_DEFAULT_SCOPES,
    async profile(_c, claims, accessToken) {
      const me = await getJsonObject(config.id, "profile", USER_ME, accessToken, {
        timeoutMs: options.timeoutMs,
        // Kakao answers a dead token with 401 {"msg":"…","code":-401}.
        classify: (status, body) =>
          status === 401 && isObject(body) && body.code === -401 ? { code: "OAuthCallback", reason: "kakao_-401", providerError: "-401" } : undefined,
      });
      if (String(me.id) !== claims.sub) throw providerFailure(config.id, "profile", "OAuthCallback", "subject_mismatch");
      const account = isObject(me.kakao_account) ? me.kakao_account : undefined;
      const profile = isObject(account?.profile) ? account.profile : undefined;
      const email = stringOrNull(account, "email");
      return {
        provider: config.id,
        subject: claims.sub,
        issuer: claims.iss,
        email,
        // Kakao marks an address it has confirmed AND that still receives mail.
        emailVerified: email !== null && account?.is_email_verified === true && account.is_email_valid === true,
        name: stringOrNull(profile, "nickname"),
        image: stringOrNull(profile, "profile_image_url"),
      };
    },
  });
}
