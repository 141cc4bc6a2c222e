/**
 * The resource-server kit of `gatehouse/verify` (RFC 9728, RFC 6750, RFC
 * 8707): everything an API or remote MCP server needs to be protected by
 * gatehouse, in any runtime with web `Request`/`Response` (Workers, Node 18+,
 * Bun, Deno). It builds the `/.well-known/oauth-protected-resource` document,
 * answers 401 with `WWW-Authenticate: Bearer resource_metadata="…"` (how MCP
 * clients discover the authorization server) and 403
 * `error="insufficient_scope", scope="…"` for step-up, and accepts only
 * tokens whose `aud` is this resource. It imports only `./verify` (jose).
 *
 * @example
 * const mcp = protectedResource({ resource: "https://mcp.example.com/mcp", issuer: "https://auth.example.com" });
 * if (new URL(request.url).pathname === mcp.metadataPath) return mcp.metadataResponse();
 * const auth = await mcp.authenticate(request.headers.get("authorization"), ["notes:read"]);
 * if (!auth.ok) return auth.response();
 * auth.claims.sub; // the user
 */
import { verifyAccessToken, type AccessTokenClaims, type VerifyAccessTokenError, type VerifyAccessTokenOptions } from "./verify";

/** The well-known path prefix of RFC 9728 §3. */
export const PROTECTED_RESOURCE_WELL_KNOWN = "/.well-known/oauth-protected-resource";

export interface ProtectedResourceOptions {
  /**
   * This resource's identifier, the RFC 8707 `resource` clients ask tokens
   * for and the `aud` of the tokens it accepts: an https URL without fragment
   * (for an MCP server, its endpoint, e.g. `https://mcp.example.com/mcp`).
   */
  resource: string;
  /** gatehouse's AUTH_URL origin, the only authorization server listed. */
  issuer: string;
  /** Default `${issuer}/.well-known/jwks.json`. */
  jwksUrl?: string | URL;
  /** The scopes this resource understands (listed in the metadata as `scopes_supported`). */
  scopesSupported?: string[];
  /** Scopes every request needs (checked by `authenticate` before its own). */
  requiredScopes?: string[];
  /**
   * Scopes named in the 401 challenge (`scope="…"`), what a client without a
   * valid token should ask for first. MCP clients take them before
   * `scopes_supported` (which would ask for everything at once), so an MCP
   * server lists its everyday scopes here (and `offline_access` for a refresh
   * token) and leaves the rest to step-up. Default: no `scope` in a 401.
   */
  challengeScopes?: string[];
  /** Human-readable name (`resource_name`). */
  resourceName?: string;
  /** A page for developers (`resource_documentation`). */
  documentationUrl?: string;
  /** Seconds of clock skew tolerated; default 60. */
  clockToleranceSeconds?: number;
  /** Oldest accepted `iat`; gatehouse's ACCESS_TOKEN_TTL_SECONDS (default 600). */
  maxTokenAgeSeconds?: number;
  /** A fetch for the JWKS (tests, service bindings). */
  fetch?: VerifyAccessTokenOptions["fetch"];
}

/** What a refused request gets: a status, headers and a JSON body, or all three as a `Response`. */
export interface ResourceRefusal {
  ok: false;
  /** 401 no or bad token, 403 missing scope, 503 the JWKS could not be loaded. */
  status: 401 | 403 | 503;
  /** `invalid_request` (no Bearer token shape), `invalid_token`, `insufficient_scope`, `temporarily_unavailable`, or null when no token was sent. */
  error: "invalid_request" | "invalid_token" | "insufficient_scope" | "temporarily_unavailable" | null;
  /** Why the token was refused, for logs (never shown to users). */
  reason: VerifyAccessTokenError | "missing_token" | "missing_scope" | "bad_authorization_header";
  headers: Record<string, string>;
  body: { error: string; error_description: string };
  /** The refusal as a web `Response`. */
  response(): Response;
}

export type ResourceAuthResult = { ok: true; claims: AccessTokenClaims; scopes: string[] } | ResourceRefusal;

/** A configured protected resource; see `protectedResource`. */
export interface ProtectedResource {
  /** The RFC 9728 metadata URL: the well-known prefix inserted before the resource's path. */
  metadataUrl: string;
  /** Its path, for routing (`/.well-known/oauth-protected-resource/mcp`). */
  metadataPath: string;
  /** The RFC 9728 document. */
  metadata(): Record<string, unknown>;
  /** The document as a `Response` (JSON, cacheable five minutes, readable cross-origin). */
  metadataResponse(): Response;
  /**
   * Checks an `Authorization` header: a Bearer access token from `issuer`
   * whose `aud` is this resource and whose `scope` holds `requiredScopes`
   * (plus the resource-wide ones).
   */
  authenticate(authorization: string | null | undefined, requiredScopes?: string[]): Promise<ResourceAuthResult>;
}

