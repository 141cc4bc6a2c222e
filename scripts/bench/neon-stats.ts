/**
 * neon-local's request counters (`GET /__stats`): one `request` is one
 * database round trip from the worker, whatever it carries (one statement or
 * a whole `db.batch`). Read before and after a scenario, the difference per
 * recorded request cross-checks the one-round-trip-per-write-path design.
 */

/** Counters as neon-local reports them. */
export interface NeonStats {
  requests: number;
  statements: number;
  batches: number;
  errors: number;
}

/**
 * The current totals of the neon-local at `neonUrl` (a loopback URL).
 *
 * @example
 * const before = await readNeonStats("http://127.0.0.1:4444");
 */
export async function readNeonStats(neonUrl: string): Promise<NeonStats> {
  const res = await fetch(new URL("/__stats", neonUrl));
  if (!res.ok) throw new Error(`neon-local /__stats answered HTTP ${res.status}`);
  const body = (await res.json()) as Partial<NeonStats>;
  return { requests: body.requests ?? 0, statements: body.statements ?? 0, batches: body.batches ?? 0, errors: body.errors ?? 0 };
}

/**
 * `after - before`, counter by counter.
 *
 * @example
 * statsDelta(before, await readNeonStats(url)).requests; // round trips in between
 */
export function statsDelta(before: NeonStats, after: NeonStats): NeonStats {
  return {
    requests: after.requests - before.requests,
    statements: after.statements - before.statements,
    batches: after.batches - before.batches,
    errors: after.errors - before.errors,
  };
}
