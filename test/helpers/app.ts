/**
 * Calls the real app with the test environment, optionally with its
 * database traffic counted (and faults applied) under its own neon-local
 * scope, so round-trip assertions are not disturbed by test files running
 * at the same time.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createApp } from "../../src/app";
import { scopedDatabaseUrl } from "./neon-local";

const app = createApp();
const envs = new Map<string, Env>();

/** The worker's env with DATABASE_URL scoped; cached so config is parsed once per scope. */
export function scopedEnv(scope: string, overrides: Record<string, unknown> = {}): Env {
  const key = `${scope}:${JSON.stringify(overrides)}`;
  let e = envs.get(key);
  if (!e) {
    e = { ...env, DATABASE_URL: scopedDatabaseUrl(scope), ...overrides } as Env;
    envs.set(key, e);
  }
  return e;
}

/**
 * Sends a request to the app. Paths are resolved against AUTH_URL.
 *
 * @example const res = await call("/health", {}, { scope: "health" });
 */
export async function call(path: string, init: RequestInit = {}, options: { scope?: string; env?: Env } = {}): Promise<Response> {
  const request = new Request(new URL(path, env.AUTH_URL), { redirect: "manual", ...init });
  const targetEnv = options.env ?? (options.scope ? scopedEnv(options.scope) : env);
  const ctx = createExecutionContext();
  const response = await app.fetch(request, targetEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}
