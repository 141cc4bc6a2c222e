/**
 * Raw environment values are checked before they are parsed: a missing,
 * empty, quoted or whitespace-padded value is the commonest deployment
 * mistake (failure catalog F2) and must be named, not discovered later.
 */
import type { ConfigProblem } from "../error";

export type RawCheck = { ok: true; value: string } | { ok: false; problem: ConfigProblem };

/**
 * Reads one variable and returns its value or the named problem with it.
 *
 * @example
 * const r = readRaw(env, "GITHUB_CLIENT_ID"); // { ok: false, problem: { variable, problem: "quoted" } }
 */
export function readRaw(env: Record<string, unknown>, variable: string): RawCheck | undefined {
  const value = env[variable];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    return { ok: false, problem: { variable, problem: "invalid", hint: "must be a string" } };
  }
  if (value.length === 0) return { ok: false, problem: { variable, problem: "empty" } };
  if (value.trim() !== value) {
    return { ok: false, problem: { variable, problem: "whitespace", hint: "remove leading or trailing spaces or newlines" } };
  }
  if (value.length >= 2 && /^(["'`]).*\1$/s.test(value)) {
    return { ok: false, problem: { variable, problem: "quoted", hint: "remove the surrounding quotes" } };
  }
  return { ok: true, value };
}

/**
 * Hosts where plain http is acceptable: development only.
 *
 * @example
 * isLocalHost("localhost") // true
 * isLocalHost("auth.example.com") // false
 */
export function isLocalHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]" || hostname.endsWith(".localhost");
}
