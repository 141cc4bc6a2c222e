/**
 * Helpers for the admin tests: an environment whose ADMIN_USER_IDS names
 * the operators a test creates (counted under the test file's neon-local
 * scope, like `callWorker`), operators signed in with a real session and an
 * access token minted by the real signer, and browser-like page requests.
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { signAccessToken } from "../../src/tokens/access-token";
import { call, scopedEnv } from "../helpers/app";
import { rawSql } from "../helpers/neon-local";
import { API_AUDIENCE, createVerifiedUser } from "../helpers/orgs";
import { signInAs, testConfig, type TestSession } from "../helpers/sessions";

export const AUTH_ORIGIN = new URL(env.AUTH_URL).origin;

/** The neon-local scope `callWorker`/`roundTrips` use for this file. */
function fileScope(): string {
  const file = (expect.getState().testPath ?? "sessions").split("/").pop() ?? "sessions";
  return `s-${file.replace(/\.test\.ts$/, "").replace(/[^a-z0-9-]/gi, "-")}`;
}

/** The worker's env with ADMIN_USER_IDS set (unset when `null`), under this file's scope. */
export function adminEnv(operators: readonly string[] | null): Env {
  return scopedEnv(fileScope(), operators === null ? {} : { ADMIN_USER_IDS: operators.join(",") });
}

export interface Operator {
  id: string;
  email: string;
  session: TestSession;
  /** An access token for gatehouse's own API with `gatehouse:admin`, naming the session. */
  token: string;
}

/**
 * A user signed in (session row + JWT) with an admin-scoped access token;
 * an operator only once an env names them (`adminEnv([op.id])`).
 *
 * @example
 * const op = await signedInOperator();
 * const e = adminEnv([op.id]);
 */
export async function signedInOperator(label = "operator", scope = "gatehouse:admin", actorId: string | null = null): Promise<Operator> {
  const user = await createVerifiedUser(label);
  const session = await signInAs(user.id);
  const { token } = await signAccessToken(testConfig(), {
    userId: user.id,
    sessionId: session.sessionId,
    audience: API_AUDIENCE,
    scope,
    clientId: AUTH_ORIGIN,
    actorId,
    now: new Date(),
  });
  return { ...user, session, token };
}

/**
 * Calls the admin API with a Bearer token under `targetEnv`.
 *
 * @example
 * const res = await adminApi(op.token, "GET", "/api/admin/users?q=ada", e);
 */
export function adminApi(token: string | null, method: string, path: string, targetEnv: Env, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { "cf-connecting-ip": `2001:db8:${hextet()}:${hextet()}::1` };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return call(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }, { env: targetEnv });
}

/** A page load as a browser does it. */
export function page(path: string, cookie: string | null, targetEnv: Env): Promise<Response> {
  return call(path, { headers: { accept: "text/html", ...(cookie === null ? {} : { cookie }) } }, { env: targetEnv });
}

/** A form POST as the browser sends it from a page of `origin` (default: the worker's own). */
export function postForm(path: string, cookie: string | null, fields: Record<string, string>, targetEnv: Env, origin: string | null = AUTH_ORIGIN): Promise<Response> {
  const headers: Record<string, string> = { accept: "text/html", "content-type": "application/x-www-form-urlencoded" };
  if (cookie !== null) headers.cookie = cookie;
  if (origin !== null) headers.origin = origin;
  return call(path, { method: "POST", headers, body: new URLSearchParams(fields).toString() }, { env: targetEnv });
}

/** A refused request: the status, no cookie set or cleared (the caller checks nothing was written). */
export function expectRefused(res: Response, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers.getSetCookie()).toEqual([]);
}

/** How many audit rows name `userId` as actor, subject or target (to prove a refusal wrote none). */
export async function auditCount(userId: string): Promise<number> {
  const [row] = await rawSql<{ n: number }>(
    "SELECT count(*)::int AS n FROM audit_events WHERE actor_id = $1 OR subject_user_id = $1::uuid OR target_id = $1",
    [userId],
  );
  return row!.n;
}

/** The audit rows about or by `userId`, oldest first. */
export function auditOf(userId: string) {
  return rawSql<{ action: string; actor_id: string | null; subject_user_id: string | null; target_id: string | null; metadata: Record<string, unknown>; ip: string | null; request_id: string | null }>(
    "SELECT action, actor_id, subject_user_id, target_id, metadata, ip, request_id FROM audit_events WHERE subject_user_id = $1 OR target_id = $1::text ORDER BY id",
    [userId],
  );
}

function hextet(): string {
  return crypto.getRandomValues(new Uint16Array(1))[0]!.toString(16);
}
