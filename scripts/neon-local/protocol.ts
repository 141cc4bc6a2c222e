import type { IncomingHttpHeaders } from "node:http";
import { BadRequestError } from "./errors.js";
import { parseIsolationLevel } from "./transaction.js";
import type { BackendResult, BatchOptions, WireQuery } from "./types.js";

export { BadRequestError };

/** A parsed POST /sql body plus the headers that change how it runs. */
export type SqlRequest =
  | { kind: "single"; query: WireQuery; arrayMode: boolean }
  | { kind: "batch"; queries: WireQuery[]; options: BatchOptions; arrayMode: boolean };


/**
 * Reads the body and Neon-* headers exactly as `@neondatabase/serverless`
 * 1.2.0 sends them: `{query, params}` or `{queries:[{query, params}]}`, with
 * params already encoded as text (bytea as `\x…`) or null.
 */
export function parseSqlRequest(headers: IncomingHttpHeaders, rawBody: string): SqlRequest {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    throw new BadRequestError("request body is not valid JSON");
  }
  // The driver always sends "true"; Neon treats a missing header as false.
  const arrayMode = header(headers, "neon-array-mode") === "true";
  if (isObject(body) && Array.isArray(body.queries)) {
    return {
      kind: "batch",
      queries: body.queries.map(toWireQuery),
      arrayMode,
      options: {
        isolationLevel: parseIsolationLevel(header(headers, "neon-batch-isolation-level")),
        readOnly: parseBool(header(headers, "neon-batch-read-only"), "Neon-Batch-Read-Only"),
        deferrable: parseBool(header(headers, "neon-batch-deferrable"), "Neon-Batch-Deferrable"),
      },
    };
  }
  return { kind: "single", query: toWireQuery(body), arrayMode };
}

/**
 * The scope of a request: the user name in its Neon-Connection-String. The
 * backend ignores it; stats and faults use it to tell test files apart.
 */
export function scopeOf(headers: IncomingHttpHeaders): string {
  const connectionString = header(headers, "neon-connection-string");
  if (!connectionString) return "";
  try {
    return decodeURIComponent(new URL(connectionString).username);
  } catch {
    return "";
  }
}

/** The JSON for one statement result, as Neon returns it. */
export function resultBody(result: BackendResult, arrayMode: boolean) {
  const names = result.fields.map((f) => f.name);
  return {
    command: result.command,
    rowCount: result.rowCount,
    rowAsArray: arrayMode,
    fields: result.fields,
    rows: arrayMode ? result.rows : result.rows.map((row) => Object.fromEntries(row.map((v, i) => [names[i], v]))),
  };
}

function toWireQuery(value: unknown): WireQuery {
  if (!isObject(value) || typeof value.query !== "string") throw new BadRequestError("missing query");
  const params = value.params ?? [];
  if (!Array.isArray(params) || !params.every((p) => p === null || typeof p === "string")) {
    // Only the text encoding the driver produces is accepted; anything else is a client bug.
    throw new BadRequestError("params must be an array of strings or nulls");
  }
  return { query: value.query, params };
}

function parseBool(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === "true" || value === "false") return value === "true";
  throw new BadRequestError(`invalid ${name}: expected true or false`);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
