/**
 * Discovery: the public signing keys, OpenID Provider metadata and OAuth
 * authorization server metadata (RFC 8414). Both metadata documents list
 * exactly what `src/routes/oauth-*.ts` implement (docs/oauth-server.md).
 * Only public key members are ever served (F6).
 */
import { Hono } from "hono/tiny";
import type { Config } from "../config";
import type { AppEnv } from "../context";
import { IDENTITY_SCOPES } from "../oauth/scopes";
import { publicJwks } from "../tokens/jwks";

/** Backends and proxies may cache discovery for five minutes (rotation waits for that; docs/sessions.md). */
const DISCOVERY_CACHE = "public, max-age=300";
const CLIENT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"];

/**
 * RFC 8414 metadata, shared by both documents.
 *
 * @example
 * authorizationServerMetadata(config).token_endpoint; // "https://auth.example.com/oauth/token"
 */
export function authorizationServerMetadata(config: Pick<Config, "authUrl" | "dynamicRegistration">): Record<string, unknown> {
  const issuer = config.authUrl.origin;
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    userinfo_endpoint: `${issuer}/oauth/userinfo`,
    ...(config.dynamicRegistration === "open" ? { registration_endpoint: `${issuer}/oauth/register` } : {}),
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    scopes_supported: IDENTITY_SCOPES,
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: ["none", "login", "consent"],
    client_id_metadata_document_supported: true,
  };
}

export const wellKnown = new Hono<AppEnv>()
  .get("/jwks.json", async (c) => {
    const body = await publicJwks(c.var.config);
    return c.json(body, 200, { "Cache-Control": DISCOVERY_CACHE, "Content-Type": "application/jwk-set+json" });
  })
  .get("/oauth-authorization-server", (c) => {
    return c.json(authorizationServerMetadata(c.var.config), 200, { "Cache-Control": DISCOVERY_CACHE });
  })
  .get("/openid-configuration", (c) => {
    return c.json(
      {
        ...authorizationServerMetadata(c.var.config),
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["ES256"],
        access_token_signing_alg_values_supported: ["ES256"],
        claims_supported: ["iss", "sub", "aud", "exp", "iat", "auth_time", "amr", "nonce", "jti", "sid", "scope", "client_id", "org", "roles", "name", "picture", "email", "email_verified"],
        claims_parameter_supported: false,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
      },
      200,
      { "Cache-Control": DISCOVERY_CACHE },
    );
  });
