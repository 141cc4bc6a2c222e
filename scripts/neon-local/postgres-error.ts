/**
 * Turns backend errors into the JSON body Neon returns with HTTP 400. The
 * driver copies exactly these keys onto NeonDbError (its `hi` list).
 */
const POSTGRES_ERROR_FIELDS = [
  "severity",
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;

/** Body of an HTTP 400 response: `message` plus whatever Postgres fields are known. */
export type PostgresErrorBody = { message: string } & Partial<Record<(typeof POSTGRES_ERROR_FIELDS)[number], string>>;

/** True when the error came from Postgres itself (it carries a SQLSTATE). */
export function isPostgresError(err: unknown): err is Error & Record<string, unknown> {
  if (!(err instanceof Error)) return false;
  const code: unknown = (err as unknown as { code?: unknown }).code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
}

/** Copies only the Postgres fields (never the query or params PGlite attaches). */
export function postgresErrorBody(err: Error & Record<string, unknown>): PostgresErrorBody {
  const body: PostgresErrorBody = { message: err.message };
  for (const field of POSTGRES_ERROR_FIELDS) {
    const value = err[field];
    if (value !== undefined && value !== null) body[field] = String(value);
  }
  return body;
}

/** A Postgres-shaped error produced by neon-local itself (bad request, injected fault). */
export function syntheticPostgresError(message: string, code: string, severity = "ERROR"): PostgresErrorBody {
  return { message, code, severity };
}
