import type { Stats } from "./types.js";

const zero = (): Stats => ({ requests: 0, statements: 0, batches: 0, errors: 0, maxRequestBytes: 0 });

/**
 * Mutable request counters behind `GET /__stats`. Besides the totals, counts
 * are kept per scope (the user name in the driver's connection string), so a
 * test file can count its own round trips while other files run in parallel.
 */
export class StatsCounter {
  private totals = zero();
  private byScope = new Map<string, Stats>();

  /** Records one POST /sql carrying `statements` statements. */
  request(scope: string, statements: number, isBatch: boolean): void {
    for (const counts of this.targets(scope)) {
      counts.requests += 1;
      counts.statements += statements;
      if (isBatch) counts.batches += 1;
    }
  }

  /** Records a request body's size: the largest one tells how close a batch comes to Neon's 10 MiB limit. */
  requestBytes(scope: string, bytes: number): void {
    for (const counts of this.targets(scope)) counts.maxRequestBytes = Math.max(counts.maxRequestBytes, bytes);
  }

  error(scope: string): void {
    for (const counts of this.targets(scope)) counts.errors += 1;
  }

  /** A copy of the totals, or of one scope's counters when `scope` is given. */
  snapshot(scope?: string): Stats {
    if (scope === undefined) return { ...this.totals };
    return { ...(this.byScope.get(scope) ?? zero()) };
  }

  /** Zeroes everything, or only one scope's counters (totals are left alone). */
  reset(scope?: string): void {
    if (scope !== undefined) {
      this.byScope.delete(scope);
      return;
    }
    this.totals = zero();
    this.byScope.clear();
  }

  private targets(scope: string): Stats[] {
    let counts = this.byScope.get(scope);
    if (!counts) this.byScope.set(scope, (counts = zero()));
    return [this.totals, counts];
  }
}
