/**
 * Captures everything the worker writes to the console while a test runs
 * (the spies live in the same workerd isolate as the app, so every
 * `console.*` call of a request lands here instead of the test output).
 */
import { vi } from "vitest";

export interface CapturedConsole {
  /** Each console call as one string (arguments joined by spaces). */
  lines: string[];
  restore: () => void;
}

/** @example const captured = captureConsole(); …; captured.restore(); */
export function captureConsole(): CapturedConsole {
  const lines: string[] = [];
  const record = (...args: unknown[]) => {
    lines.push(args.map((a) => (typeof a === "string" ? a : String(a))).join(" "));
  };
  const spies = (["log", "info", "warn", "error", "debug"] as const).map((method) => vi.spyOn(console, method).mockImplementation(record));
  return { lines, restore: () => spies.forEach((spy) => spy.mockRestore()) };
}

/** The parsed JSON lines whose `event` is `event`. */
export function linesOf(lines: readonly string[], event: string): Record<string, unknown>[] {
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === event);
}
