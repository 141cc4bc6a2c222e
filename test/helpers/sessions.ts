/**
 * Session helpers for any test that needs a signed-in browser. They use the
 * real code paths (insertSessionStatement through the Neon driver, the real
 * signing keys), so a test signed in here is signed in the way the
 * sign-in callback signs people in.
 */
import { env } from "cloudflare:workers";
import { importJWK, SignJWT } from "jose";
import { expect } from "vitest";
import { configFor, type Config } from "../../src/config";
import { databaseFor } from "../../src/db/client";
import { insertSessionStatement } from "../../src/db/sessions";
import { REFRESH_COOKIE, SESSION_COOKIE } from "../../src/lib/cookies";
import { mintRefreshToken } from "../../src/sessions/refresh-token";
import { signSessionJwt } from "../../src/tokens/session-jwt";
import { TEST_SIGNING_KEYS } from "../bindings";
import { call } from "./app";
import { rawSql, resetStats, stats } from "./neon-local";

/** The worker's parsed configuration in tests. */
export function testConfig(): Readonly<Config> {
  const result = configFor(env);
  if (!result.ok) throw new Error(`test configuration invalid: ${JSON.stringify(result.problems)}`);
  return result.config;
}

/**
 * The neon-local scope of the running test file: its database traffic is
 * counted apart from files running at the same time.
 */
function fileScope(): string {
  const file = (expect.getState().testPath ?? "sessions").split("/").pop() ?? "sessions";
  return `s-${file.replace(/\.test\.ts$/, "").replace(/[^a-z0-9-]/gi, "-")}`;
}

/**
 * Calls the app (routes, middleware and onError included) with the test
 * file's database scope, without following redirects.
 *
 * @example
 * const res = await callWorker("/auth/session", { headers: { cookie } });
 */
export function callWorker(path: string, init: RequestInit = {}): Promise<Response> {
  return call(path, init, { scope: fileScope() });
}

/** Database round trips made by `callWorker` requests of this file since the last reset. */
export async function roundTrips(): Promise<number> {
  return (await stats(fileScope())).requests;
}

/** Zeroes this file's round-trip counter (never other files'). */
export async function resetRoundTrips(): Promise<void> {
  await resetStats(fileScope());
}

/**
 * Inserts a user with raw SQL (no id: the database default provides it) and returns its id.
 *
 * @example
 * const userId = await createTestUser({ email: "ada@example.com" });
 */
export async function createTestUser(
  profile: { email?: string | null; name?: string | null; image?: string | null; disabled?: boolean } = {},
): Promise<string> {
  const email = profile.email === undefined ? `user-${crypto.randomUUID()}@example.com` : profile.email;
  const rows = await rawSql<{ id: string }>(
    `INSERT INTO users (email, email_normalized, name, image, disabled_at)
     VALUES ($1, lower($1), $2, $3, CASE WHEN $4::boolean THEN now() END) RETURNING id`,
    [email, profile.name === undefined ? "Test User" : profile.name, profile.image ?? null, profile.disabled ?? false],
  );
  const id = rows[0]?.id;
  if (!id) throw new Error("createTestUser: no id returned");
  return id;
}

export interface TestSession {
  /** A Cookie header carrying both cookies. */
  cookieHeader: string;
  sessionId: string;
  /** The refresh cookie's value, `${sessionId}.${secret}`. */
  refreshToken: string;
  /** The session cookie's value. */
  sessionJwt: string;
}

/**
 * Signs `userId` in: inserts a session row with `insertSessionStatement`
 * through the real driver (one round trip; reset neon-local stats after)
 * and signs a session JWT with the user's current profile.
 *
 * @example
 * const { cookieHeader } = await signInAs(await createTestUser());
 * const res = await callWorker("/auth/session", { headers: { cookie: cookieHeader } });
 */
