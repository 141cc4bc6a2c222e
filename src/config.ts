/**
 * Configuration is parsed from `env` once per request context into a typed,
 * read-only object, and nothing else in gatehouse reads `env`. Every problem
 * is collected and named (variable + kind) so an operator sees all of them
 * at once; values never appear in a problem (F2, F5).
 */
import { z } from "zod";
import type { ConfigProblem } from "./error";
import { readRaw } from "./lib/env-value";

export type ProviderKind = "github" | "google" | "facebook" | "naver" | "kakao" | "oidc";

/** A provider whose configuration is complete. */
export interface ProviderConfig {
  /** Route id: `github`, … or the id of an `oidc` instance, e.g. `local`. */
  id: string;
  kind: ProviderKind;
  name: string;
  clientId: string;
  clientSecret: string;
  /** Only for `oidc` instances. */
  issuer?: URL;
  /** Requested scopes; a provider file supplies its defaults when empty. */
  scopes: readonly string[];
}

export interface Config {
  /** The worker's public origin, e.g. `https://auth.example.com`; issuer of every token. */
  authUrl: URL;
  database: {
    url: string;
    /** Only set for the local Neon-protocol endpoint (`scripts/neon-local.ts`). */
    fetchEndpoint: URL | null;
  };
  /** Private ES256 JWKs; the first signs, all are published. Imported by `tokens/keys.ts`. */
  signingKeys: readonly SigningJwk[];
  /** AES-256-GCM keys for provider tokens at rest; the first encrypts. */
  encryptionKeys: readonly { version: number; key: Uint8Array }[];
  allowedOrigins: readonly string[];
  allowedRedirectOrigins: readonly string[];
  /** Never empty; the first is the default audience. */
  allowedAudiences: readonly string[];
  sessions: {
    sessionTtlSeconds: number;
    accessTokenTtlSeconds: number;
    refreshTtlSeconds: number;
    refreshAbsoluteTtlSeconds: number;
    refreshGraceSeconds: number;
  };
  facebook: { graphVersion: string };
  providers: readonly ProviderConfig[];
}

const signingJwk = z.object({
  kty: z.literal("EC"),
  crv: z.literal("P-256"),
  alg: z.literal("ES256").optional(),
  kid: z.string().min(1).max(200),
  x: z.string().min(1),
  y: z.string().min(1),
  d: z.string().min(1),
});
export type SigningJwk = z.infer<typeof signingJwk>;

export type ConfigResult = { ok: true; config: Readonly<Config> } | { ok: false; problems: ConfigProblem[] };

const BUILT_IN_PROVIDERS: readonly { id: Exclude<ProviderKind, "oidc">; name: string; prefix: string }[] = [
  { id: "github", name: "GitHub", prefix: "GITHUB" },
  { id: "google", name: "Google", prefix: "GOOGLE" },
  { id: "facebook", name: "Facebook", prefix: "FACEBOOK" },
  { id: "naver", name: "Naver", prefix: "NAVER" },
  { id: "kakao", name: "Kakao", prefix: "KAKAO" },
];

const MIN_SECRET_LENGTH = 16;

/** Collects problems while reading; each reader returns undefined when the value is unusable. */
class Reader {
  readonly problems: ConfigProblem[] = [];
  constructor(private readonly env: Record<string, unknown>) {}

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
    const result = z.array(signingJwk).min(1).safeParse(parsed);
    if (!result.success) {
      this.problem(variable, "invalid", "a non-empty JSON array of private P-256 JWKs, each with a kid");
      return [];
    }
    const kids = new Set(result.data.map((k) => k.kid));
    if (kids.size !== result.data.length) {
      this.problem(variable, "invalid", "every key needs a distinct kid");
      return [];
    }
    return result.data;
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

/**
 * Parses and validates the worker's environment.
 *
 * @example
 * const result = parseConfig(env);
 * if (!result.ok) throw new ConfigurationError(result.problems);
 */
export function parseConfig(env: Record<string, unknown>): ConfigResult {
  const r = new Reader(env);

  const authUrl = r.url("AUTH_URL", r.required("AUTH_URL", "the worker's public origin"), { originOnly: true });
  const databaseUrl = r.required("DATABASE_URL", "the Neon connection string");
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/[^\s]+$/.test(databaseUrl)) {
    r.problems.push({ variable: "DATABASE_URL", problem: "invalid", hint: "a postgres:// connection string" });
  }
  const fetchEndpointRaw = r.optional("NEON_FETCH_ENDPOINT");
  const fetchEndpoint = fetchEndpointRaw === undefined ? null : (r.url("NEON_FETCH_ENDPOINT", fetchEndpointRaw) ?? null);
  const signingKeys = r.signingKeys();
  const encryptionKeys = r.encryptionKeys();

