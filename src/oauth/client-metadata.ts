/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-
 * document, the registration method the MCP authorization spec prefers): a
 * `client_id` that is an https URL names a JSON document, published by the
 * client at that URL, holding its metadata. Pure checks only: which
 * `client_id`s are document URLs, whether a fetched document is acceptable,
 * and how long it may be cached (`fetch-client-metadata.ts` fetches).
 */
import { registrationProblem, type ApplicationType } from "./redirect-uri";
import { IDENTITY_SCOPES, isValidScopeName } from "./scopes";

/** A validated document: what gatehouse stores as the client's row. */
export interface ClientMetadataDocument {
  url: string;
  name: string;
  applicationType: ApplicationType;
  redirectUris: string[];
  /** The document's `scope`, or null when it names none (then any requested scope may be asked for). */
  scopes: string[] | null;
}

export type ClientMetadataResult = { ok: true; value: ClientMetadataDocument } | { ok: false; problem: string };

/** The longest document URL accepted. */
export const MAX_CLIENT_ID_URL_LENGTH = 512;
/** Documents are a few hundred bytes; anything past this is refused unread. */
export const MAX_CLIENT_METADATA_BYTES = 5 * 1024;
/** Cache bounds (seconds): KV's minimum TTL, a day at most, five minutes when the host says nothing. */
export const CLIENT_METADATA_CACHE = { min: 60, max: 86_400, fallback: 300 } as const;

const NAME = /^[^\p{Cc}\p{Cf}]{1,100}$/u;

