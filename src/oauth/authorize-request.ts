/**
 * The authorization request (`GET /oauth/authorize`), checked in two pure
 * steps, in the order RFC 6749 §4.1.2.1 demands:
 *   1. `parseAuthorizationParams`: without the client. A missing, repeated or
 *      malformed `client_id` or `redirect_uri` is `fatal` (shown as a page,
 *      never redirected); every other problem is an OAuth error to send back
 *      to the redirect URI once step 2 has proved it belongs to the client.
 *   2. `checkAgainstClient`: an unknown or disabled client or an unregistered
 *      redirect URI is `fatal`; a scope or resource the client may not ask
 *      for is an OAuth error; otherwise the request is good.
 */
import { isClientMetadataUrl, type ClientMetadataUrlOptions } from "./client-metadata";
import type { ApplicationType } from "./redirect-uri";
import { redirectUriMatches } from "./redirect-uri";
import { isS256Challenge } from "./pkce";
import { parseScope } from "./scopes";

/** What the authorization endpoint needs to know about a client. */
export interface ClientView {
  id: string;
  name: string;
  type: "public" | "confidential";
  applicationType: ApplicationType;
  redirectUris: readonly string[];
  scopes: readonly string[];
  resources: readonly string[];
  firstParty: boolean;
  disabled: boolean;
  /** The owning organization's name, shown on the consent page. */
  orgName: string | null;
  /** A Client ID Metadata Document client's URL (its `client_id`); null for a registered client. */
  metadataUrl: string | null;
  /**
   * Registered by itself at `POST /oauth/register` (RFC 7591): its scope list
   * is what it declared, so it bounds nothing (anyone may register any) and
   * a step-up beyond it is allowed; the consent page names every new scope.
   */
  dynamic: boolean;
}

export type Prompt = "none" | "login" | "consent";

/** A well-formed authorization request. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  state: string | null;
  scopes: string[];
  nonce: string | null;
  codeChallenge: string;
  prompt: Prompt | null;
  maxAge: number | null;
  /** RFC 8707 resource: the access token's audience. */
  resource: string;
}

/** An error response sent back to the client (RFC 6749 §4.1.2.1, RFC 8707, OIDC Core §3.1.2.6). */
export interface AuthorizationError {
  error:
    | "invalid_request"
    | "unsupported_response_type"
    | "invalid_scope"
    | "invalid_target"
    | "access_denied"
    | "login_required"
    | "consent_required"
    | "request_not_supported"
    | "request_uri_not_supported"
    | "server_error";
  description: string;
}

export type ParsedAuthorization =
  | { kind: "fatal"; reason: string }
  | {
      kind: "parsed";
      clientId: string;
      redirectUri: string;
      state: string | null;
      result: { ok: true; request: AuthorizationRequest } | { ok: false; error: AuthorizationError };
    };

export type ClientCheck =
  | { kind: "fatal"; reason: string }
  | { kind: "error"; error: AuthorizationError }
  | { kind: "ok"; request: AuthorizationRequest };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PRINTABLE = /^[\x20-\x7e]+$/;
const SINGLE = [
  "client_id", "redirect_uri", "response_type", "response_mode", "state", "scope", "nonce",
  "code_challenge", "code_challenge_method", "prompt", "max_age",
] as const;

/**
 * Step 1: everything that can be checked without the database.
 *
 * @example
 * const parsed = parseAuthorizationParams(new URL(c.req.url).searchParams, "https://auth.example.com/oauth/userinfo");
 */
