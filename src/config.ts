/**
 * Configuration is parsed from `env` once per request context into a typed,
 * read-only object, and nothing else in gatehouse reads `env`. Every problem
 * is collected and named (variable + kind) so an operator sees all of them
 * at once; values never appear in a problem (F2, F5).
 */
import type { ConfigProblem } from "./error";
import { ConfigReader, type ServiceClientConfig, type SigningJwk } from "./lib/config-reader";
import { type EmailConfig, readEmailConfig } from "./lib/email-config";
import { isLocalHost } from "./lib/env-value";

export { isLocalHost };
export type { EmailConfig, ServiceClientConfig, SigningJwk };

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
  facebook: {
    /** Graph API version of every Facebook URL, e.g. `v24.0` (FACEBOOK_GRAPH_VERSION). */
    graphVersion: string;
    /** Extra scopes a Pages connect asks for (FACEBOOK_PAGE_SCOPES); always includes `pages_show_list`. */
    pageScopes: readonly string[];
  };
  providers: readonly ProviderConfig[];
  /** Backends allowed to read provider tokens of some organizations (AUTH_SERVICE_CLIENTS); empty = none. */
  serviceClients: readonly ServiceClientConfig[];
  /** RFC 7591 registration at `POST /oauth/register` (OAUTH_DYNAMIC_REGISTRATION): `off` (default) or `open` to anyone. */
  dynamicRegistration: "off" | "open";
  /** Email codes and links (`/auth/email`); `null` when EMAIL_SIGNIN is unset (docs/email.md). */
  email: EmailConfig | null;
  /**
   * GATEHOUSE_DEVELOPMENT=true: besides http://localhost origins and
   * neon-local, Client ID Metadata Documents may be served over http on a
   * loopback host (docs/oauth-server.md). False in production.
   */
  development: boolean;
  /** Webhook endpoints (docs/operators.md "Webhooks"): `http://localhost` URLs only with GATEHOUSE_DEVELOPMENT=true. */
  webhooks: { allowLocalHttp: boolean };
  audit: {
    /** AUDIT_RETENTION_DAYS: the hourly cron deletes audit events older than this; 0 keeps them forever. */
    retentionDays: number;
  };
  /** Operators (ADMIN_USER_IDS): user ids, lowercase, allowed at `/admin` and `/api/admin` (docs/operators.md "Admin"); empty = none. */
  adminUserIds: readonly string[];
  /** Passkeys (WebAuthn) for sign-in and new accounts (AUTH_PASSKEYS=true; docs/passkeys.md). Off by default. */
  passkeys: boolean;
}

export type ConfigResult = { ok: true; config: Readonly<Config> } | { ok: false; problems: ConfigProblem[] };

/** How long audit events are kept unless AUDIT_RETENTION_DAYS says otherwise (docs/operators.md). */
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;

/** What a Facebook Pages connect asks for unless FACEBOOK_PAGE_SCOPES says otherwise. */
export const DEFAULT_FACEBOOK_PAGE_SCOPES = ["pages_show_list", "pages_read_engagement", "pages_manage_posts"] as const;

const BUILT_IN_PROVIDERS: readonly { id: Exclude<ProviderKind, "oidc">; name: string; prefix: string }[] = [
  { id: "github", name: "GitHub", prefix: "GITHUB" },
  { id: "google", name: "Google", prefix: "GOOGLE" },
  { id: "facebook", name: "Facebook", prefix: "FACEBOOK" },
  { id: "naver", name: "Naver", prefix: "NAVER" },
  { id: "kakao", name: "Kakao", prefix: "KAKAO" },
];

/**
 * Parses and validates the worker's environment.
 *
 * @example
 * const result = parseConfig(env);
 * if (!result.ok) throw new ConfigurationError(result.problems);
 */
