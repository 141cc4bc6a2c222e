/**
 * The session JWT: a short-lived ES256 token in the `__Host-gh_session`
 * cookie, verified by the worker itself with zero database round trips.
 *
 * It can never pass for an access token, nor an access token for it: the
 * header `typ` differs (`session+jwt` vs `at+jwt`) and so does the audience
 * (`${AUTH_URL}/session`, which is never an allowed API audience).
 */
import { jwtVerify, SignJWT } from "jose";
import { JWSInvalid, JWTExpired, JWTInvalid } from "jose/errors";
import type { Config } from "../config";
import { jwtShapeProblem } from "../verify";
import { keyRingFor, verificationKeyGetter, SIGNING_ALG } from "./keys";

export const SESSION_JWT_TYPE = "session+jwt";
/** Edge clocks differ a little; the same bound backends get for access tokens (F7). */
export const SESSION_CLOCK_TOLERANCE_SECONDS = 60;
/** A cookie cannot be larger; anything bigger is refused before parsing. */
export const MAX_SESSION_JWT_LENGTH = 4096;

/** What a session JWT carries: enough to answer `/auth/session` without the database. */
export interface SessionClaims {
  /** The user id. */
  sub: string;
  /** The session (refresh family) id. */
  sid: string;
  iat: number;
  exp: number;
  email?: string;
  /** Whether `email` is verified (present only with `email`). */
  email_verified?: boolean;
  name?: string;
  picture?: string;
  /** When the refresh family expires (as of this token's issue), seconds since the epoch. */
  sess_exp: number;
  /** RFC 8693 actor: the operator acting as `sub` (impersonation, docs/operators.md "Admin"). */
  act?: { sub: string };
}

/** The profile fields copied into the session JWT; `null` fields are left out. */
export interface SessionProfile {
  email: string | null;
  /** Whether the user's email was verified by a provider that asserts it; apps must not authorize by an unverified address. */
  emailVerified: boolean;
  name: string | null;
  image: string | null;
}

export type SessionJwtResult =
  | { ok: true; claims: SessionClaims }
  | { ok: false; reason: "malformed" | "expired" | "invalid" };

/** The audience of session JWTs: never one of ALLOWED_AUDIENCES (config keeps those external). */
export function sessionAudience(config: Pick<Config, "authUrl">): string {
  return `${config.authUrl.origin}/session`;
}

/**
 * Signs a session JWT with the first signing key.
 *
 * @example
 * const jwt = await signSessionJwt(config, { userId, sessionId, profile, sessionExpiresAt, now: new Date() });
 */
export async function signSessionJwt(
  config: Pick<Config, "authUrl" | "signingKeys" | "sessions">,
  input: { userId: string; sessionId: string; profile: SessionProfile; sessionExpiresAt: Date; now: Date; actorId?: string | null },
): Promise<string> {
  const ring = await keyRingFor(config.signingKeys);
  const iat = Math.floor(input.now.getTime() / 1000);
  const claims: Record<string, unknown> = {
    sid: input.sessionId,
    sess_exp: Math.floor(input.sessionExpiresAt.getTime() / 1000),
  };
  if (input.profile.email !== null) {
    claims.email = input.profile.email;
    claims.email_verified = input.profile.emailVerified;
  }
  if (input.profile.name !== null) claims.name = input.profile.name;
  if (input.profile.image !== null) claims.picture = input.profile.image;
  if (input.actorId) claims.act = { sub: input.actorId };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: SIGNING_ALG, kid: ring.signing.kid, typ: SESSION_JWT_TYPE })
    .setIssuer(config.authUrl.origin)
    .setAudience(sessionAudience(config))
    .setSubject(input.userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + config.sessions.sessionTtlSeconds)
    .sign(ring.signing.privateKey);
}

