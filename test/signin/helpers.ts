/**
 * Shared by the sign-in tests: the app called with a scoped database (so
 * round-trip counts and faults belong to one test file), sign-in starts,
 * and row counts that prove nothing was written.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createApp } from "../../src/app";
import { databaseFor, type Database } from "../../src/db/client";
import { sha256Hex } from "../../src/lib/crypto";
import { fakeCalls, fakeScenario, visitAuthorize, type FakeProviderName, type FakeScenario } from "../fakes/control";
import { scopedDatabaseUrl, rawSql } from "../helpers/neon-local";

export const TX_COOKIE = "__Host-gh_tx";
/**
 * Database round trips of a successful callback: the claim on the state
 * (before the provider is called, so it sees each code once), then the one
 * sign-in batch. A callback refused after the claim makes the claim, maybe
 * the batch, and one UPDATE recording the refusal for its duplicates.
 */
export const CALLBACK_ROUND_TRIPS = 2;
const app = createApp();
const envs = new Map<string, Env>();

/** The worker's env with DATABASE_URL scoped and, optionally, another KV namespace. */
export function signinEnv(scope: string, kv?: KVNamespace): Env {
  if (kv) return { ...env, DATABASE_URL: scopedDatabaseUrl(scope), AUTH_KV: kv } as Env;
  let e = envs.get(scope);
  if (!e) {
    e = { ...env, DATABASE_URL: scopedDatabaseUrl(scope) } as Env;
    envs.set(scope, e);
  }
  return e;
}

/** The drizzle client the worker would use, counted under `scope`. */
export function scopedDb(scope: string): Promise<Database> {
  return databaseFor({ database: { url: scopedDatabaseUrl(scope), fetchEndpoint: new URL(env.NEON_FETCH_ENDPOINT) } });
}

/**
 * Sends a request through a fresh app instance with `targetEnv`.
 *
 * @example const res = await request("/auth/signin", {}, signinEnv("x"));
 */
export async function request(path: string, init: RequestInit, targetEnv: Env): Promise<Response> {
  const { response, settled } = requestUnsettled(path, init, targetEnv);
  const res = await response;
  await settled();
  return res;
}

/**
 * Like {@link request}, but resolves with the response as soon as the app
 * returns it, before anything it left running (waitUntil) finishes.
 */
export function requestUnsettled(path: string, init: RequestInit, targetEnv: Env): { response: Promise<Response>; settled: () => Promise<void> } {
  const headers = new Headers(init.headers);
  // A fresh client address per request: the per-IP rate limit is not what these tests are about.
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", randomClientIp());
  const req = new Request(new URL(path, env.AUTH_URL), { redirect: "manual", ...init, headers });
  const ctx = createExecutionContext();
  const response = Promise.resolve(app.fetch(req, targetEnv, ctx));
  return { response, settled: () => waitOnExecutionContext(ctx) };
}

export interface StartedSignIn {
  response: Response;
  location: URL;
  state: string;
  stateHash: string;
  /** `__Host-gh_tx=<binding>`, ready for a Cookie header. */
  cookie: string;
}

/**
 * `GET /auth/signin/:provider` and the pieces a callback needs.
 *
 * @example const s = await startSignIn("github", signinEnv(SCOPE));
 */
export async function startSignIn(provider: string, targetEnv: Env, query = ""): Promise<StartedSignIn> {
  const response = await request(`/auth/signin/${provider}${query}`, {}, targetEnv);
  if (response.status !== 302) throw new Error(`sign-in start: HTTP ${response.status} ${await response.text()}`);
  const location = new URL(response.headers.get("location") ?? "");
  const state = location.searchParams.get("state") ?? "";
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith(`${TX_COOKIE}=`)) ?? "";
  return { response, location, state, stateHash: await sha256Hex(state), cookie: setCookie.split(";")[0] ?? "" };
}

