/**
 * Test helpers that run inside workerd: talk to neon-local's control routes
 * and run raw SQL through the same Neon HTTP driver the worker uses.
 */
import { env } from "cloudflare:workers";
import { neon, neonConfig } from "@neondatabase/serverless";

/** Counters from neon-local's GET /__stats. */
export interface NeonLocalStats {
  requests: number;
  statements: number;
  batches: number;
  errors: number;
  /** The largest request body seen, in bytes (Neon refuses more than 10 MiB). */
  maxRequestBytes: number;
}

/** Fault settings for POST /__faults (see scripts/neon-local/types.ts). */
export interface NeonLocalFaults {
  failNth?: number;
  failMatching?: string;
  mode?: "http500" | "postgres" | "drop";
  code?: string;
  latencyMs?: number;
  /** Only affect requests whose connection-string user is this (see {@link scopedDatabaseUrl}). */
  scope?: string;
}

async function control(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${env.NEON_LOCAL_URL}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`neon-local ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

/**
 * Current request counters: totals, or only the requests made with
 * {@link scopedDatabaseUrl}(scope). Totals include every test file running
 * at the same time; scoped counts don't.
 */
export async function stats(scope?: string): Promise<NeonLocalStats> {
  return (await control("GET", scope === undefined ? "/__stats" : `/__stats?scope=${encodeURIComponent(scope)}`)).json();
}

/** Zeroes all counters and clears faults, or zeroes only one scope's counters. */
export async function resetStats(scope?: string): Promise<void> {
  await control("POST", scope === undefined ? "/__reset" : `/__reset?scope=${encodeURIComponent(scope)}`);
}

/** Replaces the injected faults of `faults.scope` (or the unscoped ones). */
export async function setFaults(faults: NeonLocalFaults): Promise<void> {
  await control("POST", "/__faults", faults);
}

/** Clears one scope's faults, or every fault. */
export async function clearFaults(scope?: string): Promise<void> {
  await control("DELETE", scope === undefined ? "/__faults" : `/__faults?scope=${encodeURIComponent(scope)}`);
}

/**
 * DATABASE_URL with its user name replaced by `scope`. neon-local ignores the
 * credentials but counts stats and applies scoped faults per user name.
 */
export function scopedDatabaseUrl(scope: string): string {
  const url = new URL(env.DATABASE_URL);
  url.username = scope;
  return url.toString();
}

/**
 * The raw Neon driver pointed at neon-local (sets the global fetchEndpoint,
 * as the worker does). With `scope`, its requests are counted under that scope.
 */
export function neonSql(scope?: string) {
  neonConfig.fetchEndpoint = env.NEON_FETCH_ENDPOINT;
  return neon(scope === undefined ? env.DATABASE_URL : scopedDatabaseUrl(scope));
}

/** Runs one parameterized statement and returns its rows as objects. */
export async function rawSql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return (await neonSql().query(query, params)) as T[];
}