/** Options of {@link isClientMetadataUrl}. */
export interface ClientMetadataUrlOptions {
  /**
   * Also accept `http://` on a loopback host (127.0.0.1, localhost, [::1]),
   * any port: GATEHOUSE_DEVELOPMENT=true only (local MCP clients and the
   * browser tests serve their documents there). Never in production.
   */
  httpLoopback?: boolean;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Whether `clientId` is a Client ID Metadata Document URL: https, a DNS
 * name (not an IP literal or `localhost`), a path other than `/`, no fragment, credentials or dot segments, at most 512
 * characters. Anything else is an ordinary (registered) client id. With
 * `httpLoopback` (development), `http://127.0.0.1:<port>/…`,
 * `http://localhost:<port>/…` and `http://[::1]:<port>/…` are accepted too.
 *
 * @example
 * isClientMetadataUrl("https://app.example.com/oauth/client.json"); // true
 * isClientMetadataUrl("https://app.example.com");                   // false
 * isClientMetadataUrl("http://127.0.0.1:4000/client.json");         // false
 * isClientMetadataUrl("http://127.0.0.1:4000/client.json", { httpLoopback: true }); // true
 */
export function isClientMetadataUrl(clientId: string, options: ClientMetadataUrlOptions = {}): boolean {
  const http = options.httpLoopback === true && clientId.startsWith("http://");
  if (clientId.length > MAX_CLIENT_ID_URL_LENGTH || !(clientId.startsWith("https://") || http)) return false;
  if (/[\s\\#\x00-\x1f\x7f-\uffff]/.test(clientId)) return false;
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return false;
  }
  if (url.username !== "" || url.password !== "" || url.pathname === "/" || url.href !== clientId) return false;
  if (http) {
    if (!LOOPBACK_HOSTS.has(url.hostname)) return false;
  } else if (url.hostname.startsWith("[") || /^[\d.]+$/.test(url.hostname) || !url.hostname.includes(".")) {
    // A public DNS name: no IP literal, no single-label host such as localhost.
    return false;
  }
  return !clientId.slice(url.origin.length).split(/[/?]/).some((segment) => segment === "." || segment === "..");
}

/**
 * Checks a fetched document for `url`: `client_id` equal to the URL,
 * 1–10 redirect URIs under the usual rules, a public client
 * (`token_endpoint_auth_method` absent or `none`; gatehouse does not accept
 * `private_key_jwt`, so a document declaring keys is refused), grants and
 * response types gatehouse implements.
 *
 * @example
 * validateClientMetadata(JSON.parse(text), "https://app.example.com/client.json");
 */
export function validateClientMetadata(doc: unknown, url: string): ClientMetadataResult {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return { ok: false, problem: "the document is not a JSON object" };
  const o = doc as Record<string, unknown>;
  if (o.client_id !== url) return { ok: false, problem: "the document's client_id is not its own URL" };
  const method = o.token_endpoint_auth_method ?? "none";
  if (method !== "none" || o.jwks_uri !== undefined || o.jwks !== undefined) {
    return { ok: false, problem: "only public clients (token_endpoint_auth_method none, no keys) are accepted" };
  }
  if (o.client_secret !== undefined || o.client_secret_expires_at !== undefined) return { ok: false, problem: "a document must not contain a client secret" };
  const grants = o.grant_types ?? ["authorization_code"];
  if (!Array.isArray(grants) || !grants.includes("authorization_code") || !grants.every((g) => g === "authorization_code" || g === "refresh_token")) {
    return { ok: false, problem: "grant_types may only list authorization_code and refresh_token" };
  }
  const responseTypes = o.response_types ?? ["code"];
  if (!Array.isArray(responseTypes) || responseTypes.length !== 1 || responseTypes[0] !== "code") return { ok: false, problem: "response_types must be [\"code\"]" };
  const applicationType = o.application_type ?? "web";
  if (applicationType !== "web" && applicationType !== "native") return { ok: false, problem: "application_type must be web or native" };
  const uris = o.redirect_uris;
  if (!Array.isArray(uris) || uris.length < 1 || uris.length > 10 || !uris.every((u): u is string => typeof u === "string")) {
    return { ok: false, problem: "redirect_uris must list 1 to 10 URLs" };
  }
  for (const uri of uris) {
    const problem = registrationProblem(uri, applicationType);
    if (problem) return { ok: false, problem: `redirect URI ${uri}: ${problem}` };
  }
  let scopes: string[] | null = null;
  if (o.scope !== undefined) {
    if (typeof o.scope !== "string") return { ok: false, problem: "scope must be a space-separated string" };
    scopes = [...new Set(o.scope.split(" ").filter((s) => s !== ""))];
    if (scopes.length < 1 || scopes.length > 20 || !scopes.every(isValidScopeName)) return { ok: false, problem: "scope must name 1 to 20 valid scopes" };
  }
  let name = new URL(url).host;
  if (o.client_name !== undefined) {
    if (typeof o.client_name !== "string" || !NAME.test(o.client_name.trim())) return { ok: false, problem: "client_name must be 1 to 100 printable characters" };
    name = o.client_name.trim();
  }
  return { ok: true, value: { url, name, applicationType, redirectUris: [...new Set(uris)], scopes } };
}

/**
 * The scopes a document client's row allows for one request: the
 * document's own, or (when it names none) the identity scopes plus whatever
 * this request asks for; the consent page shows each new scope anyway.
 *
 * @example
 * allowedScopes({ scopes: null }, ["notes:read"]); // ["openid", "profile", "email", "offline_access", "notes:read"]
 */
export function allowedScopes(doc: Pick<ClientMetadataDocument, "scopes">, requested: readonly string[]): string[] {
  return doc.scopes ?? [...new Set([...IDENTITY_SCOPES, ...requested])];
}

/**
 * How long a document may be cached, from its `Cache-Control`: `no-store`,
 * `no-cache`, `private` or `max-age=0` mean not at all (0); `max-age` is
 * clamped to 60 s – 1 day; nothing usable means 5 minutes.
 *
 * @example
 * cacheSeconds("public, max-age=3600"); // 3600
 * cacheSeconds("no-store");             // 0
 */
export function cacheSeconds(cacheControl: string | null): number {
  const directives = (cacheControl ?? "").toLowerCase().split(",").map((d) => d.trim());
  if (directives.some((d) => d === "no-store" || d === "no-cache" || d === "private")) return 0;
  const maxAge = directives.map((d) => /^max-age=(\d{1,10})$/.exec(d)?.[1]).find((v) => v !== undefined);
  if (maxAge === undefined) return CLIENT_METADATA_CACHE.fallback;
  const n = Number(maxAge);
  if (n === 0) return 0;
  return Math.min(Math.max(n, CLIENT_METADATA_CACHE.min), CLIENT_METADATA_CACHE.max);
}
