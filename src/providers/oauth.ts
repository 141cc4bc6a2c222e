/**
 * The OAuth 2 authorization code flow shared by every provider, on
 * oauth4webapi: authorization URL with PKCE S256 (and a nonce for OIDC), the
 * callback check (state, RFC 9207 `iss`, `error=`), the code exchange, and the
 * provider token set.
 */
import * as oauth from "oauth4webapi";
import { GatehouseError } from "../error";
import { providerFailure, toProviderError } from "./failure";
import type { HttpOptions } from "./http";
import type { AuthorizationRequest, CallbackInput, ProviderTokenSet } from "./types";

/** Accepted clock difference with a provider for `exp` and `iat` (F7). */
export const CLOCK_LEEWAY_SECONDS = 60;

/** One configured client of one authorization server. */
export interface OAuthClient {
  /** Provider id, for errors and logs. */
  provider: string;
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  auth: oauth.ClientAuth;
  http: HttpOptions;
}

/**
 * @example
 * const c = oauthClient("github", GITHUB_AS, config, "post", httpOptions({ timeoutMs }));
 */
export function oauthClient(
  provider: string,
  as: oauth.AuthorizationServer,
  credentials: { clientId: string; clientSecret: string },
  auth: "post" | "basic",
  http: HttpOptions,
): OAuthClient {
  return {
    provider,
    as,
    client: { client_id: credentials.clientId, [oauth.clockTolerance]: CLOCK_LEEWAY_SECONDS },
    auth: auth === "basic" ? oauth.ClientSecretBasic(credentials.clientSecret) : oauth.ClientSecretPost(credentials.clientSecret),
    http,
  };
}

/**
 * The authorization redirect: response_type=code, PKCE S256, state, scopes,
 * and the nonce when the request carries one. No network traffic.
 *
 * @example
 * const url = await buildAuthorizationUrl(c, request, { prompt: "select_account" });
 */
export async function buildAuthorizationUrl(
  c: OAuthClient,
  request: AuthorizationRequest,
  extra: Record<string, string> = {},
): Promise<URL> {
  if (!c.as.authorization_endpoint) throw providerFailure(c.provider, "discovery", "ProviderUnavailable", "missing_authorization_endpoint");
  const url = new URL(c.as.authorization_endpoint);
  const params = url.searchParams;
  params.set("response_type", "code");
  params.set("client_id", c.client.client_id);
  params.set("redirect_uri", request.redirectUri);
  if (request.scopes.length > 0) params.set("scope", request.scopes.join(" "));
  params.set("state", request.state);
  params.set("code_challenge", await oauth.calculatePKCECodeChallenge(request.codeVerifier));
  params.set("code_challenge_method", "S256");
  if (request.nonce !== null) params.set("nonce", request.nonce);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return url;
}

/** What the code exchange returns: the parsed body, and the raw response for signature checks. */
export interface CodeExchange {
  tokens: oauth.TokenEndpointResponse;
  response: Response;
  /** Claims of the id_token, validated except for the signature (see id-token.ts). */
  idToken: oauth.IDToken | undefined;
}

/**
 * Checks the callback (state first, then `iss` and `error=`), awaits
 * `input.beforeExchange`, and exchanges the code with the PKCE verifier. With `oidc`, an id_token is required and
 * its nonce, iss, aud, exp are checked (signature: `verifyIdToken`).
 *
 * @example
 * const { tokens } = await exchangeCode(c, input, { oidc: false });
 */
export async function exchangeCode(
  c: OAuthClient,
  input: CallbackInput,
  options: { oidc: boolean; additionalParameters?: Record<string, string> },
): Promise<CodeExchange> {
  // State is checked before anything else, `error=` included: an unsolicited
  // callback is StateInvalid whatever it says.
  if (input.callbackUrl.searchParams.getAll("state").length !== 1 || input.callbackUrl.searchParams.get("state") !== input.state) {
    throw providerFailure(c.provider, "callback", "StateInvalid", "state_mismatch");
  }
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(c.as, c.client, input.callbackUrl, input.state);
  } catch (error) {
    throw toProviderError(c.provider, "callback", error);
  }
  if (options.oidc && input.nonce === null) {
    throw new GatehouseError("Internal", "The sign-in request has no nonce.", { extra: { provider: c.provider } });
  }
  // Outside the try below: what it throws is not a provider error.
  await input.beforeExchange?.();
  try {
    const response = await oauth.authorizationCodeGrantRequest(c.as, c.client, c.auth, params, input.redirectUri, input.codeVerifier, {
      ...c.http,
      ...(options.additionalParameters ? { additionalParameters: options.additionalParameters } : {}),
    });
    const tokens = await oauth.processAuthorizationCodeResponse(c.as, c.client, response, {
      expectedNonce: options.oidc && input.nonce !== null ? input.nonce : oauth.expectNoNonce,
      requireIdToken: options.oidc,
    });
    return { tokens, response, idToken: oauth.getValidatedIdTokenClaims(tokens) };
  } catch (error) {
    throw toProviderError(c.provider, "token", error);
  }
}

/**
 * The provider's tokens as stored. Scopes come from the token response's
 * `scope` (GitHub separates them with commas); when it is absent, RFC 6749
 * §5.1 says the requested scopes were granted.
 *
 * @example
 * tokenSet(tokens, ["read:user"]) // { accessToken, refreshToken: null, expiresAt: null, scopes: ["read:user"] }
 */
export function tokenSet(tokens: oauth.TokenEndpointResponse, requestedScopes: readonly string[]): ProviderTokenSet {
  const expiresIn = tokens.expires_in;
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? null,
    expiresAt: typeof expiresIn === "number" && expiresIn > 0 ? new Date(Date.now() + expiresIn * 1000) : null,
    scopes: typeof tokens.scope === "string" ? parseScopes(tokens.scope) : [...requestedScopes],
  };
}

/**
 * @example
 * parseScopes("read:user,user:email") // ["read:user", "user:email"]
 */
export function parseScopes(scope: string): string[] {
  return [...new Set(scope.split(/[\s,]+/).filter(Boolean))];
}
