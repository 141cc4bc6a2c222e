import type { FaultMode, Faults } from "./types.js";

/** What the server must do with a request that an injected fault hits. */
export interface FaultDecision {
  mode: FaultMode;
  code: string;
}

/**
 * Holds the injected faults. failNth is one-shot: it counts down on every
 * POST /sql (of the scope, if one is set) and fires once; failMatching stays
 * until cleared.
 */
export class FaultController {
  private remainingUntilFail: number | undefined;
  private matching: RegExp | undefined;
  private mode: FaultMode = "http500";
  private code = "XX000";
  private latency = 0;
  private scope: string | undefined;

  /** Replaces all fault settings (unset fields are cleared). Throws on invalid input. */
  set(faults: Faults): void {
    const { failNth, failMatching, mode = "http500", code = "XX000", latencyMs = 0, scope } = faults;
    if (failNth !== undefined && (!Number.isInteger(failNth) || failNth < 1)) {
      throw new Error("failNth must be a positive integer");
    }
    if (!["http500", "postgres", "drop"].includes(mode)) throw new Error(`unknown fault mode ${mode}`);
    if (!/^[0-9A-Z]{5}$/.test(code)) throw new Error("code must be a five-character SQLSTATE");
    if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error("latencyMs must be >= 0");
    this.remainingUntilFail = failNth;
    this.matching = failMatching === undefined ? undefined : new RegExp(failMatching, "i");
    this.mode = mode;
    this.code = code;
    this.latency = latencyMs;
    this.scope = scope;
  }

  clear(): void {
    this.set({});
  }

  /** Delay for a request from `scope`. */
  latencyFor(scope: string): number {
    return this.applies(scope) ? this.latency : 0;
  }

  /** Called once per POST /sql with its scope and the SQL of all its statements. */
  check(scope: string, sqlTexts: string[]): FaultDecision | undefined {
    if (!this.applies(scope)) return undefined;
    let hit = false;
    if (this.remainingUntilFail !== undefined) {
      this.remainingUntilFail -= 1;
      if (this.remainingUntilFail === 0) {
        this.remainingUntilFail = undefined;
        hit = true;
      }
    }
    if (this.matching && sqlTexts.some((text) => this.matching!.test(text))) hit = true;
    return hit ? { mode: this.mode, code: this.code } : undefined;
  }

  private applies(scope: string): boolean {
    return this.scope === undefined || this.scope === scope;
  }
}

/**
 * Faults per scope, so test files running in parallel can each inject their
 * own without replacing another file's: `set` replaces only the settings of
 * its own scope (or the unscoped ones), and a request consults its scope's
 * settings first, then the unscoped ones.
 */
export class FaultRegistry {
  private readonly byScope = new Map<string, FaultController>();
  private readonly unscoped = new FaultController();

  set(faults: Faults): void {
    if (faults.scope === undefined) return this.unscoped.set(faults);
    const controller = new FaultController();
    controller.set(faults);
    this.byScope.set(faults.scope, controller);
  }

  /** Clears one scope's faults, or every fault when `scope` is undefined. */
  clear(scope?: string): void {
    if (scope !== undefined) {
      this.byScope.delete(scope);
      return;
    }
    this.byScope.clear();
    this.unscoped.clear();
  }

  latencyFor(scope: string): number {
    return (this.byScope.get(scope)?.latencyFor(scope) ?? 0) + this.unscoped.latencyFor(scope);
  }

  check(scope: string, sqlTexts: string[]): FaultDecision | undefined {
    return this.byScope.get(scope)?.check(scope, sqlTexts) ?? this.unscoped.check(scope, sqlTexts);
  }
}
