/**
 * Turns a driver failure into the error a caller can act on: the database
 * is unreachable or kept failing with a transient conflict (503
 * DatabaseUnavailable, with `Retry-After`) or is older than this build (503
 * SchemaBehind). Anything else stays unclassified and becomes a 500 without
 * details. The driver's message is never passed on: it can quote SQL values.
 */
import { GatehouseError } from "../error";
import { postgresCode } from "./migrations";

const SCHEMA_CODES = new Set(["42P01", "42703", "42704", "3F000"]);
/** Deadlock and serialization failure: already retried once (`db/client.ts`); a moment later usually works. */
const CONFLICT_CODES = new Set(["40001", "40P01"]);
/** Seconds a client should wait before retrying: a conflict clears fast, an outage less so. */
const RETRY_AFTER_CONFLICT = "1";
const RETRY_AFTER_UNAVAILABLE = "5";

/**
 * Returns the classified error, or `null` if `error` is not a database failure.
 *
 * @example
 * const known = error instanceof GatehouseError ? error : classifyDatabaseError(error); // 503 SchemaBehind for SQLSTATE 42703
 */
export function classifyDatabaseError(error: unknown): GatehouseError | null {
  if (error instanceof GatehouseError) return error;
  const code = postgresCode(error);
  if (code !== undefined && SCHEMA_CODES.has(code)) {
    return new GatehouseError("SchemaBehind", "The database schema is behind this version of gatehouse: apply the pending migrations.", { cause: error });
  }
  if (code !== undefined && CONFLICT_CODES.has(code)) {
    return new GatehouseError("DatabaseUnavailable", "The database was busy. Try again in a moment.", {
      cause: error,
      headers: { "Retry-After": RETRY_AFTER_CONFLICT },
    });
  }
  if (code === undefined && isDriverError(error)) {
    return new GatehouseError("DatabaseUnavailable", "The database could not be reached. Try again in a moment.", {
      cause: error,
      headers: { "Retry-After": RETRY_AFTER_UNAVAILABLE },
    });
  }
  if (code !== undefined && /^(08|53|57|58)/.test(code)) {
    return new GatehouseError("DatabaseUnavailable", "The database is unavailable. Try again in a moment.", {
      cause: error,
      headers: { "Retry-After": RETRY_AFTER_UNAVAILABLE },
    });
  }
  return null;
}

function isDriverError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const name = (e as { name?: unknown }).name;
    const message = String((e as { message?: unknown }).message ?? "");
    if (name === "NeonDbError" || name === "DrizzleQueryError" || /fetch|network|connection/i.test(message)) return true;
  }
  return false;
}
