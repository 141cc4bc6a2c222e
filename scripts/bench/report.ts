/**
 * The benchmark's output: one row per scenario and concurrency, printed as
 * a table and written as JSON (test-results/bench.json, git-ignored).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { dirname } from "node:path";
import type { LatencySummary } from "./measure.ts";
import type { NeonStats } from "./neon-stats.ts";

export interface Row {
  scenario: string;
  requests: number;
  concurrency: number;
  /** Null for a leg of a flow: its rate is the flow's. */
  requestsPerSecond: number | null;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
  /** Measured neon-local round trips per request; null when not attributable (a leg of a flow). */
  dbRoundTripsPerRequest: number | null;
  /** Raw neon-local counter differences over the recorded requests. */
  db: NeonStats | null;
  /** By design, for comparison. */
  expectedRoundTrips: number | string | null;
}

/**
 * A row from a scenario's measurement.
 *
 * @example
 * toRow("GET /health", 300, 8, summarize(m), delta, "≤ 1 per 5 s");
 */
export function toRow(
  scenario: string,
  requests: number,
  concurrency: number,
  summary: LatencySummary,
  db: NeonStats | null,
  expectedRoundTrips: number | string | null,
  isLeg = false,
): Row {
  return {
    scenario,
    requests,
    concurrency,
    requestsPerSecond: isLeg ? null : summary.requestsPerSecond,
    p50: summary.p50,
    p95: summary.p95,
    p99: summary.p99,
    mean: summary.mean,
    max: summary.max,
    dbRoundTripsPerRequest: db && requests > 0 ? db.requests / requests : null,
    db,
    expectedRoundTrips,
  };
}

const ms = (n: number) => n.toFixed(n < 10 ? 2 : 1);
// A cached /health makes one round trip per few hundred requests: keep it visible.
const perRequest = (n: number | null) => (n === null ? "–" : n > 0 && n < 0.01 ? n.toFixed(3) : n.toFixed(2));

/**
 * The rows as a fixed-width text table.
 *
 * @example
 * console.log(formatTable(rows));
 */
export function formatTable(rows: readonly Row[]): string {
  const header = ["scenario", "requests", "conc.", "req/s", "p50 ms", "p95 ms", "p99 ms", "DB trips/req", "expected"];
  const cells = rows.map((r) => [
    r.scenario,
    String(r.requests),
    String(r.concurrency),
    r.requestsPerSecond === null ? "–" : r.requestsPerSecond.toFixed(0),
    ms(r.p50),
    ms(r.p95),
    ms(r.p99),
    perRequest(r.dbRoundTripsPerRequest),
    r.expectedRoundTrips === null ? "" : String(r.expectedRoundTrips),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: readonly string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

/** Where and how the numbers were taken. */
export interface RunInfo {
  backend: "pglite" | "postgres";
  startedAt: string;
  durationSeconds: number;
  node: string;
  cpus: number;
  cpuModel: string;
  platform: string;
  /** 1-minute load average before and after: other work on the machine skews every number. */
  loadAverage: { before: number; after: number };
  load: { requests: number; warmup: number; signIns: number; concurrency: number[] };
  /** The worker section (scripts/bench/worker.ts); null with --skip-worker. */
  worker?: unknown;
}

/**
 * The machine's description for {@link RunInfo}.
 *
 * @example
 * const machine = machineInfo();
 */
export function machineInfo(): Pick<RunInfo, "node" | "cpus" | "cpuModel" | "platform"> {
  return { node: process.version, cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? "unknown", platform: `${process.platform}-${process.arch}` };
}

/**
 * The 1-minute load average, rounded to two decimals.
 *
 * @example
 * if (loadAverage() > availableParallelism() / 2) console.warn("the machine is busy");
 */
export function loadAverage(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

/**
 * Writes `{ run, rows }` as JSON to `path`, creating its directory.
 *
 * @example
 * writeJsonReport("test-results/bench.json", info, rows);
 */
export function writeJsonReport(path: string, run: RunInfo | { worker: unknown }, rows: readonly Row[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ run, rows }, null, 2)}\n`);
}
