/**
 * One real sign-in from Node through the local OpenID provider:
 *   GET /auth/signin/local?redirect_to=<SPA>  → 302 to the provider (+ transaction cookie)
 *   provider login form (one step)            → 302 to /auth/callback/local?code=…
 *   GET /auth/callback/local (+ cookie)       → 302 to the SPA with the session cookies
 * Each leg is timed, so the worker's share can be told from the provider's.
 */
import { REFRESH_COOKIE, SESSION_COOKIE } from "../../src/lib/cookies.ts";
import { expectStatus, workerHeaders } from "./client.ts";
import { CookieJar } from "./cookies.ts";
import { loginAtLocalProvider } from "../local-oidc/login.ts";

/** Where the stack lives (loopback URLs). */
export interface SignInTarget {
  authUrl: string;
  /** An ALLOWED_REDIRECT_ORIGINS origin (the example SPA). */
  spaUrl: string;
}

/** A signed-in browser's cookies and how long each leg took. */
export interface SignedIn {
  /** The session JWT (`__Host-gh_session`). */
  sessionJwt: string;
  /** The refresh token (`__Host-gh_refresh`). */
  refreshToken: string;
  /** Milliseconds: start (worker), provider (login), callback (worker: code exchange + 1 DB write). */
  legsMs: { start: number; provider: number; callback: number };
}

/**
 * Signs `username` in and returns the session cookies.
 *
 * @example
 * const { sessionJwt } = await signIn({ authUrl, spaUrl }, "bench-1");
 */
export async function signIn(target: SignInTarget, username: string): Promise<SignedIn> {
  const jar = new CookieJar();
  const returnTo = new URL("/", target.spaUrl).href;

  let t0 = performance.now();
  const start = await fetch(`${target.authUrl}/auth/signin/local?redirect_to=${encodeURIComponent(returnTo)}`, {
    redirect: "manual",
    headers: workerHeaders(),
  });
  await expectStatus(start, 302, "GET /auth/signin/local");
  await start.body?.cancel();
  jar.store(start.headers);
  const providerUrl = start.headers.get("location");
  if (providerUrl === null) throw new Error("GET /auth/signin/local: a redirect without Location");
  const startMs = performance.now() - t0;

  t0 = performance.now();
  const callbackUrl = await loginAtLocalProvider(providerUrl, username);
  const providerMs = performance.now() - t0;
  if (callbackUrl.origin !== new URL(target.authUrl).origin) throw new Error("local provider: redirected somewhere other than gatehouse");

  t0 = performance.now();
  const callback = await fetch(callbackUrl, { redirect: "manual", headers: workerHeaders({ cookie: jar.header() }) });
  await expectStatus(callback, 302, "GET /auth/callback/local");
  await callback.body?.cancel();
  jar.store(callback.headers);
  const callbackMs = performance.now() - t0;

  const sessionJwt = jar.get(SESSION_COOKIE);
  const refreshToken = jar.get(REFRESH_COOKIE);
  if (sessionJwt === undefined || refreshToken === undefined) throw new Error("GET /auth/callback/local: no session cookies");
  return { sessionJwt, refreshToken, legsMs: { start: startMs, provider: providerMs, callback: callbackMs } };
}