/**
 * Verifies a session JWT: ES256 only, one of our `kid`s, our issuer and the
 * session audience, `typ: session+jwt`, and `exp`/`nbf`/`iat` within 60 s of
 * `now`. Returns a reason instead of throwing.
 *
 * @example
 * const r = await verifySessionJwt(config, cookieValue, new Date());
 * if (r.ok) r.claims.sid;
 */
export async function verifySessionJwt(
  config: Pick<Config, "authUrl" | "signingKeys" | "sessions">,
  token: string,
  now: Date,
): Promise<SessionJwtResult> {
  const nowSeconds = now.getTime() / 1000;
  const known = verified.get(config)?.get(token);
  if (known) {
    if (withinTime(known, nowSeconds, config.sessions.sessionTtlSeconds)) return { ok: true, claims: known };
    verified.get(config)?.delete(token);
  }
  if (jwtShapeProblem(token, MAX_SESSION_JWT_LENGTH) !== null) return { ok: false, reason: "malformed" };
  const ring = await keyRingFor(config.signingKeys);
  try {
    const { payload } = await jwtVerify(token, verificationKeyGetter(ring), {
      algorithms: [SIGNING_ALG],
      typ: SESSION_JWT_TYPE,
      issuer: config.authUrl.origin,
      audience: sessionAudience(config),
      requiredClaims: ["sub", "sid", "exp", "iat", "sess_exp"],
      clockTolerance: SESSION_CLOCK_TOLERANCE_SECONDS,
      maxTokenAge: config.sessions.sessionTtlSeconds,
      currentDate: now,
    });
    if (!isSessionClaims(payload)) return { ok: false, reason: "invalid" };
    remember(config, token, payload);
    return { ok: true, claims: payload };
  } catch (error) {
    if (error instanceof JWTExpired) return { ok: false, reason: "expired" };
    if (error instanceof JWSInvalid || error instanceof JWTInvalid) return { ok: false, reason: "malformed" };
    return { ok: false, reason: "invalid" };
  }
}

/**
 * Session JWTs this isolate verified, per configuration object (a new
 * configuration, e.g. rotated keys, starts empty): the same bytes verify the
 * same way, so a repeated check skips the signature and claim checks and
 * re-checks only time, exactly as jose would (`exp`, `iat`, the token age,
 * each with the clock tolerance). Revocation is not cached here: callers
 * still consult the denylist. Bounded; the oldest entries go first.
 */
const verified = new WeakMap<object, Map<string, SessionClaims>>();
const VERIFIED_MAX = 10_000;

function remember(config: object, token: string, claims: SessionClaims): void {
  let tokens = verified.get(config);
  if (!tokens) verified.set(config, (tokens = new Map()));
  if (tokens.size >= VERIFIED_MAX) tokens.delete(tokens.keys().next().value as string);
  tokens.set(token, claims);
}

function withinTime(claims: SessionClaims, now: number, maxAgeSeconds: number): boolean {
  const tolerance = SESSION_CLOCK_TOLERANCE_SECONDS;
  return now < claims.exp + tolerance && now - claims.iat <= maxAgeSeconds + tolerance && claims.iat - now <= tolerance;
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

function isSessionClaims(payload: Record<string, unknown>): payload is Record<string, unknown> & SessionClaims {
  const optionalString = (v: unknown) => v === undefined || typeof v === "string";
  return (
    // An empty `sub` or `sid` names nobody: never a session (jose's requiredClaims only checks presence).
    nonEmptyString(payload.sub) &&
    nonEmptyString(payload.sid) &&
    typeof payload.sess_exp === "number" &&
    optionalString(payload.email) &&
    (payload.email_verified === undefined || typeof payload.email_verified === "boolean") &&
    optionalString(payload.name) &&
    optionalString(payload.picture) &&
    (payload.act === undefined || isActor(payload.act))
  );
}

/** `act` as gatehouse writes it: `{ sub: <operator id> }` and nothing else. */
function isActor(value: unknown): value is { sub: string } {
  return typeof value === "object" && value !== null && Object.keys(value).length === 1 && nonEmptyString((value as { sub?: unknown }).sub);
}