/**
 * Where RFC 9728 §3.1 puts the metadata of `resource`: the well-known prefix
 * between the host and the path (a trailing slash dropped).
 *
 * @example
 * protectedResourceMetadataUrl("https://mcp.example.com/mcp"); // "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
 * protectedResourceMetadataUrl("https://api.example.com");     // "https://api.example.com/.well-known/oauth-protected-resource"
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  return `${url.origin}${PROTECTED_RESOURCE_WELL_KNOWN}${path}${url.search}`;
}

/**
 * Configures a protected resource. Throws at once for a resource that is
 * not an absolute http(s) URL without fragment, or an issuer that is not an
 * origin: a misconfiguration must not wait for the first request.
 *
 * @example
 * const api = protectedResource({ resource: "https://api.example.com", issuer: "https://auth.example.com", scopesSupported: ["notes:read"] });
 */
export function protectedResource(options: ProtectedResourceOptions): ProtectedResource {
  const resource = checkedResource(options.resource);
  const issuer = new URL(options.issuer).origin;
  if (options.issuer.replace(/\/$/, "") !== issuer) throw new TypeError("issuer must be an origin such as https://auth.example.com");
  for (const scope of [...(options.scopesSupported ?? []), ...(options.requiredScopes ?? []), ...(options.challengeScopes ?? [])]) {
    if (!SCOPE_TOKEN.test(scope)) throw new TypeError(`not a scope: ${JSON.stringify(scope)}`);
  }
  const metadataUrl = protectedResourceMetadataUrl(resource);
  const metadataPath = new URL(metadataUrl).pathname;
  const verifyOptions: VerifyAccessTokenOptions = {
    issuer,
    audience: resource,
    jwksUrl: options.jwksUrl ?? `${issuer}/.well-known/jwks.json`,
    ...(options.clockToleranceSeconds === undefined ? {} : { clockToleranceSeconds: options.clockToleranceSeconds }),
    ...(options.maxTokenAgeSeconds === undefined ? {} : { maxTokenAgeSeconds: options.maxTokenAgeSeconds }),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  const metadata = (): Record<string, unknown> => ({
    resource,
    authorization_servers: [issuer],
    bearer_methods_supported: ["header"],
    resource_signing_alg_values_supported: ["ES256"],
    ...(options.scopesSupported ? { scopes_supported: [...options.scopesSupported] } : {}),
    ...(options.resourceName ? { resource_name: options.resourceName } : {}),
    ...(options.documentationUrl ? { resource_documentation: options.documentationUrl } : {}),
  });
  const refuse = refusal(metadataUrl);
  const challenge = options.challengeScopes && options.challengeScopes.length > 0 ? [...options.challengeScopes] : undefined;
  return {
    metadataUrl,
    metadataPath,
    metadata,
    metadataResponse: () =>
      new Response(JSON.stringify(metadata()), {
        headers: { "Content-Type": "application/json", "Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*" },
      }),
    async authenticate(authorization, requiredScopes = []) {
      if (authorization === null || authorization === undefined || authorization === "") return refuse(401, null, "missing_token", "A Bearer access token is required.", challenge);
      const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
      if (!match) return refuse(401, "invalid_request", "bad_authorization_header", "The Authorization header is not a Bearer token.", challenge);
      const verified = await verifyAccessToken(match[1], verifyOptions);
      if (!verified.ok) {
        if (verified.error === "jwks_unavailable") return refuse(503, "temporarily_unavailable", verified.error, "The authorization server's keys could not be loaded.");
        return refuse(401, "invalid_token", verified.error, "The access token is invalid, expired, or not issued for this resource.", challenge);
      }
      const scopes = typeof verified.claims.scope === "string" ? verified.claims.scope.split(" ").filter((s) => s !== "") : [];
      const needed = [...new Set([...(options.requiredScopes ?? []), ...requiredScopes])];
      const missing = needed.filter((scope) => !scopes.includes(scope));
      if (missing.length > 0) {
        // Step-up: ask for what the token holds plus what is missing, so the new token loses nothing.
        const wanted = [...new Set([...scopes, ...needed])];
        return refuse(403, "insufficient_scope", "missing_scope", `This call needs the scope ${missing.join(" ")}.`, wanted);
      }
      return { ok: true, claims: verified.claims, scopes };
    },
  };
}

/** RFC 6749 §3.3 scope-token: printable ASCII without space, `"` or `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

function checkedResource(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError("resource must be an absolute URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new TypeError("resource must be an http(s) URL");
  if (url.hash !== "" || value.includes("#")) throw new TypeError("resource must not have a fragment (RFC 8707)");
  return value;
}

/** Builds refusals that all point at the metadata document (RFC 9728 §5.1). */
function refusal(metadataUrl: string) {
  return (
    status: ResourceRefusal["status"],
    error: ResourceRefusal["error"],
    reason: ResourceRefusal["reason"],
    description: string,
    scope?: string[],
  ): ResourceRefusal => {
    const params = [
      ...(error && status !== 503 ? [`error="${error}"`, `error_description="${description}"`] : []),
      ...(scope ? [`scope="${scope.join(" ")}"`] : []),
      `resource_metadata="${metadataUrl}"`,
    ];
    const headers: Record<string, string> = { "Content-Type": "application/json", "Cache-Control": "no-store" };
    if (status !== 503) headers["WWW-Authenticate"] = `Bearer ${params.join(", ")}`;
    const body = { error: error ?? "unauthorized", error_description: description };
    return {
      ok: false,
      status,
      error,
      reason,
      headers,
      body,
      response: () => new Response(JSON.stringify(body), { status, headers }),
    };
  };
}