export async function signInAs(userId: string, options: { now?: Date } = {}): Promise<TestSession> {
  const config = testConfig();
  const now = options.now ?? new Date();
  const minted = await mintRefreshToken();
  await insertSessionStatement(await databaseFor(config), {
    sessionId: minted.sessionId,
    secretHash: minted.secretHash,
    familySecretHash: minted.familySecretHash,
    userId,
    ip: "203.0.113.7",
    userAgent: "vitest",
    now,
    refreshTtlSeconds: config.sessions.refreshTtlSeconds,
    absoluteTtlSeconds: config.sessions.refreshAbsoluteTtlSeconds,
  });
  const [user] = await rawSql<{ email: string | null; emailVerified: boolean; name: string | null; image: string | null }>(
    `SELECT email, email_verified_at IS NOT NULL AS "emailVerified", name, image FROM users WHERE id = $1`,
    [userId],
  );
  const sessionJwt = await signSessionJwt(config, {
    userId,
    sessionId: minted.sessionId,
    profile: user ?? { email: null, emailVerified: false, name: null, image: null },
    sessionExpiresAt: new Date(now.getTime() + config.sessions.refreshTtlSeconds * 1000),
    now,
  });
  return {
    cookieHeader: cookieHeader({ session: sessionJwt, refresh: minted.token }),
    sessionId: minted.sessionId,
    refreshToken: minted.token,
    sessionJwt,
  };
}

/**
 * A Cookie header from the parts given.
 *
 * @example
 * cookieHeader({ refresh: session.refreshToken }); // only the refresh cookie
 */
export function cookieHeader(parts: { session?: string; refresh?: string }): string {
  const out: string[] = [];
  if (parts.session !== undefined) out.push(`${SESSION_COOKIE}=${parts.session}`);
  if (parts.refresh !== undefined) out.push(`${REFRESH_COOKIE}=${parts.refresh}`);
  return out.join("; ");
}

/** One Set-Cookie, parsed. */
export interface SetCookie {
  name: string;
  value: string;
  attributes: string[];
  maxAge: number | null;
}

/**
 * The response's Set-Cookie headers by cookie name.
 *
 * @example
 * const cookies = setCookies(res);
 * cookies.get("__Host-gh_refresh")?.maxAge; // 2592000
 */
export function setCookies(res: Response): Map<string, SetCookie> {
  const out = new Map<string, SetCookie>();
  for (const line of res.headers.getSetCookie()) {
    const [pair = "", ...attributes] = line.split(";").map((s) => s.trim());
    const eq = pair.indexOf("=");
    const maxAge = attributes.find((a) => a.toLowerCase().startsWith("max-age="));
    out.set(pair.slice(0, eq), {
      name: pair.slice(0, eq),
      value: pair.slice(eq + 1),
      attributes,
      maxAge: maxAge === undefined ? null : Number(maxAge.split("=")[1]),
    });
  }
  return out;
}

/**
 * Signs arbitrary claims with a test key (default: the first, which the
 * worker signs with), for attack tests that need a token the worker did not
 * mint. `header` overrides the protected header (e.g. another `typ`).
 *
 * @example
 * const forged = await craftJwt({ sub: userId, sid, aud: "https://evil" }, { typ: "session+jwt" });
 */
export async function craftJwt(
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
  key: (typeof TEST_SIGNING_KEYS)[number] = TEST_SIGNING_KEYS[0]!,
): Promise<string> {
  const privateKey = await importJWK(key, "ES256");
  return new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid: key.kid, ...header }).sign(privateKey);
}

/**
 * The claims of a session JWT the worker would mint for `session`, relative to now (seconds).
 *
 * @example
 * await craftJwt(sessionClaims(userId, sessionId, { iat: -400 }), { typ: "session+jwt" });
 */
export function sessionClaims(userId: string, sessionId: string, offsets: { iat?: number; exp?: number } = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const iat = now + (offsets.iat ?? 0);
  return {
    iss: "https://auth.example.com",
    aud: "https://auth.example.com/session",
    sub: userId,
    sid: sessionId,
    iat,
    exp: offsets.exp === undefined ? iat + 300 : now + offsets.exp,
    sess_exp: now + 86400,
  };
}

/** Base64url of a JSON text, for hand-built tokens. */
export function b64json(json: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(json))).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
