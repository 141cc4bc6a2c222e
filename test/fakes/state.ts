/**
 * Everything the fakes remember, in one place so `POST /__reset` clears it:
 * registered scenarios, issued codes (one-time) and access tokens, endpoint
 * faults, the call log, and requests held open by `{ hang: true }`.
 */
import { createHash, randomBytes } from "node:crypto";
import type { FakeCall, FakeEndpointFaults, FakeScenario, FakeUser } from "./types.ts";

/** What the authorize endpoint recorded for a code. */
export interface Grant {
  provider: string;
  scenarioId: string;
  scenario: FakeScenario;
  user: Required<FakeUser>;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | null;
  nonce: string | null;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
  expiresAt: number;
  used: boolean;
}

/** What an issued access token stands for. */
export interface IssuedToken {
  grant: Grant;
  scopes: string[];
  expiresAt: number;
}

const HANG_MS = 10_000;

class FakeState {
  scenarios = new Map<string, { provider: string; scenario: FakeScenario }>();
  next = new Map<string, string[]>();
  grants = new Map<string, Grant>();
  tokens = new Map<string, IssuedToken>();
  endpointFaults = new Map<string, FakeEndpointFaults>();
  calls: FakeCall[] = [];
  private seq = 0;
  private hangs = new Set<() => void>();

  record(call: Omit<FakeCall, "seq">): void {
    this.calls.push({ seq: ++this.seq, ...call });
  }

  addScenario(provider: string, scenario: FakeScenario, asNext: boolean): string {
    const id = `scn_${randomBytes(6).toString("hex")}`;
    this.scenarios.set(id, { provider, scenario });
    if (asNext) this.next.set(provider, [...(this.next.get(provider) ?? []), id]);
    return id;
  }

  /** The scenario named on the authorize URL, else the provider's next one, else the default. */
  takeScenario(provider: string, requested: string | null): { id: string; scenario: FakeScenario } | undefined {
    if (requested !== null) {
      const found = this.scenarios.get(requested);
      return found && found.provider === provider ? { id: requested, scenario: found.scenario } : undefined;
    }
    const queued = this.next.get(provider)?.shift();
    if (queued !== undefined) return { id: queued, scenario: this.scenarios.get(queued)?.scenario ?? {} };
    return { id: "default", scenario: {} };
  }

  issueCode(grant: Grant): string {
    const code = randomBytes(16).toString("base64url");
    this.grants.set(code, grant);
    return code;
  }

  issueToken(prefix: string, grant: Grant, scopes: string[], ttlSeconds: number): string {
    const token = `${prefix}${randomBytes(20).toString("base64url")}`;
    this.tokens.set(token, { grant, scopes, expiresAt: Date.now() + ttlSeconds * 1000 });
    return token;
  }

  /** The live token named by an `Authorization: Bearer …` header (or a query parameter). */
  bearer(request: Request, url: URL): IssuedToken | undefined {
    const header = request.headers.get("authorization");
    const token = header?.match(/^Bearer (.+)$/i)?.[1] ?? url.searchParams.get("access_token") ?? undefined;
    const issued = token === undefined ? undefined : this.tokens.get(token);
    return issued && issued.expiresAt > Date.now() ? issued : undefined;
  }

  async hang(): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.hangs.delete(done);
        resolve();
      };
      const timer = setTimeout(done, HANG_MS);
      timer.unref?.();
      this.hangs.add(done);
    });
  }

  reset(): void {
    for (const release of [...this.hangs]) release();
    this.scenarios.clear();
    this.next.clear();
    this.grants.clear();
    this.tokens.clear();
    this.endpointFaults.clear();
    this.calls = [];
  }
}

/** The one state of the fakes in this Node process. */
export const state = new FakeState();

/**
 * RFC 7636 S256: BASE64URL(SHA256(verifier)).
 *
 * @example
 * s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") // "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
 */
export function s256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}
