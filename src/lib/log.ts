/**
 * Structured logs: one JSON object per line. Only what is passed explicitly
 * is written: never an error's message (a driver error can quote SQL values
 * or a connection string), never headers, cookies, tokens or request bodies.
 *
 * Lines written while a request is being answered carry its `requestId`
 * without any caller passing it: `app.ts` runs each request inside
 * `withLogFields({ requestId })` (an AsyncLocalStorage scope, so code far from
 * the request, such as the database client's retry, is covered too). The cron
 * has no request and its lines have no id.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export type Fields = Record<string, string | number | boolean | null | undefined>;

const scope = new AsyncLocalStorage<Fields>();

/** @example log("warn", "rate_limited", { path: "/auth/token" }) */
export function log(level: "info" | "warn" | "error", event: string, fields: Fields = {}): void {
  const line = JSON.stringify({ level, event, ...scope.getStore(), ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/**
 * Runs `fn` with `fields` added to every `log()` line written inside it,
 * across awaits.
 *
 * @example
 * app.use((c, next) => withLogFields({ requestId: c.var.request.requestId }, next));
 */
export function withLogFields<T>(fields: Fields, fn: () => T): T {
  return scope.run(fields, fn);
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
