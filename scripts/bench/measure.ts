/**
 * The closed-loop load generator: `concurrency` lanes, each sending its next
 * request as soon as its previous one has answered, until `requests` have
 * been sent. Warm-up requests run first, the same way, and are not recorded.
 * Latency is wall time per request from `performance.now()`.
 */

/** One request of a scenario; throws when the answer is not the expected one. */
export type Task = (context: { index: number; lane: number }) => Promise<void>;

export interface LoadShape {
  /** Recorded requests. */
  requests: number;
  /** Unrecorded requests before them (JIT, connection pools, caches). */
  warmup: number;
  /** Lanes sending at the same time. */
  concurrency: number;
}

export interface Measurement {
  /** Milliseconds per recorded request, in completion order. */
  latenciesMs: number[];
  /** Milliseconds from the first recorded request's start to the last one's end. */
  wallMs: number;
}

/**
 * Runs `task` `warmup + requests` times over `concurrency` lanes; `between`
 * runs once after the warm-up (e.g. to read counters before the recorded part).
 * Once `signal` aborts, lanes send nothing more and its reason is thrown.
 *
 * @example
 * const m = await measure({ requests: 300, warmup: 30, concurrency: 8 }, async () => {
 *   const res = await fetch(url);
 *   if (!res.ok) throw new Error(`HTTP ${res.status}`);
 *   await res.body?.cancel();
 * });
 */
export async function measure(shape: LoadShape, task: Task, between?: () => Promise<void>, signal?: AbortSignal): Promise<Measurement> {
  if (shape.warmup > 0) await runLanes(shape.warmup, shape.concurrency, task, [], signal);
  await between?.();
  const latenciesMs: number[] = [];
  const started = performance.now();
  await runLanes(shape.requests, shape.concurrency, task, latenciesMs, signal);
  return { latenciesMs, wallMs: performance.now() - started };
}

async function runLanes(total: number, concurrency: number, task: Task, into: number[], signal: AbortSignal | undefined): Promise<void> {
  let next = 0;
  const lane = async (laneIndex: number) => {
    while (next < total) {
      signal?.throwIfAborted();
      const index = next++;
      const t0 = performance.now();
      await task({ index, lane: laneIndex });
      into.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, (_, i) => lane(i)));
}

export interface LatencySummary {
  requestsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/**
 * Throughput and nearest-rank percentiles of a measurement.
 *
 * @example
 * summarize({ latenciesMs: [1, 2, 3, 4], wallMs: 10 }).p50; // 2
 */
export function summarize(m: Measurement): LatencySummary {
  const sorted = [...m.latenciesMs].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    requestsPerSecond: m.wallMs > 0 ? (sorted.length / m.wallMs) * 1000 : Number.NaN,
    p50: rank(50),
    p95: rank(95),
    p99: rank(99),
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}