  const allowedAudiences = r.optional("ALLOWED_AUDIENCES")?.split(",").map((a) => a.trim()).filter(Boolean) ?? [];
  const sessionTtlSeconds = r.seconds("SESSION_TTL_SECONDS", 300, 60, 3600);
  const refreshTtlSeconds = r.seconds("REFRESH_TTL_SECONDS", 30 * 86400, 3600, 365 * 86400);
  const sessions = {
    sessionTtlSeconds,
    accessTokenTtlSeconds: r.seconds("ACCESS_TOKEN_TTL_SECONDS", 600, 60, 86400),
    refreshTtlSeconds,
    refreshAbsoluteTtlSeconds: r.seconds("REFRESH_ABSOLUTE_TTL_SECONDS", 90 * 86400, refreshTtlSeconds, 730 * 86400),
    refreshGraceSeconds: r.seconds("REFRESH_GRACE_SECONDS", 10, 0, 120),
  };

  const graphVersion = r.optional("FACEBOOK_GRAPH_VERSION") ?? "v24.0";
  if (!/^v\d{1,2}\.\d$/.test(graphVersion)) {
    r.problems.push({ variable: "FACEBOOK_GRAPH_VERSION", problem: "invalid", hint: "like v24.0" });
  }

  const providers: ProviderConfig[] = [];
  for (const p of BUILT_IN_PROVIDERS) {
    const creds = r.credentials(p.prefix);
    const scopes = r.scopes(`${p.prefix}_SCOPES`);
    if (creds) providers.push({ id: p.id, kind: p.id, name: p.name, ...creds, scopes });
  }
  for (const id of r.optional("OIDC_PROVIDERS")?.split(",").map((s) => s.trim()) ?? []) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(id) || providers.some((p) => p.id === id)) {
      r.problems.push({ variable: "OIDC_PROVIDERS", problem: "invalid", hint: "distinct lowercase ids (a-z, 0-9, -), not a built-in provider's" });
      continue;
    }
    const prefix = `OIDC_${id.toUpperCase().replaceAll("-", "_")}`;
    const issuer = r.url(`${prefix}_ISSUER`, r.required(`${prefix}_ISSUER`, "the issuer URL"));
    const hasCredentials = r.has(`${prefix}_CLIENT_ID`) || r.has(`${prefix}_CLIENT_SECRET`);
    const creds = hasCredentials ? r.credentials(prefix) : r.required(`${prefix}_CLIENT_ID`);
    const name = r.optional(`${prefix}_NAME`) ?? id;
    const scopes = r.scopes(`${prefix}_SCOPES`);
    if (issuer && typeof creds === "object") providers.push({ id, kind: "oidc", name, issuer, ...creds, scopes });
  }

  const allowedOrigins = r.origins("ALLOWED_ORIGINS");
  const allowedRedirectOrigins = r.origins("ALLOWED_REDIRECT_ORIGINS");

  if (r.problems.length > 0 || !authUrl || databaseUrl === undefined) {
    return { ok: false, problems: r.problems };
  }
  const config: Config = {
    authUrl,
    database: { url: databaseUrl, fetchEndpoint },
    signingKeys,
    encryptionKeys,
    allowedOrigins,
    allowedRedirectOrigins,
    allowedAudiences: allowedAudiences.length > 0 ? allowedAudiences : [authUrl.origin],
    sessions,
    facebook: { graphVersion },
    providers,
  };
  return { ok: true, config: deepFreeze(config) };
}

const parsed = new WeakMap<object, ConfigResult>();

/**
 * `parseConfig`, cached per `env` object: workerd hands the same `env` to
 * every request of an isolate, so this parses once per deployment version.
 */
export function configFor(env: object): ConfigResult {
  let result = parsed.get(env);
  if (!result) {
    result = parseConfig(env as Record<string, unknown>);
    parsed.set(env, result);
  }
  return result;
}

export function isLocalHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]" || hostname.endsWith(".localhost");
}

function decodeBase64Url(value: string): Uint8Array | undefined {
  try {
    const b64 = value.replace(/=+$/, "").replaceAll("-", "+").replaceAll("_", "/");
    return Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !(value instanceof URL) && !ArrayBuffer.isView(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