export function parseConfig(env: Record<string, unknown>): ConfigResult {
  const r = new ConfigReader(env);

  const authUrl = r.url("AUTH_URL", r.required("AUTH_URL", "the worker's public origin"), { originOnly: true });
  const databaseUrl = r.required("DATABASE_URL", "the Neon connection string");
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/[^\s]+$/.test(databaseUrl)) {
    r.problems.push({ variable: "DATABASE_URL", problem: "invalid", hint: "a postgres:// connection string" });
  }
  const fetchEndpointRaw = r.optional("NEON_FETCH_ENDPOINT");
  // The local Neon endpoint redirects every query: never in production.
  if (fetchEndpointRaw !== undefined && !r.development) {
    r.problems.push({ variable: "NEON_FETCH_ENDPOINT", problem: "invalid", hint: "development only: set GATEHOUSE_DEVELOPMENT=true, or unset it" });
  }
  const fetchEndpoint = fetchEndpointRaw === undefined || !r.development ? null : (r.url("NEON_FETCH_ENDPOINT", fetchEndpointRaw) ?? null);
  const signingKeys = r.signingKeys();
  const encryptionKeys = r.encryptionKeys();
  const serviceClients = r.serviceClients();

  const allowedAudiences = r.optional("ALLOWED_AUDIENCES")?.split(",").map((a) => a.trim()).filter(Boolean) ?? [];
  // gatehouse's own API audience is granted only when named (routes/token.ts), never as an external default.
  if (authUrl && allowedAudiences.includes(`${authUrl.origin}/api`)) {
    r.problems.push({ variable: "ALLOWED_AUDIENCES", problem: "invalid", hint: "must not list <AUTH_URL>/api, gatehouse's own API" });
  }
  const sessionTtlSeconds = r.seconds("SESSION_TTL_SECONDS", 300, 60, 3600);
  const refreshTtlSeconds = r.seconds("REFRESH_TTL_SECONDS", 30 * 86400, 3600, 365 * 86400);
  const sessions = {
    sessionTtlSeconds,
    // The default is gatehouse/verify's DEFAULT_MAX_TOKEN_AGE_SECONDS: change both together (verify.test.ts checks).
    accessTokenTtlSeconds: r.seconds("ACCESS_TOKEN_TTL_SECONDS", 600, 60, 86400),
    refreshTtlSeconds,
    refreshAbsoluteTtlSeconds: r.seconds("REFRESH_ABSOLUTE_TTL_SECONDS", 90 * 86400, refreshTtlSeconds, 730 * 86400),
    refreshGraceSeconds: r.seconds("REFRESH_GRACE_SECONDS", 10, 0, 120),
  };

  const graphVersion = r.optional("FACEBOOK_GRAPH_VERSION") ?? "v24.0";
  if (!/^v\d{1,2}\.\d$/.test(graphVersion)) {
    r.problems.push({ variable: "FACEBOOK_GRAPH_VERSION", problem: "invalid", hint: "like v24.0" });
  }

  const pageScopesSet = r.scopes("FACEBOOK_PAGE_SCOPES");
  const pageScopes = pageScopesSet.length > 0 ? pageScopesSet : [...DEFAULT_FACEBOOK_PAGE_SCOPES];
  // Without it /me/accounts lists nothing, and a connect would mark every page gone.
  if (!pageScopes.includes("pages_show_list")) {
    r.problems.push({ variable: "FACEBOOK_PAGE_SCOPES", problem: "invalid", hint: "must include pages_show_list" });
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

  const dynamicRegistration = r.optional("OAUTH_DYNAMIC_REGISTRATION") ?? "off";
  if (dynamicRegistration !== "off" && dynamicRegistration !== "open") {
    r.problems.push({ variable: "OAUTH_DYNAMIC_REGISTRATION", problem: "invalid", hint: "off or open" });
  }

  const email = readEmailConfig(r, env);
  const auditRetentionDays = r.wholeNumber("AUDIT_RETENTION_DAYS", DEFAULT_AUDIT_RETENTION_DAYS, 0, 36500, "a whole number of days from 1 to 36500, or 0 to keep audit events forever");
  const adminUserIds = readAdminUserIds(r, env);
  const passkeysFlag = r.optional("AUTH_PASSKEYS");
  if (passkeysFlag !== undefined && passkeysFlag !== "true" && passkeysFlag !== "false") {
    r.problems.push({ variable: "AUTH_PASSKEYS", problem: "invalid", hint: "true or false (unset: false)" });
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
    facebook: { graphVersion, pageScopes },
    providers,
    serviceClients,
    dynamicRegistration: dynamicRegistration === "open" ? "open" : "off",
    email,
    development: r.development,
    webhooks: { allowLocalHttp: r.development },
    audit: { retentionDays: auditRetentionDays },
    adminUserIds,
    passkeys: passkeysFlag === "true",
  };
  return { ok: true, config: deepFreeze(config) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * ADMIN_USER_IDS: comma-separated user ids (UUIDs); unset or empty means no
 * operators (an empty value is how a deployment turns them all off). Any
 * malformed entry is a problem, so a typo never silently drops an operator.
 */
function readAdminUserIds(r: ConfigReader, env: Record<string, unknown>): string[] {
  if (env.ADMIN_USER_IDS === "") return [];
  const raw = r.optional("ADMIN_USER_IDS");
  if (raw === undefined) return [];
  const ids = raw.split(",").map((s) => s.trim().toLowerCase());
  if (ids.length > 100 || ids.some((id) => !UUID.test(id))) {
    r.problems.push({ variable: "ADMIN_USER_IDS", problem: "invalid", hint: "comma-separated user ids (UUIDs), at most 100" });
    return [];
  }
  return [...new Set(ids)];
}

const parsed = new WeakMap<object, ConfigResult>();

/**
 * `parseConfig`, cached per `env` object: workerd hands the same `env` to
 * every request of an isolate, so this parses once per deployment version.
 *
 * @example
 * const result = configFor(c.env);
 * if (!result.ok) throw new ConfigurationError(result.problems);
 */
export function configFor(env: object): ConfigResult {
  let result = parsed.get(env);
  if (!result) {
    result = parseConfig(env as Record<string, unknown>);
    parsed.set(env, result);
  }
  return result;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !(value instanceof URL) && !ArrayBuffer.isView(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