/** Rows that a sign-in could have written, narrowed to what the test created. */
export async function countRows(where: { subject?: string; stateHash?: string; email?: string; userId?: string }): Promise<Record<string, number>> {
  const [row] = await rawSql<Record<string, string>>(
    `SELECT
       (SELECT count(*) FROM accounts WHERE provider_subject = $1) AS accounts,
       (SELECT count(*) FROM oauth_consumed_states WHERE state_hash = $2) AS consumed,
       (SELECT count(*) FROM users WHERE email = $3) AS users,
       (SELECT count(*) FROM sessions WHERE user_id = $4::uuid) AS sessions,
       (SELECT count(*) FROM provider_tokens WHERE user_id = $4::uuid) AS tokens,
       (SELECT count(*) FROM organizations WHERE personal_user_id = $4::uuid) AS orgs`,
    [where.subject ?? "", where.stateHash ?? "", where.email ?? "", where.userId ?? null],
  );
  return Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)]));
}

/** Totals of every table a sign-in writes; for tests that must see no row at all appear. */
export async function tableTotals(): Promise<Record<string, number>> {
  const [row] = await rawSql<Record<string, string>>(
    `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM accounts) AS accounts,
            (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM oauth_consumed_states) AS consumed,
            (SELECT count(*) FROM organizations) AS orgs, (SELECT count(*) FROM memberships) AS memberships,
            (SELECT count(*) FROM provider_tokens) AS tokens`,
  );
  return Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)]));
}

/** A random address in 2001:db8::/32, the documentation prefix. */
export function randomClientIp(): string {
  const words = Array.from(crypto.getRandomValues(new Uint16Array(6)), (w) => w.toString(16));
  return `2001:db8:${words.join(":")}`;
}

/** A value no other test uses. */
export const unique = (prefix: string) => `${prefix}-${crypto.randomUUID()}`;

/** How a wrapped KV namespace misbehaves, and what was asked of it. */
export interface KvWrapper {
  kv: KVNamespace;
  puts: string[];
  deletes: string[];
}

/**
 * A KV namespace in front of the real one: `put` can be slowed down or
 * refused, `get`/`delete` refused. Only the methods gatehouse uses exist.
 *
 * @example const { kv, puts } = wrapKv(env.AUTH_KV, { putDelayMs: 50 });
 */
export function wrapKv(
  real: KVNamespace,
  options: { putDelayMs?: number; failPut?: boolean; failGet?: boolean; failDelete?: boolean } = {},
): KvWrapper {
  const puts: string[] = [];
  const deletes: string[] = [];
  const kv = {
    async get(key: string, type?: unknown) {
      if (options.failGet) throw new Error("KV GET failed: 503");
      return real.get(key, type as "text");
    },
    async put(key: string, value: string, putOptions?: KVNamespacePutOptions) {
      puts.push(key);
      if (options.putDelayMs) await new Promise((resolve) => setTimeout(resolve, options.putDelayMs));
      if (options.failPut) throw new Error("KV PUT failed: 503");
      await real.put(key, value, putOptions);
    },
    async delete(key: string) {
      deletes.push(key);
      if (options.failDelete) throw new Error("KV DELETE failed: 503");
      await real.delete(key);
    },
  };
  return { kv: kv as unknown as KVNamespace, puts, deletes };
}

export interface Flow extends StartedSignIn {
  scenario: string;
  /** Where the fake provider sent the browser back: `/auth/callback/<provider>?code=…&state=…`. */
  callbackUrl: URL;
}

/**
 * Starts a sign-in and plays the browser at the fake provider, stopping
 * before the callback.
 *
 * `routeId` is gatehouse's provider id when it differs from the fake's
 * name (an `oidc/<tenant>` configured as an OIDC provider).
 *
 * @example
 * const flow = await beginFlow("github", targetEnv, { user: { id: "42" } });
 * const res = await request(callbackPath(flow), { headers: { cookie: flow.cookie } }, targetEnv);
 */
export async function beginFlow(
  provider: FakeProviderName & string,
  targetEnv: Env,
  scenario: FakeScenario = {},
  query = "",
  routeId: string = provider,
): Promise<Flow> {
  const id = await fakeScenario(provider, scenario);
  const started = await startSignIn(routeId, targetEnv, query);
  const callbackUrl = await visitAuthorize(started.location, id);
  return { ...started, scenario: id, callbackUrl };
}

/** The callback's path and query, for {@link request}. */
export function callbackPath(flow: { callbackUrl: URL }): string {
  return flow.callbackUrl.pathname + flow.callbackUrl.search;
}

/** Token-endpoint calls the fake received for a flow's scenario. */
export async function tokenCalls(flow: { scenario: string }): Promise<number> {
  return (await fakeCalls({ scenario: flow.scenario, endpoint: "token" })).length;
}
