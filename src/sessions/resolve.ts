/**
 * Who is calling? The session JWT answers with zero database round trips
 * (plus one KV read of the denylist); only when it is missing, expired,
 * denylisted or unreadable does the refresh token go to the database, in
 * exactly one round trip that also rotates it.
 */
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { refreshSession, type SessionProof } from "../db/sessions";
import { GatehouseError } from "../error";
import { readCookie, REFRESH_COOKIE, SESSION_COOKIE } from "../lib/cookies";
import { describeError, log } from "../lib/log";
import { isSessionDenied } from "../kv/denylist";
import { verifySessionJwt, type SessionProfile } from "../tokens/session-jwt";
import { clearSessionCookies, setSessionCookies, setSessionJwtCookie } from "./browser-session";
import { familyForRotation, hashSecret, mintRotatedSecret, parseRefreshToken, refreshTokenValue } from "./refresh-token";
import { denySessionIds } from "./revoke";
import { enforceRateLimit } from "../lib/rate-limit";
import { count } from "../observability/metrics";

export interface ResolvedSession {
  userId: string;
  sessionId: string;
  /** True when this request rotated the refresh token (new cookies are on the response). */
  rotated: boolean;
  /** Which credential answered. */
  via: "jwt" | "refresh";
  profile: SessionProfile;
  /** When the session ends unless used again (refresh-token sliding expiry, as last known). */
  expiresAt: Date;
  /** The operator acting as the user when this is an impersonated session (`act.sub`), else null. */
  actorId: string | null;
}

/**
 * Resolves the caller's browser session, or `null`. New cookies are set on
 * `c` when the refresh token was used; both cookies are cleared when a
 * presented refresh token is refused, and the family is revoked on reuse.
 * A duplicated or oversized session cookie means no session at all.
 *
 * @example
 * const session = await resolveSession(c);
 * if (!session) throw new GatehouseError("Unauthorized", "Sign in first.");
 */
export async function resolveSession(c: Context<AppEnv>): Promise<ResolvedSession | null> {
  const now = new Date();
  const header = c.req.header("cookie");
  const sessionCookie = readCookie(header, SESSION_COOKIE);
  const refreshCookie = readCookie(header, REFRESH_COOKIE);
  if (sessionCookie.kind === "invalid" || refreshCookie.kind === "invalid") return null;
  if (sessionCookie.kind === "present") {
    const fromJwt = await sessionFromJwt(c, sessionCookie.value, now);
    if (fromJwt) return fromJwt;
  }
  if (refreshCookie.kind === "present") return sessionFromRefresh(c, refreshCookie.value, now);
  return null;
}

/**
 * `resolveSession`, or a 401 `Unauthorized` error.
 *
 * @example
 * const { userId } = await requireSession(c);
 */
export async function requireSession(c: Context<AppEnv>): Promise<ResolvedSession> {
  const session = await resolveSession(c);
  if (!session) throw new GatehouseError("Unauthorized", "There is no valid session.");
  return session;
}

async function sessionFromJwt(c: Context<AppEnv>, jwt: string, now: Date): Promise<ResolvedSession | null> {
  const result = await verifySessionJwt(c.get("config"), jwt, now);
  if (!result.ok) return null;
  const { claims } = result;
  // An impersonated session ends at its end, not when its last JWT expires (docs/operators.md "Admin").
  if (claims.act && claims.sess_exp * 1000 <= now.getTime()) return null;
  try {
    if (await isSessionDenied(c.get("kv"), claims.sid, now.getTime())) return null;
  } catch (error) {
    // Without the denylist the JWT cannot be trusted; the database can still answer.
    log("warn", "denylist_unavailable", describeError(error));
    return null;
  }
  return {
    userId: claims.sub,
    sessionId: claims.sid,
    rotated: false,
    via: "jwt",
    profile: {
      email: claims.email ?? null,
      emailVerified: claims.email_verified === true,
      name: claims.name ?? null,
      image: claims.picture ?? null,
    },
    expiresAt: new Date(claims.sess_exp * 1000),
    actorId: claims.act?.sub ?? null,
  };
}

