/**
 * Any OpenID Connect issuer by URL (Keycloak, Auth0, Okta, the local dev
 * provider), and the engine Google and Kakao are built on: discovery, code
 * flow with PKCE and nonce, id_token signature and claims, then UserInfo
 * (whose `sub` must equal the id_token's).
 */
import * as oauth from "oauth4webapi";
import type { ProviderConfig } from "../config";
import { GatehouseError } from "../error";
import { discover } from "./discovery";
import { toProviderError } from "./failure";
import { httpOptions, stringOrNull } from "./http";
import { verifyIdToken } from "./id-token";
import { buildAuthorizationUrl, exchangeCode, oauthClient, tokenSet, type OAuthClient } from "./oauth";
import type { Profile, ProviderOptions, SignInProvider } from "./types";

/** What a generic OpenID issuer is asked for unless `OIDC_<ID>_SCOPES` says otherwise. */
export const OIDC_DEFAULT_SCOPES = ["openid", "email", "profile"] as const;

/** What makes one OpenID provider differ from another. */
export interface OpenIdSpec {
  issuer: URL;
  defaultScopes: readonly string[];
  /** Extra authorization request parameters. */
  authorizationParams?: Record<string, string>;
  /** Builds the profile from the verified id_token; default: {@link standardProfile}. */
  profile?: (c: OAuthClient, claims: oauth.IDToken, accessToken: string) => Promise<Profile>;
}

/**
 * A sign-in provider for an OpenID Connect issuer.
 *
 * @example
 * const local = createOidc({ id: "local", kind: "oidc", name: "Local", issuer: new URL("http://localhost:9000"), clientId, clientSecret, scopes: [] }, options);
 */
export function createOidc(config: ProviderConfig, options: ProviderOptions): SignInProvider {
  if (!config.issuer) throw new GatehouseError("Configuration", `The OIDC provider "${config.id}" has no issuer URL.`);
  return openIdProvider(config, options, { issuer: config.issuer, defaultScopes: OIDC_DEFAULT_SCOPES });
}

/**
 * The OpenID engine with a provider's particulars.
 *
 * @example
 * openIdProvider(config, options, { issuer: new URL("https://accounts.google.com"), defaultScopes: ["openid", "email"] })
 */
export function openIdProvider(config: ProviderConfig, options: ProviderOptions, spec: OpenIdSpec): SignInProvider {
  const http = httpOptions({ timeoutMs: options.timeoutMs, issuer: spec.issuer });
  const connect = async () => {
    const issuer = await discover(config.id, spec.issuer, http);
    return { issuer, c: oauthClient(config.id, issuer.as, config, clientAuthFor(issuer.as), http) };
  };
  const profileOf = spec.profile ?? ((c, claims, token) => standardProfile(c, claims, token, config.id));

  return {
    id: config.id,
    kind: config.kind,
    name: config.name,
    usesNonce: true,
    defaultScopes: spec.defaultScopes,
    async authorizationUrl(request) {
      const { c } = await connect();
      return buildAuthorizationUrl(c, request, spec.authorizationParams);
    },
    async completeSignIn(input) {
      const { issuer, c } = await connect();
      const exchange = await exchangeCode(c, input, { oidc: true });
      const claims = await verifyIdToken(c, issuer, exchange);
      const profile = await profileOf(c, claims, exchange.tokens.access_token);
      return { profile, tokens: tokenSet(exchange.tokens, input.scopes) };
    },
  };
}

/** client_secret_basic unless the issuer only offers client_secret_post (Kakao). */
function clientAuthFor(as: oauth.AuthorizationServer): "basic" | "post" {
  const methods = as.token_endpoint_auth_methods_supported;
  return methods && !methods.includes("client_secret_basic") && methods.includes("client_secret_post") ? "post" : "basic";
}

/**
 * The profile from the id_token, completed by UserInfo when the issuer has
 * one. Email and its verification always come from the same document.
 *
 * @example
 * const profile = await standardProfile(c, claims, accessToken, "local");
 */
export async function standardProfile(c: OAuthClient, claims: oauth.IDToken, accessToken: string, provider: string): Promise<Profile> {
  const info = c.as.userinfo_endpoint ? await userInfo(c, claims.sub, accessToken) : undefined;
  const emailSource = typeof claims.email === "string" ? claims : (info ?? claims);
  return {
    provider,
    subject: claims.sub,
    issuer: claims.iss,
    email: stringOrNull(emailSource, "email"),
    emailVerified: typeof emailSource.email === "string" && emailSource.email_verified === true,
    name: stringOrNull(claims, "name") ?? stringOrNull(info, "name") ?? stringOrNull(info, "preferred_username"),
    image: stringOrNull(claims, "picture") ?? stringOrNull(info, "picture"),
  };
}

/**
 * UserInfo claims; oauth4webapi rejects a `sub` other than the id_token's.
 *
 * @example
 * const info = await userInfo(c, claims.sub, accessToken);
 */
export async function userInfo(c: OAuthClient, subject: string, accessToken: string): Promise<oauth.UserInfoResponse> {
  try {
    const response = await oauth.userInfoRequest(c.as, c.client, accessToken, c.http);
    return await oauth.processUserInfoResponse(c.as, c.client, subject, response);
  } catch (error) {
    throw toProviderError(c.provider, "userinfo", error);
  }
}
