/**
 * `POST /oauth/token` and `POST /oauth/revoke` requests, parsed purely:
 * client authentication (RFC 6749 §2.3.1: `client_secret_basic`,
 * `client_secret_post`, or none for public clients) and the grant's
 * parameters. Results are tagged; nothing here throws on bad input.
 */
import { isClientMetadataUrl, type ClientMetadataUrlOptions } from "./client-metadata";
import { isResourceUri } from "./authorize-request";
import { parseScope } from "./scopes";

/** RFC 6749 §5.2 error codes (plus RFC 8707's invalid_target). */
export type TokenErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "invalid_target"
  | "unsupported_token_type";

export interface TokenError {
  error: TokenErrorCode;
  description: string;
}

/** Who the caller says it is; the secret is checked against the database. */
export interface ClientCredentials {
  clientId: string;
  /** The presented secret, or `null` for a public client. */
  secret: string | null;
  method: "client_secret_basic" | "client_secret_post" | "none";
}

export type ClientAuthResult = { ok: true; client: ClientCredentials } | { ok: false; error: TokenError; basic: boolean };

export type TokenRequest =
  | { grant: "authorization_code"; code: string; redirectUri: string; codeVerifier: string; resource: string | null }
  | { grant: "refresh_token"; refreshToken: string; scopes: string[] | null; resource: string | null };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REFUSED_GRANTS = new Set(["password", "implicit", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"]);

/**
 * Single-valued form fields; `null` when a field is repeated.
 *
 * @example
 * formFields(new URLSearchParams("a=1&a=2")); // null
 */
export function formFields(form: URLSearchParams): Map<string, string> | null {
  const out = new Map<string, string>();
  for (const [k, v] of form) {
    if (out.has(k)) return null;
    out.set(k, v);
  }
  return out;
}

/**
 * Client authentication from the Authorization header and the form.
 *
 * @example
 * clientAuthentication("Basic " + btoa("id:secret"), fields);
 */
export function clientAuthentication(authorization: string | undefined, fields: Map<string, string>, metadataUrls: ClientMetadataUrlOptions = {}): ClientAuthResult {
  const bodyId = fields.get("client_id");
  const bodySecret = fields.get("client_secret");
  if (authorization !== undefined) {
    const basic = parseBasic(authorization);
    if (!basic) return { ok: false, basic: true, error: { error: "invalid_client", description: "malformed HTTP Basic credentials" } };
    if (bodySecret !== undefined) return { ok: false, basic: true, error: { error: "invalid_request", description: "use one client authentication method" } };
    if (bodyId !== undefined && bodyId !== basic.id) return { ok: false, basic: true, error: { error: "invalid_request", description: "client_id differs from the credentials" } };
    if (!UUID.test(basic.id)) return { ok: false, basic: true, error: { error: "invalid_client", description: "unknown client" } };
    return { ok: true, client: { clientId: basic.id, secret: basic.secret, method: "client_secret_basic" } };
  }
  if (bodyId === undefined) return { ok: false, basic: false, error: { error: "invalid_client", description: "client_id is required" } };
  // A Client ID Metadata Document client (its URL as client_id) is public: no secret.
  if (!UUID.test(bodyId) && !(bodySecret === undefined && isClientMetadataUrl(bodyId, metadataUrls))) return { ok: false, basic: false, error: { error: "invalid_client", description: "unknown client" } };
  if (bodySecret !== undefined) {
    if (bodySecret.length === 0 || bodySecret.length > 256) return { ok: false, basic: false, error: { error: "invalid_client", description: "malformed client_secret" } };
    return { ok: true, client: { clientId: bodyId, secret: bodySecret, method: "client_secret_post" } };
  }
  return { ok: true, client: { clientId: bodyId, secret: null, method: "none" } };
}

function parseBasic(header: string): { id: string; secret: string } | null {
  const m = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!m?.[1]) return null;
  let decoded: string;
  try {
    decoded = atob(m[1]);
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before Base64.
    const id = decodeURIComponent(decoded.slice(0, colon).replaceAll("+", " "));
    const secret = decodeURIComponent(decoded.slice(colon + 1).replaceAll("+", " "));
    if (secret.length === 0 || secret.length > 256) return null;
    return { id, secret };
  } catch {
    return null;
  }
}

/**
 * The grant and its parameters.
 *
 * @example
 * parseTokenRequest(fields); // { ok: true, request: { grant: "authorization_code", … } }
 */
export function parseTokenRequest(fields: Map<string, string>): { ok: true; request: TokenRequest } | { ok: false; error: TokenError } {
  const grant = fields.get("grant_type");
  const resourceField = fields.get("resource") ?? null;
  if (resourceField !== null && !isResourceUri(resourceField)) return { ok: false, error: { error: "invalid_target", description: "resource must be an absolute URI" } };
  if (grant === undefined) return { ok: false, error: { error: "invalid_request", description: "grant_type is required" } };
  if (grant === "authorization_code") {
    const code = fields.get("code");
    const redirectUri = fields.get("redirect_uri");
    const codeVerifier = fields.get("code_verifier");
    if (!code || code.length > 128) return { ok: false, error: { error: "invalid_request", description: "code is required" } };
    if (!redirectUri) return { ok: false, error: { error: "invalid_request", description: "redirect_uri is required" } };
    if (!codeVerifier) return { ok: false, error: { error: "invalid_request", description: "code_verifier is required (PKCE)" } };
    return { ok: true, request: { grant, code, redirectUri, codeVerifier, resource: resourceField } };
  }
  if (grant === "refresh_token") {
    const refreshToken = fields.get("refresh_token");
    if (!refreshToken) return { ok: false, error: { error: "invalid_request", description: "refresh_token is required" } };
    const scopeField = fields.get("scope");
    const scopes = scopeField === undefined ? null : parseScope(scopeField);
    if (scopeField !== undefined && scopes === null) return { ok: false, error: { error: "invalid_scope", description: "malformed scope" } };
    return { ok: true, request: { grant, refreshToken, scopes, resource: resourceField } };
  }
  const known = REFUSED_GRANTS.has(grant);
  return { ok: false, error: { error: "unsupported_grant_type", description: known ? `${grant} is not supported` : "unknown grant_type" } };
}
