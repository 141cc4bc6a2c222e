/**
 * The database handle: drizzle over Neon's HTTP driver. Each query or batch
 * is exactly one HTTP round trip, which is what the round-trip tests count.
 *
 * The driver is loaded on first use, not at startup: evaluating it is most
 * of what starting the worker would cost (docs/benchmarks.md), and requests
 * answered from a session JWT never touch the database.
 *
 * Transient conflicts are retried once, at the HTTP layer: over Neon's HTTP
 * API every request is one transaction (a single statement, or a `db.batch`),
 * and a deadlock (40P01) or serialization failure (40001) means Postgres
 * rolled that whole transaction back. Sending the identical request again is
 * therefore safe for every statement gatehouse makes: nothing of the first
 * attempt was committed, and the retry carries the same parameters. A second
 * failure is classified by `db/errors.ts` (503 with `Retry-After`).
 */
import type { NeonHttpDatabase } from "drizzle-orm/neon-http";
import type { Config } from "../config";
import { log } from "../lib/log";
import * as schema from "./schema";

/** SQLSTATEs after which the transaction was rolled back and an identical retry may succeed. */
export const RETRIED_SQLSTATES: ReadonlySet<string> = new Set(["40001", "40P01"]);

/**
 * `fetch` for the Neon driver: one more attempt when the database answered
 * a {@link RETRIED_SQLSTATES} error (HTTP 400 with the SQLSTATE as `code`).
 *
 * @example
 * neonConfig.fetchFunction = fetchRetryingConflicts; // databaseFor does this
 */
export async function fetchRetryingConflicts(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const first = await fetch(input, init);
  // Only a replayable body (the driver sends a JSON string) can be sent again.
  if (first.status !== 400 || typeof init?.body !== "string") return first;
  let code: unknown;
  try {
    code = ((await first.clone().json()) as { code?: unknown }).code;
  } catch {
    return first;
  }
  if (typeof code !== "string" || !RETRIED_SQLSTATES.has(code)) return first;
  log("warn", "database_conflict_retried", { sqlstate: code });
  return fetch(input, init);
}

export type Database = NeonHttpDatabase<typeof schema>;

const databases = new Map<string, Database>();

/**
 * Returns the drizzle client for this configuration, cached per connection
 * string. `neonConfig.fetchEndpoint` is global driver state, so it is set only
 * when the local endpoint is configured and never otherwise.
 *
 * @example
 * const db = await databaseFor(config);
 * const rows = await db.select().from(users).limit(1);
 */
export async function databaseFor(config: Pick<Config, "database">): Promise<Database> {
  const { url, fetchEndpoint } = config.database;
  let db = databases.get(url);
  if (!db) {
    const [{ neon, neonConfig }, { drizzle }] = await Promise.all([import("@neondatabase/serverless"), import("drizzle-orm/neon-http")]);
    neonConfig.fetchFunction = fetchRetryingConflicts;
    if (fetchEndpoint !== null) neonConfig.fetchEndpoint = fetchEndpoint.href;
    db = databases.get(url) ?? drizzle({ client: neon(url), schema });
    databases.set(url, db);
  }
  return db;
}
