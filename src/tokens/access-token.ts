/**
 * Access tokens for APIs (RFC 9068 `at+jwt`), minted by `POST /auth/token`
 * and checked by backends with `gatehouse/verify` using only the JWKS.
 */
import { SignJWT } from "jose";
import type { Config } from "../config";
import { ACCESS_TOKEN_TYPE } from "../verify";
import { keyRingFor, SIGNING_ALG } from "./keys";

/** Scopes an access token can carry; they describe the identity claims a backend may rely on. */
export const SUPPORTED_SCOPES = ["openid", "profile", "email"] as const;
export const DEFAULT_SCOPE = "openid profile";

export interface AccessTokenInput {
  userId: string;
  sessionId: string;
  /** One of `config.allowedAudiences`; the caller has checked it. */
  audience: string;
  /** Space-separated subset of SUPPORTED_SCOPES. */
  scope: string;
  /** The web origin that asked for the token. */
  clientId: string;
  /** The organization the token acts for and the user's roles there; no org claims without it. */
  org?: { id: string; roles: readonly string[] } | undefined;
  now: Date;
}

/**
 * Signs an access token with the first signing key; `jti` is random.
 *
 * @example
 * const { token, expiresIn } = await signAccessToken(config, { userId, sessionId, audience, scope: "openid profile", clientId: origin, now: new Date() });
 */
export async function signAccessToken(
  config: Pick<Config, "authUrl" | "signingKeys" | "sessions">,
  input: AccessTokenInput,
): Promise<{ token: string; expiresIn: number }> {
  const ring = await keyRingFor(config.signingKeys);
  const iat = Math.floor(input.now.getTime() / 1000);
  const expiresIn = config.sessions.accessTokenTtlSeconds;
  const token = await new SignJWT({
    sid: input.sessionId,
    scope: input.scope,
    client_id: input.clientId,
    ...(input.org ? { org: input.org.id, roles: [...input.org.roles] } : {}),
  })
    .setProtectedHeader({ alg: SIGNING_ALG, kid: ring.signing.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(config.authUrl.origin)
    .setAudience(input.audience)
    .setSubject(input.userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + expiresIn)
    .setJti(crypto.randomUUID())
    .sign(ring.signing.privateKey);
  return { token, expiresIn };
}

/**
 * Normalizes a requested scope: `undefined` means DEFAULT_SCOPE; otherwise
 * every name must be supported. Returns `null` for an unsupported request.
 *
 * @example
 * requestedScope("openid email"); // "openid email"
 * requestedScope("admin");        // null
 */
export function requestedScope(scope: unknown): string | null {
  if (scope === undefined) return DEFAULT_SCOPE;
  if (typeof scope !== "string") return null;
  const names = scope.split(" ").filter(Boolean);
  if (names.length === 0 || !names.every((n) => (SUPPORTED_SCOPES as readonly string[]).includes(n))) return null;
  return [...new Set(names)].join(" ");
}
