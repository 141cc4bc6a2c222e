/**
 * What this build expects of the database. The journal is bundled at build
 * time, so a worker knows the newest migration it was built for and can say
 * "apply migration X" instead of failing with "column does not exist" (F4).
 */
import { sql } from "drizzle-orm";
import journal from "../../migrations/meta/_journal.json";
import type { Database } from "./client";

export interface ExpectedMigration {
  tag: string;
  /** drizzle's `created_at` for the migration: the journal's `when`. */
  when: number;
}

/** Every migration this build was generated with, oldest first (from the bundled journal). */
export const EXPECTED_MIGRATIONS: readonly ExpectedMigration[] = journal.entries.map((e) => ({ tag: e.tag, when: e.when }));

/** The tag of the newest migration this build expects, e.g. `0001_signin_refusal`. */
export const LATEST_MIGRATION = EXPECTED_MIGRATIONS.at(-1)?.tag ?? "none";

export type SchemaStatus =
  | { state: "ok"; latest: string }
  | { state: "behind"; missing: string[] }
  | { state: "unreachable" };

/**
 * Compares drizzle's migrations table with the bundled journal: one round trip.
 * A database without the table at all is "behind" by every migration.
 *
 * @example
 * const status = await readSchemaStatus(db); // { state: "behind", missing: ["0001_signin_refusal"] }
 */
export async function readSchemaStatus(db: Database, expected: readonly ExpectedMigration[] = EXPECTED_MIGRATIONS): Promise<SchemaStatus> {
  let applied: Set<number>;
  try {
    const result = await db.execute<{ created_at: string }>(
      sql`SELECT created_at::text AS created_at FROM drizzle.__drizzle_migrations`,
    );
    applied = new Set(result.rows.map((r) => Number(r.created_at)));
  } catch (error) {
    if (postgresCode(error) === "42P01" || postgresCode(error) === "3F000") applied = new Set();
    else return { state: "unreachable" };
  }
  const missing = expected.filter((m) => !applied.has(m.when)).map((m) => m.tag);
  return missing.length === 0 ? { state: "ok", latest: expected.at(-1)?.tag ?? "none" } : { state: "behind", missing };
}

const SCHEMA_STATUS_TTL_MS = 5_000;
const statusCache = new Map<Database, { at: number; status: Promise<SchemaStatus> }>();

/**
 * `readSchemaStatus`, cached per database client for a few seconds per isolate.
 *
 * @example
 * if ((await cachedSchemaStatus(await c.var.db())).state !== "ok") return c.json({ status: "degraded" }, 503);
 */
export function cachedSchemaStatus(db: Database, now = Date.now()): Promise<SchemaStatus> {
  const hit = statusCache.get(db);
  if (hit && now - hit.at < SCHEMA_STATUS_TTL_MS) return hit.status;
  const status = readSchemaStatus(db);
  statusCache.set(db, { at: now, status });
  return status;
}

/**
 * Forgets cached answers; for tests that change the database under a running isolate.
 *
 * @example
 * clearSchemaStatusCache();
 */
export function clearSchemaStatusCache(): void {
  statusCache.clear();
}

/**
 * The Postgres SQLSTATE of a driver error; drizzle wraps it in `cause`.
 *
 * @example
 * if (postgresCode(error) === "23505") return { ok: false, reason: "slug_taken" };
 */
export function postgresCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
