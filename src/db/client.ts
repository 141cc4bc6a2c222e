/**
 * The database handle: drizzle over Neon's HTTP driver. Each query or batch
 * is exactly one HTTP round trip, which is what the round-trip tests count.
 *
 * The driver is loaded on first use, not at startup: evaluating it is most
 * of what starting the worker would cost (docs/benchmarks.md), and requests
 * answered from a session JWT never touch the database.
 */
import type { NeonHttpDatabase } from "drizzle-orm/neon-http";
import type { Config } from "../config";
import * as schema from "./schema";

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
    if (fetchEndpoint !== null) neonConfig.fetchEndpoint = fetchEndpoint.href;
    db = databases.get(url) ?? drizzle({ client: neon(url), schema });
    databases.set(url, db);
  }
  return db;
}
