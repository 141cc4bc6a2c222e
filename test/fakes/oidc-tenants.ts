/**
 * Generic OpenID issuers at `https://fakes.test/oidc/<tenant>`, created on
 * first use, ES256, with RFC 9207 `iss` on the callback. A test file that
 * picks its own tenant name sees only its own discovery and JWKS traffic,
 * and may fault those endpoints without disturbing anyone else.
 */
import { TENANT_CLIENT } from "./clients.ts";
import { json } from "./flow.ts";
import { OidcFake } from "./oidc-fake.ts";

const tenants = new Map<string, OidcFake>();

/** The issuer URL of a tenant. @example tenantIssuer("mine") // "https://fakes.test/oidc/mine" */
export function tenantIssuer(tenant: string): string {
  return `https://fakes.test/oidc/${tenant}`;
}

/** @example tenantFake("mine").metadata() */
export function tenantFake(tenant: string): OidcFake {
  let fake = tenants.get(tenant);
  if (!fake) {
    const issuer = tenantIssuer(tenant);
    fake = new OidcFake({
      provider: `oidc/${tenant}`,
      issuer,
      endpoints: {
        discovery: `${issuer}/.well-known/openid-configuration`,
        authorization: `${issuer}/authorize`,
        token: `${issuer}/token`,
        userinfo: `${issuer}/userinfo`,
        jwks: `${issuer}/jwks`,
      },
      client: TENANT_CLIENT,
      auth: ["basic", "post"],
      alg: "ES256",
      issInCallback: true,
      defaultUser: {
        id: `${tenant}-user-1`,
        email: `user1@${tenant}.example`,
        emailVerified: true,
        name: "Tenant User",
        picture: null,
        login: "tenant-user",
      },
      tokenError: (failure) => json({ error: String(failure), error_description: "rejected by the fake" }, failure === "invalid_client" ? 401 : 400),
      tokenExtras: () => ({ refresh_token: `tenant-refresh-${Date.now()}` }),
      accessTokenPrefix: "tenant-",
    });
    tenants.set(tenant, fake);
  }
  return fake;
}

/** Routes `https://fakes.test/oidc/<tenant>/…`. */
export async function handleTenant(request: Request, url: URL): Promise<Response | undefined> {
  const match = /^\/oidc\/([a-z0-9-]{1,40})\//.exec(url.pathname);
  return match?.[1] === undefined ? undefined : tenantFake(match[1]).handle(request, url);
}