async function sessionFromRefresh(c: Context<AppEnv>, value: string, now: Date): Promise<ResolvedSession | null> {
  const parsed = parseRefreshToken(value);
  if (!parsed) {
    clearSessionCookies(c);
    return null;
  }
  // A refresh costs a database round trip: forged or stolen-token guessing is limited per IP.
  await enforceRateLimit(c.var.refreshRateLimiter, "refresh", c.req.header("cf-connecting-ip"));
  const { sessions } = c.var.config;
  const next = await mintRotatedSecret();
  const family = await familyForRotation(parsed.familySecret);
  const outcome = await refreshSession(await c.var.db(), {
    sessionId: parsed.sessionId,
    presentedHash: await hashSecret(parsed.secret),
    presentedFamilyHash: parsed.familySecret === null ? null : family.familySecretHash,
    nextHash: next.secretHash,
    nextFamilyHash: family.familySecretHash,
    refreshTtlSeconds: sessions.refreshTtlSeconds,
    graceSeconds: sessions.refreshGraceSeconds,
    context: c.var.request,
  });
  switch (outcome.outcome) {
    case "rejected":
      count(c, { event: "refresh", provider: "browser", code: "rejected" });
      clearSessionCookies(c);
      return null;
    case "reused":
      // A past token of the family came back (any generation, past the grace window): assume it was stolen.
      log("warn", "refresh_token_reused", { sessionId: outcome.sessionId });
      count(c, { event: "refresh", provider: "browser", code: "reuse_detected" });
      clearSessionCookies(c);
      await denySessionIds(c, [outcome.sessionId]);
      return null;
    case "rotated":
    case "grace": {
      count(c, { event: "refresh", provider: "browser", code: outcome.outcome });
      const base = {
        userId: outcome.userId,
        sessionId: outcome.sessionId,
        now,
        profile: outcome.profile,
        sessionExpiresAt: outcome.expiresAt,
        actorId: outcome.actorId,
      };
      if (outcome.outcome === "rotated") {
        await setSessionCookies(c, { ...base, refreshToken: refreshTokenValue(outcome.sessionId, family.familySecret, next.secret) });
      } else {
        await setSessionJwtCookie(c, base);
      }
      return {
        userId: outcome.userId,
        sessionId: outcome.sessionId,
        rotated: outcome.outcome === "rotated",
        via: "refresh",
        profile: outcome.profile,
        expiresAt: outcome.expiresAt,
        actorId: outcome.actorId,
      };
    }
  }
}

/**
 * Proves who the caller is without rotating anything, for endpoints that
 * make their own single query (sign-out, session management): the session
 * JWT if valid and not denylisted, else the refresh token, whose secret the
 * query itself checks. Never touches the database.
 *
 * @example
 * const proof = await identifySession(c);
 * if (proof) await revokeSessions(await c.var.db(), proof, "current", { action: "signout", context: c.var.request });
 */
export async function identifySession(c: Context<AppEnv>): Promise<SessionProof | null> {
  const header = c.req.header("cookie");
  const sessionCookie = readCookie(header, SESSION_COOKIE);
  const refreshCookie = readCookie(header, REFRESH_COOKIE);
  if (sessionCookie.kind === "invalid" || refreshCookie.kind === "invalid") return null;
  if (sessionCookie.kind === "present") {
    const fromJwt = await sessionFromJwt(c, sessionCookie.value, new Date());
    if (fromJwt) return { kind: "jwt", sessionId: fromJwt.sessionId, userId: fromJwt.userId };
  }
  const parsed = refreshCookie.kind === "present" ? parseRefreshToken(refreshCookie.value) : null;
  if (!parsed) return null;
  // The caller's query checks this secret in the database: limited like a refresh.
  await enforceRateLimit(c.var.refreshRateLimiter, "refresh", c.req.header("cf-connecting-ip"));
  return {
    kind: "refresh",
    sessionId: parsed.sessionId,
    secretHash: await hashSecret(parsed.secret),
    familySecretHash: parsed.familySecret === null ? null : await hashSecret(parsed.familySecret),
    graceSeconds: c.var.config.sessions.refreshGraceSeconds,
  };
}
