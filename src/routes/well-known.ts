/**
 * Discovery for backends: the public signing keys and an OpenID-style
 * configuration naming the issuer, JWKS and token endpoint. Only public
 * key members are ever served (F6).
 */
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { SUPPORTED_SCOPES } from "../tokens/access-token";
import { publicJwks } from "../tokens/jwks";

/** Backends and proxies may cache discovery for five minutes (rotation waits for that; docs/sessions.md). */
const DISCOVERY_CACHE = "public, max-age=300";

export const wellKnown = new Hono<AppEnv>()
  .get("/jwks.json", async (c) => {
    const body = await publicJwks(c.var.config);
    return c.json(body, 200, { "Cache-Control": DISCOVERY_CACHE, "Content-Type": "application/jwk-set+json" });
  })
  .get("/openid-configuration", (c) => {
    const issuer = c.var.config.authUrl.origin;
    return c.json(
      {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        token_endpoint: `${issuer}/auth/token`,
        end_session_endpoint: `${issuer}/auth/signout`,
        token_endpoint_auth_methods_supported: ["none"],
        scopes_supported: SUPPORTED_SCOPES,
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["ES256"],
        access_token_signing_alg_values_supported: ["ES256"],
        claims_supported: ["iss", "sub", "aud", "exp", "iat", "jti", "sid", "scope", "client_id", "org", "roles"],
      },
      200,
      { "Cache-Control": DISCOVERY_CACHE },
    );
  });
