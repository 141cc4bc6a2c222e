/**
 * Reads configuration variables one by one, recording every problem instead
 * of stopping at the first: an operator fixes them all in one pass. Each
 * reader returns `undefined` when the value is absent or unusable.
 */
import type { ConfigProblem } from "../error";
import { isLocalHost, readRaw } from "./env-value";
import { array, type Infer, object, oneOf, optional, string } from "./shape";

/** A private ES256 signing key as `AUTH_SIGNING_KEYS` holds it. */
export const signingJwk = object({
  kty: oneOf(["EC"]),
  crv: oneOf(["P-256"]),
  alg: optional(oneOf(["ES256"])),
  kid: string({ min: 1, max: 200 }),
  x: string({ min: 1 }),
  y: string({ min: 1 }),
  d: string({ min: 1 }),
});
export type SigningJwk = Infer<typeof signingJwk>;

/**
 * One entry of `AUTH_SERVICE_CLIENTS`: a backend that may read provider
 * tokens of the listed organizations (slugs or ids). Only the SHA-256 of its
 * secret is configured; `npm run service-client:generate` prints both.
 */
export const serviceClient = object(
  {
    id: string({ pattern: /^[a-z0-9][a-z0-9._-]{0,63}$/ }),
    secretHash: string({ pattern: /^[0-9a-f]{64}$/ }),
    // The same slug rule as src/orgs/slugs.ts: an entry that could never name an org is a configuration error, not a silent miss.
    orgs: array(string({ pattern: /^(?:(?!.*--)[a-z0-9][a-z0-9-]{1,38}[a-z0-9]|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/ }), {
      min: 1,
      max: 1000,
    }),
  },
  { strict: true },
);
export type ServiceClientConfig = Infer<typeof serviceClient>;

const MIN_SECRET_LENGTH = 16;

/**
 * Reads one environment; every reader records its problem in `problems`
 * instead of throwing, so `parseConfig` reports them all at once.
 *
 * @example
 * const r = new ConfigReader(env);
 * const authUrl = r.url("AUTH_URL", r.required("AUTH_URL"), { originOnly: true });
 * if (r.problems.length > 0) return { ok: false, problems: r.problems };
 */
export class ConfigReader {
  readonly problems: ConfigProblem[] = [];
  /**
   * `GATEHOUSE_DEVELOPMENT=true`: plain-http localhost URLs and
   * NEON_FETCH_ENDPOINT are accepted. Absent (production): both are problems.
   */
  readonly development: boolean;
  constructor(private readonly env: Record<string, unknown>) {
    const flag = this.optional("GATEHOUSE_DEVELOPMENT");
    if (flag !== undefined && flag !== "true") this.problem("GATEHOUSE_DEVELOPMENT", "invalid", "true, or leave it unset in production");
    this.development = flag === "true";
  }

  private problem(variable: string, problem: ConfigProblem["problem"], hint?: string): undefined {
    this.problems.push(hint === undefined ? { variable, problem } : { variable, problem, hint });
    return undefined;
  }

  /** The raw string, `undefined` if absent (no problem recorded) or invalid (problem recorded). */
  optional(variable: string): string | undefined {
    const raw = readRaw(this.env, variable);
    if (raw === undefined) return undefined;
    if (!raw.ok) {
      this.problems.push(raw.problem);
      return undefined;
    }
    return raw.value;
  }

  required(variable: string, hint?: string): string | undefined {
    if (readRaw(this.env, variable) === undefined) return this.problem(variable, "missing", hint);
    return this.optional(variable);
  }

  has(variable: string): boolean {
    return readRaw(this.env, variable) !== undefined;
  }

  url(variable: string, value: string | undefined, { originOnly = false } = {}): URL | undefined {
    if (value === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return this.problem(variable, "invalid_url", "an absolute http(s) URL");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return this.problem(variable, "invalid_url", "http or https only");
    if (url.username || url.password) return this.problem(variable, "invalid_url", "no credentials in the URL");
    if (url.protocol === "http:" && !isLocalHost(url.hostname)) {
      return this.problem(variable, "invalid_url", "https is required except for localhost");
    }
    if (url.protocol === "http:" && !this.development) {
      return this.problem(variable, "invalid_url", "https is required; http://localhost only with GATEHOUSE_DEVELOPMENT=true");
    }
    if (originOnly && (url.pathname !== "/" || url.search || url.hash)) {
      return this.problem(variable, "invalid_url", "an origin only: scheme, host and port, no path");
    }
    return url;
  }

  origins(variable: string): string[] {
    const value = this.optional(variable);
    if (value === undefined) return [];
    const out: string[] = [];
    for (const part of value.split(",")) {
      const url = this.url(variable, part.trim(), { originOnly: true });
      if (url === undefined) return [];
      out.push(url.origin);
    }
    return out;
  }

  seconds(variable: string, fallback: number, min: number, max: number): number {
    const value = this.optional(variable);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problem(variable, "invalid", `a whole number of seconds from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  /** A whole number from `min` to `max` (`hint` names the unit), or `fallback` when unset. */
  wholeNumber(variable: string, fallback: number, min: number, max: number, hint: string): number {
    const value = this.optional(variable);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problem(variable, "invalid", hint);
      return fallback;
    }
    return n;
  }

  secret(variable: string, value: string | undefined): string | undefined {
    if (value !== undefined && value.length < MIN_SECRET_LENGTH) {
      return this.problem(variable, "too_short", `at least ${MIN_SECRET_LENGTH} characters`);
    }
    return value;
  }

  /** A provider is enabled by its id; one of the two credentials alone is a problem. */
  credentials(prefix: string): { clientId: string; clientSecret: string } | undefined {
    const idVar = `${prefix}_CLIENT_ID`;
    const secretVar = `${prefix}_CLIENT_SECRET`;
    if (!this.has(idVar) && !this.has(secretVar)) return undefined;
    const clientId = this.required(idVar, `set it, or remove ${secretVar} to disable the provider`);
    const clientSecret = this.secret(
      secretVar,
      this.required(secretVar, `set it, or remove ${idVar} to disable the provider`),
    );
    return clientId !== undefined && clientSecret !== undefined ? { clientId, clientSecret } : undefined;
  }

  scopes(variable: string): string[] {
    const value = this.optional(variable);
    if (value === undefined) return [];
    const scopes = value.split(/[\s,]+/).filter(Boolean);
    if (scopes.some((s) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
      this.problem(variable, "invalid", "scope names separated by spaces or commas");
      return [];
    }
    return scopes;
  }

  signingKeys(): SigningJwk[] {
    const variable = "AUTH_SIGNING_KEYS";
    const value = this.required(variable, "run `npm run keys:generate`");
    if (value === undefined) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      this.problem(variable, "invalid", "a JSON array of private ES256 JWKs; run `npm run keys:generate`");
      return [];
    }
    const result = array(signingJwk, { min: 1 })(parsed);
    if (!result.ok) {
      this.problem(variable, "invalid", "a non-empty JSON array of private P-256 JWKs, each with a kid");
      return [];
    }
    const kids = new Set(result.value.map((k) => k.kid));
    if (kids.size !== result.value.length) {
      this.problem(variable, "invalid", "every key needs a distinct kid");
      return [];
    }
    return result.value;
  }

  /** `AUTH_SERVICE_CLIENTS`: optional (absent = no service clients); malformed = a named problem (F5). */
  serviceClients(): ServiceClientConfig[] {
    const variable = "AUTH_SERVICE_CLIENTS";
    const hint = 'a JSON array of {"id","secretHash","orgs"}; run `npm run service-client:generate`';
    const value = this.optional(variable);
    if (value === undefined) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      this.problem(variable, "invalid", hint);
      return [];
    }
    const result = array(serviceClient)(parsed);
    if (!result.ok) {
      this.problem(variable, "invalid", `${hint}: id lowercase [a-z0-9._-], secretHash 64 lowercase hex, orgs non-empty slugs or ids`);
      return [];
    }
    if (new Set(result.value.map((c) => c.id)).size !== result.value.length) {
      this.problem(variable, "invalid", "every service client needs a distinct id");
      return [];
    }
    return result.value;
  }

  encryptionKeys(): { version: number; key: Uint8Array }[] {
    const variable = "TOKEN_ENCRYPTION_KEY";
    const hint = "`<version>:<base64url of 32 random bytes>`, newest first, comma-separated";
    const value = this.required(variable, hint);
    if (value === undefined) return [];
    const keys: { version: number; key: Uint8Array }[] = [];
    for (const entry of value.split(",")) {
      const match = /^(\d{1,6}):([A-Za-z0-9_-]{43}=?)$/.exec(entry.trim());
      const key = match?.[2] === undefined ? undefined : decodeBase64Url(match[2]);
      if (!match || key?.length !== 32 || keys.some((k) => k.version === Number(match[1]))) {
        this.problem(variable, "invalid", hint);
        return [];
      }
      keys.push({ version: Number(match[1]), key });
    }
    return keys;
  }
}

function decodeBase64Url(value: string): Uint8Array | undefined {
  try {
    const b64 = value.replace(/=+$/, "").replaceAll("-", "+").replaceAll("_", "/");
    return Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

