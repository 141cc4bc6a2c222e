/**
 * Google: an OpenID Connect issuer. Everything the profile needs (email,
 * email_verified, name, picture) is in the signed id_token, so there is no
 * UserInfo round trip.
 */
import type { ProviderConfig } from "../config";
import { stringOrNull } from "./http";
import { openIdProvider } from "./oidc";
import type { ProviderOptions, SignInProvider } from "./types";

/** Google's issuer; its metadata comes from discovery. */
export const GOOGLE_ISSUER = new URL("https://accounts.google.com");
/** Everything the profile needs is in the id_token with these. */
export const GOOGLE_DEFAULT_SCOPES = ["openid", "email", "profile"] as const;

/**
 * @example
 * const google = createGoogle(config, { graphVersion: "v24.0", timeoutMs: 5000 });
 */
export function createGoogle(config: ProviderConfig, options: ProviderOptions): SignInProvider {
  return openIdProvider(config, options, {
    issuer: GOOGLE_ISSUER,
    defaultScopes: GOOGLE_DEFAULT_SCOPES,
    async profile(_c, claims) {
      const email = stringOrNull(claims, "email");
      return {
        provider: config.id,
        subject: claims.sub,
        issuer: claims.iss,
        email,
        emailVerified: email !== null && claims.email_verified === true,
        name: stringOrNull(claims, "name"),
        image: stringOrNull(claims, "picture"),
      };
    },
  });
}
