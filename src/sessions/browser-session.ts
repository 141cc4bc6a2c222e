/**
 * Issuing and clearing the two browser cookies: the session JWT
 * (`__Host-gh_session`, lives as long as the JWT) and the refresh token
 * (`__Host-gh_refresh`, lives as long as the session row's sliding expiry).
 */
import type { Context } from "hono";
import type { AppEnv } from "../context";
import type { NewSession } from "../db/sessions";
import { REFRESH_COOKIE, serializeCookie, SESSION_COOKIE } from "../lib/cookies";
import { signSessionJwt, type SessionProfile } from "../tokens/session-jwt";

const NO_PROFILE: SessionProfile = { email: null, emailVerified: false, name: null, image: null };

/**
 * Appends a Set-Cookie to the response being built. It is written on
 * `c.res` (not prepared headers) so it survives a later thrown error:
 * Hono merges `c.res` headers into the error response. Losing a rotated
 * refresh cookie would make the browser's next refresh look like reuse.
 */
function appendSetCookie(c: Context<AppEnv>, value: string): void {
  c.res.headers.append("Set-Cookie", value);
}

/**
 * Signs a session JWT and sets both cookies. The sign-in callback calls it
 * after its batch has inserted the session row (`insertSessionStatement`).
 * Pass `profile` so `/auth/session` can show the user without a query;
 * `sessionExpiresAt` defaults to what `insertSessionStatement` stored.
 *
 * @example
 * const minted = await mintRefreshToken();
 * await db.batch([...userWrites, insertSessionStatement(db, { sessionId: minted.sessionId, … })]);
 * await setSessionCookies(c, { userId, sessionId: minted.sessionId, refreshToken: minted.token, now, profile: { email, name, image } });
 */
export async function setSessionCookies(
  c: Context<AppEnv>,
  input: {
    userId: string;
    sessionId: string;
    refreshToken: string;
    now: Date;
    profile?: SessionProfile;
    sessionExpiresAt?: Date;
    /** The operator acting as the user (an impersonated session): the JWT carries `act`. */
    actorId?: string | null;
  },
): Promise<void> {
  const { sessions } = c.var.config;
  const sessionExpiresAt =
    input.sessionExpiresAt ??
    new Date(input.now.getTime() + Math.min(sessions.refreshTtlSeconds, sessions.refreshAbsoluteTtlSeconds) * 1000);
  await setSessionJwtCookie(c, { ...input, sessionExpiresAt });
  const refreshMaxAge = (sessionExpiresAt.getTime() - input.now.getTime()) / 1000;
  appendSetCookie(c, serializeCookie(REFRESH_COOKIE, input.refreshToken, refreshMaxAge));
}

/**
 * Sets only the session-JWT cookie, for a session whose refresh token stays
 * as it is (the grace-window answer to a parallel refresh).
 *
 * @example
 * await setSessionJwtCookie(c, { userId, sessionId, now, profile, sessionExpiresAt });
 */
export async function setSessionJwtCookie(
  c: Context<AppEnv>,
  input: { userId: string; sessionId: string; now: Date; profile?: SessionProfile; sessionExpiresAt: Date; actorId?: string | null },
): Promise<void> {
  const config = c.var.config;
  const jwt = await signSessionJwt(config, {
    userId: input.userId,
    sessionId: input.sessionId,
    profile: input.profile ?? NO_PROFILE,
    sessionExpiresAt: input.sessionExpiresAt,
    now: input.now,
    actorId: input.actorId ?? null,
  });
  appendSetCookie(c, serializeCookie(SESSION_COOKIE, jwt, config.sessions.sessionTtlSeconds));
}

/**
 * Deletes both cookies (Max-Age=0 with the attributes they were set with).
 *
 * @example
 * clearSessionCookies(c);
 */
export function clearSessionCookies(c: Context<AppEnv>): void {
  appendSetCookie(c, serializeCookie(SESSION_COOKIE, "", 0));
  appendSetCookie(c, serializeCookie(REFRESH_COOKIE, "", 0));
}

/**
 * The new session row for this request, as every sign-in path stores it:
 * the minted refresh token's id and hashes, the client's address and user
 * agent (capped), and the configured lifetimes.
 *
 * @example
 * await runSignInBatch(db, { …, session: newSessionFor(c, await mintRefreshToken()) });
 */
export function newSessionFor(
  c: Context<AppEnv>,
  minted: { sessionId: string; secretHash: string; familySecretHash: string },
  now: Date = new Date(),
): Omit<NewSession, "userId"> {
  const { sessions } = c.var.config;
  return {
    sessionId: minted.sessionId,
    secretHash: minted.secretHash,
    familySecretHash: minted.familySecretHash,
    ip: c.req.header("cf-connecting-ip") ?? null,
    userAgent: c.req.header("user-agent")?.slice(0, 512) ?? null,
    now,
    refreshTtlSeconds: sessions.refreshTtlSeconds,
    absoluteTtlSeconds: sessions.refreshAbsoluteTtlSeconds,
  };
}
