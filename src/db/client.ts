/**
 * The database handle: drizzle over Neon's HTTP driver. Each query or batch
 * is exactly one HTTP round trip, which is what the round-trip tests count.
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle, type NeonHttpDatabase } from "drizzle-orm/neon-http";
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
 * const db = databaseFor(config);
 * const rows = await db.select().from(users).limit(1);
 */
export function databaseFor(config: Pick<Config, "database">): Database {
  const { url, fetchEndpoint } = config.database;
  if (fetchEndpoint !== null) neonConfig.fetchEndpoint = fetchEndpoint.href;
  let db = databases.get(url);
  if (!db) {
    db = drizzle({ client: neon(url), schema });
    databases.set(url, db);
  }
  return db;
}
