/**
 * Structured logs. Only what is passed explicitly is written: never an
 * error's message (a driver error can quote SQL values or a connection
 * string), never headers, cookies, tokens or request bodies.
 */
type Fields = Record<string, string | number | boolean | null | undefined>;

/** @example log("warn", "rate_limited", { path: "/auth/token" }) */
export function log(level: "info" | "warn" | "error", event: string, fields: Fields = {}): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/**
 * The safe identity of an error for a log line: its class and codes, not its message.
 *
 * @example
 * log("error", "housekeeping_failed", describeError(error)); // { error: "DrizzleQueryError <- NeonDbError", sqlstate: "57P01" }
 */
export function describeError(error: unknown): Fields {
  const chain: string[] = [];
  let sqlstate: string | undefined;
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    chain.push(String((e as { name?: unknown }).name ?? typeof e));
    const code = (e as { code?: unknown }).code;
    if (sqlstate === undefined && typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) sqlstate = code;
  }
  return { error: chain.join(" <- "), sqlstate };
}
