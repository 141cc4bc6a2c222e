/**
 * Helpers for the account page tests: a signed-in user with linked sign-in
 * methods, browser-like form POSTs, and the checks every refused request
 * must pass (status, nothing written, no Set-Cookie).
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { rawSql } from "../helpers/neon-local";
import { callWorker, createTestUser, signInAs, type TestSession } from "../helpers/sessions";

export const AUTH_ORIGIN = new URL(env.AUTH_URL).origin;

/** An `accounts` row for `userId` under `provider`. */
export async function linkAccount(userId: string, provider: string): Promise<string> {
  const [row] = await rawSql<{ id: string }>(
    "INSERT INTO accounts (user_id, provider, provider_subject, email) VALUES ($1, $2, $3, $4) RETURNING id",
    [userId, provider, `${provider}-${crypto.randomUUID()}`, `${provider}@example.com`],
  );
  return row!.id;
}

export interface SignedInUser {
  userId: string;
  session: TestSession;
  /** Account ids by provider. */
  accounts: Record<string, string>;
}

/**
 * A user with one account per provider, signed in.
 *
 * @example
 * const ada = await signedInUser(["github", "google"]);
 */
export async function signedInUser(providers: readonly string[]): Promise<SignedInUser> {
  const userId = await createTestUser();
  const accounts: Record<string, string> = {};
  for (const p of providers) accounts[p] = await linkAccount(userId, p);
  return { userId, session: await signInAs(userId), accounts };
}

/**
 * A form POST as the browser sends it from a page of `origin` (default: the worker's own).
 *
 * @example
 * const res = await postForm("/account/unlink/github", cookie, { account: id });
 */
export function postForm(path: string, cookie: string | null, fields: Record<string, string> = {}, origin: string | null = AUTH_ORIGIN): Promise<Response> {
  const headers: Record<string, string> = { accept: "text/html", "content-type": "application/x-www-form-urlencoded" };
  if (cookie !== null) headers.cookie = cookie;
  if (origin !== null) headers.origin = origin;
  return callWorker(path, { method: "POST", headers, body: new URLSearchParams(fields).toString() });
}

/** A page load as a browser does it. */
export function getPage(path: string, cookie: string | null = null): Promise<Response> {
  return callWorker(path, { headers: { accept: "text/html", ...(cookie === null ? {} : { cookie }) } });
}

/** Rows of a user's accounts, sessions still live, and active provider tokens. */
export async function userFootprint(userId: string): Promise<{ accounts: number; liveSessions: number; activeTokens: number }> {
  const [row] = await rawSql<{ accounts: number; live_sessions: number; active_tokens: number }>(
    `SELECT (SELECT count(*)::int FROM accounts WHERE user_id = $1) AS accounts,
            (SELECT count(*)::int FROM sessions WHERE user_id = $1 AND revoked_at IS NULL) AS live_sessions,
            (SELECT count(*)::int FROM provider_tokens WHERE user_id = $1 AND deleted_at IS NULL) AS active_tokens`,
    [userId],
  );
  return { accounts: row!.accounts, liveSessions: row!.live_sessions, activeTokens: row!.active_tokens };
}

/** A refused request: the status, no cookie set or cleared, and (by the caller) nothing written. */
export function expectRefused(res: Response, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers.getSetCookie()).toEqual([]);
}
