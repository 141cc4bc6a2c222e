/**
 * The id_token checks oauth4webapi leaves to us: it validates claims (iss,
 * aud, exp, nonce) but not the signature of a token fetched over TLS, and
 * not an `iat` in the future. We require both: the signature against the
 * issuer's JWKS (never `none`, never HMAC), and `iat` no later than now plus
 * the leeway (F7).
 */
import * as oauth from "oauth4webapi";
import type { DiscoveredIssuer } from "./discovery";
import { providerFailure, toProviderError } from "./failure";
import { CLOCK_LEEWAY_SECONDS, type CodeExchange, type OAuthClient } from "./oauth";

/**
 * Verifies the id_token of a code exchange and returns its claims. An
 * unknown `kid` (the issuer rotated keys) costs one JWKS refetch, then fails.
 *
 * @example
 * const claims = await verifyIdToken(c, issuer, await exchangeCode(c, input, { oidc: true }));
 */
export async function verifyIdToken(c: OAuthClient, issuer: DiscoveredIssuer, exchange: CodeExchange): Promise<oauth.IDToken> {
  const claims = exchange.idToken;
  const idToken = exchange.tokens.id_token;
  if (!claims || idToken === undefined) throw providerFailure(c.provider, "id_token", "OAuthCallback", "missing_id_token");

  const alg = headerAlg(idToken);
  if (alg === undefined || alg === "none" || alg.toUpperCase().startsWith("HS")) {
    throw providerFailure(c.provider, "id_token", "OAuthCallback", "alg_not_allowed");
  }
  if (claims.iat > Math.floor(Date.now() / 1000) + CLOCK_LEEWAY_SECONDS) {
    throw providerFailure(c.provider, "id_token", "OAuthCallback", "iat_in_future");
  }

  // A copy of `as` keeps oauth4webapi's own per-object JWKS memo out of the
  // way, so `issuer.jwks` is the only JWKS cache and we decide on refetches.
  const check = () =>
    oauth.validateApplicationLevelSignature({ ...issuer.as }, exchange.response, {
      ...c.http,
      [oauth.jwksCache]: issuer.jwks as oauth.JWKSCacheInput,
    });
  const cachedAt = issuer.jwks.uat;
  try {
    await check();
  } catch (error) {
    const fetchedJustNow = issuer.jwks.uat !== cachedAt;
    if (!isKeySelectionFailure(error) || fetchedJustNow) throw toProviderError(c.provider, "id_token", error);
    delete issuer.jwks.jwks;
    delete issuer.jwks.uat;
    try {
      await check();
    } catch (retryError) {
      throw toProviderError(c.provider, "id_token", retryError);
    }
  }
  return claims;
}

function isKeySelectionFailure(error: unknown): boolean {
  return error instanceof oauth.OperationProcessingError && error.code === oauth.KEY_SELECTION;
}

/** The `alg` of a compact JWS header, or undefined when it cannot be read. */
function headerAlg(jws: string): string | undefined {
  const [header] = jws.split(".");
  try {
    const b64 = (header ?? "").replaceAll("-", "+").replaceAll("_", "/");
    const parsed: unknown = JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)));
    const alg = (parsed as { alg?: unknown } | null)?.alg;
    return typeof alg === "string" ? alg : undefined;
  } catch {
    return undefined;
  }
}
