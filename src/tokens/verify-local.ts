/**
 * Verifies an access token inside the worker, against our own key ring
 * instead of a fetched JWKS, with exactly the rules `gatehouse/verify` gives
 * every backend: ES256 only, `typ: at+jwt`, our issuer, the audience the
 * caller names, `exp`/`nbf`/`iat` within 60 s (F7, F8). Used by the org API
 * (`middleware/bearer.ts`) with gatehouse's own API audience; session JWTs
 * never pass (other `typ`, other `aud`).
 */
import { jwtVerify } from "jose";
import { JOSEAlgNotAllowed, JWKSNoMatchingKey, JWSSignatureVerificationFailed, JWTClaimValidationFailed, JWTExpired } from "jose/errors";
import type { Config } from "../config";
import {
  ACCESS_TOKEN_TYPE,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  jwtShapeProblem,
  MAX_TOKEN_LENGTH,
  type AccessTokenClaims,
  type VerifyAccessTokenResult,
} from "../verify";
import { keyRingFor, verificationKeyGetter, SIGNING_ALG } from "./keys";

/**
 * Verifies `token` as an access token this worker minted for `audience`.
 * Never throws for a bad token; the result says why it was refused. `now` is for tests.
 *
 * @example
 * const r = await verifyAccessTokenLocal(c.var.config, bearer, gatehouseApiAudience(c.var.config.authUrl));
 * if (r.ok) r.claims.sub; // the user id
 */
export async function verifyAccessTokenLocal(
  config: Pick<Config, "authUrl" | "signingKeys" | "sessions">,
  token: string,
  audience: string,
  now: Date = new Date(),
): Promise<VerifyAccessTokenResult> {
  if (jwtShapeProblem(token, MAX_TOKEN_LENGTH) !== null) return { ok: false, error: "malformed" };
  const ring = await keyRingFor(config.signingKeys);
  try {
    const { payload } = await jwtVerify(token, verificationKeyGetter(ring), {
      algorithms: [SIGNING_ALG],
      typ: ACCESS_TOKEN_TYPE,
      issuer: config.authUrl.origin,
      audience,
      requiredClaims: ["sub", "exp", "iat"],
      clockTolerance: DEFAULT_CLOCK_TOLERANCE_SECONDS,
      // Nothing we mint lives longer than the configured lifetime.
      maxTokenAge: config.sessions.accessTokenTtlSeconds,
      currentDate: now,
    });
    // `sub` must name someone; `sid`, when present, must name a session.
    if (typeof payload.sub !== "string" || payload.sub === "") return { ok: false, error: "invalid_claims" };
    if (payload.sid !== undefined && (typeof payload.sid !== "string" || payload.sid === "")) return { ok: false, error: "invalid_claims" };
    return { ok: true, claims: payload as AccessTokenClaims };
  } catch (error) {
    if (error instanceof JWTExpired) return { ok: false, error: "expired" };
    if (error instanceof JWTClaimValidationFailed) return { ok: false, error: "invalid_claims" };
    if (error instanceof JWKSNoMatchingKey) return { ok: false, error: "unknown_key" };
    if (error instanceof JWSSignatureVerificationFailed || error instanceof JOSEAlgNotAllowed) {
      return { ok: false, error: "invalid_signature" };
    }
    return { ok: false, error: "malformed" };
  }
}