export function parseAuthorizationParams(params: URLSearchParams, defaultResource: string, metadataUrls: ClientMetadataUrlOptions = {}): ParsedAuthorization {
  const clientIds = params.getAll("client_id");
  const redirectUris = params.getAll("redirect_uri");
  const clientId = clientIds[0];
  const redirectUri = redirectUris[0];
  if (clientIds.length !== 1 || clientId === undefined || !(UUID.test(clientId) || isClientMetadataUrl(clientId, metadataUrls))) return { kind: "fatal", reason: "client_id is missing, repeated or unknown" };
  if (redirectUris.length !== 1 || redirectUri === undefined || redirectUri.length > 512) {
    return { kind: "fatal", reason: "redirect_uri is missing, repeated or too long" };
  }
  const states = params.getAll("state");
  const state = states.length === 1 && states[0] !== undefined && states[0].length <= 1024 && PRINTABLE.test(states[0]) ? states[0] : null;
  const base = { kind: "parsed" as const, clientId, redirectUri, state };
  const fail = (error: AuthorizationError["error"], description: string) => ({ ...base, result: { ok: false as const, error: { error, description } } });

  if (states.length > 1 || (states.length === 1 && state === null)) return fail("invalid_request", "state is repeated or not printable ASCII (at most 1024 characters)");
  for (const name of SINGLE) {
    if (params.getAll(name).length > 1) return fail("invalid_request", `${name} is repeated`);
  }
  if (params.has("request")) return fail("request_not_supported", "request objects are not supported");
  if (params.has("request_uri")) return fail("request_uri_not_supported", "request_uri is not supported");
  const responseType = params.get("response_type");
  if (responseType === null) return fail("invalid_request", "response_type is required");
  if (responseType !== "code") return fail("unsupported_response_type", "only response_type=code is supported");
  const responseMode = params.get("response_mode");
  if (responseMode !== null && responseMode !== "query") return fail("invalid_request", "only response_mode=query is supported");

  const codeChallenge = params.get("code_challenge");
  if (codeChallenge === null) return fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256");
  if (params.get("code_challenge_method") !== "S256") return fail("invalid_request", "code_challenge_method must be S256");
  if (!isS256Challenge(codeChallenge)) return fail("invalid_request", "code_challenge is not an S256 challenge");

  const scopeParam = params.get("scope");
  const scopes = scopeParam === null ? null : parseScope(scopeParam);
  if (scopes === null) return fail("invalid_scope", "scope is required and must list known scope names");

  const nonce = params.get("nonce");
  if (nonce !== null && (nonce.length === 0 || nonce.length > 255 || !PRINTABLE.test(nonce))) return fail("invalid_request", "nonce must be printable ASCII, at most 255 characters");
  if (scopes.includes("openid") && nonce === null) return fail("invalid_request", "nonce is required with the openid scope");

  const promptParam = params.get("prompt");
  let prompt: Prompt | null = null;
  if (promptParam !== null) {
    if (promptParam !== "none" && promptParam !== "login" && promptParam !== "consent") {
      return fail("invalid_request", "prompt must be one of none, login, consent");
    }
    prompt = promptParam;
  }
  const maxAgeParam = params.get("max_age");
  let maxAge: number | null = null;
  if (maxAgeParam !== null) {
    if (!/^\d{1,9}$/.test(maxAgeParam)) return fail("invalid_request", "max_age must be a non-negative integer");
    maxAge = Number(maxAgeParam);
    // OIDC Core §3.1.2.1: max_age=0 asks for a new sign-in, like prompt=login.
    if (maxAge === 0 && prompt === null) prompt = "login";
  }

  const resources = params.getAll("resource");
  if (resources.length > 1) return fail("invalid_target", "one resource per request");
  const resource = resources[0] ?? defaultResource;
  if (!isResourceUri(resource)) return fail("invalid_target", "resource must be an absolute URI without a fragment");

  return { ...base, result: { ok: true, request: { clientId, redirectUri, state, scopes, nonce, codeChallenge, prompt, maxAge, resource } } };
}

/**
 * Step 2: the request against its client (or `null`: no such client).
 *
 * @example
 * const check = checkAgainstClient(parsed, client, defaultResource);
 * if (check.kind === "fatal") return errorPage();
 */
export function checkAgainstClient(
  parsed: Extract<ParsedAuthorization, { kind: "parsed" }>,
  client: ClientView | null,
  defaultResource: string,
): ClientCheck {
  if (client === null || client.disabled) return { kind: "fatal", reason: "unknown or disabled client" };
  if (!redirectUriMatches(client.redirectUris, client.applicationType, parsed.redirectUri)) {
    return { kind: "fatal", reason: "redirect_uri is not registered for this client" };
  }
  if (!parsed.result.ok) return { kind: "error", error: parsed.result.error };
  const request = parsed.result.request;
  const notAllowed = client.dynamic ? [] : request.scopes.filter((s) => !client.scopes.includes(s));
  if (notAllowed.length > 0) return { kind: "error", error: { error: "invalid_scope", description: "the client may not ask for some of these scopes" } };
  if (!resourceAllowed(client, request.resource, defaultResource)) {
    return { kind: "error", error: { error: "invalid_target", description: "the resource is not registered for this client" } };
  }
  return { kind: "ok", request };
}

/**
 * Whether a client may ask for a resource: its registered ones, plus the
 * default (gatehouse's userinfo endpoint), which every client may use.
 *
 * @example
 * resourceAllowed(client, "https://api.example.com", defaultResource);
 */
export function resourceAllowed(client: Pick<ClientView, "resources">, resource: string, defaultResource: string): boolean {
  return resource === defaultResource || client.resources.includes(resource);
}

/**
 * An RFC 8707 resource indicator: an absolute http(s) URI without a fragment.
 *
 * @example
 * isResourceUri("https://api.example.com"); // true
 */
export function isResourceUri(value: string): boolean {
  if (value.length > 512 || !PRINTABLE.test(value) || value.includes("#") || value.includes(" ")) return false;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/**
 * The redirect back to the client: `code` or `error`, then `state` and
 * always `iss` (RFC 9207). Query parameters already on the registered URI
 * are kept.
 *
 * @example
 * authorizationResponseUrl("https://app.example.com/cb", { code: "…" }, "xyz", "https://auth.example.com");
 */
export function authorizationResponseUrl(
  redirectUri: string,
  result: { code: string } | AuthorizationError,
  state: string | null,
  issuer: string,
): string {
  const url = new URL(redirectUri);
  if ("code" in result) {
    url.searchParams.set("code", result.code);
  } else {
    url.searchParams.set("error", result.error);
    url.searchParams.set("error_description", result.description);
  }
  if (state !== null) url.searchParams.set("state", state);
  url.searchParams.set("iss", issuer);
  return url.href;
}
