/**
 * Access tokens for APIs (RFC 9068 `at+jwt`), minted by `POST /auth/token`
 * and checked by backends with `gatehouse/verify` using only the JWKS.
 */
import { SignJWT } from "jose";
import type { Config } from "../config";
import { ACCESS_TOKEN_TYPE } from "../verify";
import { keyRingFor, SIGNING_ALG } from "./keys";

/** Scopes an access token for an ALLOWED_AUDIENCES API can carry; they describe the identity claims a backend may rely on. */
export const SUPPORTED_SCOPES = ["openid", "profile", "email"] as const;
export const DEFAULT_SCOPE = "openid profile";

/**
 * The scope of tokens for gatehouse's own APIs (`/api/orgs…`); granted only
 * with the audience `gatehouseApiAudience`, never with an ALLOWED_AUDIENCES one.
 */
export const ORGS_SCOPE = "gatehouse:orgs";
/**
 * The scope of the operators' API (`/api/admin…`, docs/operators.md "Admin"):
 * minted only for a session of a user named in ADMIN_USER_IDS, never for an
 * impersonated one (routes/token.ts); every request checks the list again.
 */
export const ADMIN_SCOPE = "gatehouse:admin";
/** Scopes a token for gatehouse's own APIs can carry. */
export const API_SCOPES = [ORGS_SCOPE, ADMIN_SCOPE] as const;

/**
 * The resource identifier (audience) of gatehouse's own APIs: `<AUTH_URL>/api`.
 * Never a default: a token for it is minted only when asked for by name, so
 * a token any other backend receives can never be replayed to gatehouse.
 *
 * @example
 * gatehouseApiAudience(new URL("https://auth.example.com")); // "https://auth.example.com/api"
 */
export function gatehouseApiAudience(authUrl: URL): string {
  return `${authUrl.origin}/api`;
}

export interface AccessTokenInput {
  userId: string;
  sessionId: string;
  /** One of `config.allowedAudiences`, or `gatehouseApiAudience`; the caller has checked it. */
  audience: string;
  /** Space-separated subset of SUPPORTED_SCOPES (of API_SCOPES for gatehouse's own API). */
  scope: string;
  /** The web origin that asked for the token. */
  clientId: string;
  /** The organization the token acts for and the user's roles there; no org claims without it. */
  org?: { id: string; roles: readonly string[] } | undefined;
  /** The operator acting as the user (impersonation): the token carries `act: {sub}` (RFC 8693). */
  actorId?: string | null | undefined;
  /** The token never outlives this (an impersonated session's end). */
  notAfter?: Date | undefined;
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
  const ttl = config.sessions.accessTokenTtlSeconds;
  const cap = input.notAfter ? Math.floor(input.notAfter.getTime() / 1000) - iat : ttl;
  const expiresIn = Math.max(1, Math.min(ttl, cap));
  const token = await new SignJWT({
    sid: input.sessionId,
    scope: input.scope,
    client_id: input.clientId,
    ...(input.org ? { org: input.org.id, roles: [...input.org.roles] } : {}),
    ...(input.actorId ? { act: { sub: input.actorId } } : {}),
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
 * Normalizes a requested scope: `undefined` means the default (DEFAULT_SCOPE,
 * or ORGS_SCOPE for gatehouse's own API); otherwise every name must be
 * supported for that kind of audience. Returns `null` for an unsupported request.
 *
 * @example
 * requestedScope("openid email");          // "openid email"
 * requestedScope("admin");                 // null
 * requestedScope("gatehouse:orgs");        // null: not for an ALLOWED_AUDIENCES API
 * requestedScope(undefined, "gatehouse");  // "gatehouse:orgs"
 */
export function requestedScope(scope: unknown, kind: "external" | "gatehouse" = "external"): string | null {
  const supported: readonly string[] = kind === "gatehouse" ? API_SCOPES : SUPPORTED_SCOPES;
  if (scope === undefined) return kind === "gatehouse" ? ORGS_SCOPE : DEFAULT_SCOPE;
  if (typeof scope !== "string") return null;
  const names = scope.split(" ").filter(Boolean);
  if (names.length === 0 || !names.every((n) => supported.includes(n))) return null;
  return [...new Set(names)].join(" ");
}
