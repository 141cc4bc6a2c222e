/**
 * Validation of an RFC 7591 dynamic client registration request
 * (`POST /oauth/register`, docs/oauth-server.md). Anyone may register when
 * the operator opens it, so only public clients are accepted (no secret to
 * hand out, PKCE protects their codes), with the same redirect-URI rules as
 * every other client (`redirect-uri.ts`). Unknown metadata is ignored, as
 * RFC 7591 §2 requires; what is stored is echoed back.
 */
import { registrationProblem, type ApplicationType } from "./redirect-uri";
import { IDENTITY_SCOPES, isValidScopeName } from "./scopes";

/** A registration accepted for storage. */
export interface DynamicRegistration {
  name: string;
  applicationType: ApplicationType;
  redirectUris: string[];
  scopes: string[];
}

/** RFC 7591 §3.2.2 error codes. */
export type DynamicRegistrationError = { error: "invalid_redirect_uri" | "invalid_client_metadata"; description: string };

export type DynamicRegistrationResult = { ok: true; value: DynamicRegistration } | ({ ok: false } & DynamicRegistrationError);

const NAME = /^[^\p{Cc}\p{Cf}]{1,100}$/u;
const GRANT_TYPES = ["authorization_code", "refresh_token"];
const MAX_REDIRECT_URIS = 10;
const MAX_SCOPES = 20;

const fail = (error: DynamicRegistrationError["error"], description: string): DynamicRegistrationResult => ({ ok: false, error, description });

/**
 * Checks an RFC 7591 registration request body (already parsed JSON).
 * Without `scope` the client may ask for the identity scopes
 * (`openid profile email offline_access`); an MCP client names its server's
 * scopes here. Without `client_name` the first redirect URI's host names it.
 *
 * @example
 * parseDynamicRegistration({ redirect_uris: ["http://localhost:8976/callback"], client_name: "Inspector" });
 * // { ok: true, value: { name: "Inspector", applicationType: "web", redirectUris: [...], scopes: ["openid", "profile", "email", "offline_access"] } }
 */
export function parseDynamicRegistration(input: unknown): DynamicRegistrationResult {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return fail("invalid_client_metadata", "the body must be a JSON object");
  const o = input as Record<string, unknown>;
  const applicationType = o.application_type ?? "web";
  if (applicationType !== "web" && applicationType !== "native") return fail("invalid_client_metadata", "application_type must be web or native");
  const method = o.token_endpoint_auth_method ?? "none";
  if (method !== "none") return fail("invalid_client_metadata", "only public clients may register: token_endpoint_auth_method must be none");
  if (o.jwks !== undefined || o.jwks_uri !== undefined) return fail("invalid_client_metadata", "public clients have no keys: drop jwks and jwks_uri");
  const grants = o.grant_types ?? ["authorization_code"];
  if (!Array.isArray(grants) || !grants.includes("authorization_code") || !grants.every((g) => GRANT_TYPES.includes(g as string))) {
    return fail("invalid_client_metadata", "grant_types may only list authorization_code and refresh_token, and must list authorization_code");
  }
  const responseTypes = o.response_types ?? ["code"];
  if (!Array.isArray(responseTypes) || responseTypes.length !== 1 || responseTypes[0] !== "code") return fail("invalid_client_metadata", "response_types must be [\"code\"]");

  const uris = o.redirect_uris;
  if (!Array.isArray(uris) || uris.length < 1 || uris.length > MAX_REDIRECT_URIS || !uris.every((u): u is string => typeof u === "string")) {
    return fail("invalid_redirect_uri", `redirect_uris must list 1 to ${MAX_REDIRECT_URIS} URLs`);
  }
  for (const uri of uris) {
    const problem = registrationProblem(uri, applicationType);
    if (problem) return fail("invalid_redirect_uri", `${uri}: ${problem}`);
  }
  const redirectUris = [...new Set(uris)];

  let scopes: string[] = [...IDENTITY_SCOPES];
  if (o.scope !== undefined) {
    if (typeof o.scope !== "string") return fail("invalid_client_metadata", "scope must be a space-separated string");
    scopes = [...new Set(o.scope.split(" ").filter((s) => s !== ""))];
    if (scopes.length < 1 || scopes.length > MAX_SCOPES || !scopes.every(isValidScopeName)) return fail("invalid_client_metadata", `scope must name 1 to ${MAX_SCOPES} valid scopes`);
  }

  let name = new URL(redirectUris[0]!).host;
  if (o.client_name !== undefined) {
    if (typeof o.client_name !== "string" || !NAME.test(o.client_name.trim())) return fail("invalid_client_metadata", "client_name must be 1 to 100 printable characters");
    name = o.client_name.trim();
  }
  return { ok: true, value: { name, applicationType, redirectUris, scopes } };
}
