/**
 * The generic OpenID provider against fake tenants at
 * https://fakes.test/oidc/<tenant>. Each test uses its own tenant, so the
 * discovery and JWKS calls it counts are its own.
 */
import { describe, expect, it } from "vitest";
import { fakeCalls, setEndpointFaults, tenantIssuer } from "../fakes/control";
import { authorizeAt, expectFailure, newRequest, signIn, tenantProvider } from "./support";

let counter = 0;
/** A tenant nobody else uses (fresh discovery and JWKS caches on both sides). */
function freshTenant(): string {
  return `t${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

describe("oidc: sign-in", () => {
  it("maps id_token and UserInfo claims, with the issuer as configured", async () => {
    const tenant = freshTenant();
    const { result } = await signIn(tenantProvider(tenant), `oidc/${tenant}`, { user: { id: "u-7", email: "u7@acme.example", name: "User Seven" } });
    expect(result.profile).toEqual({
      provider: tenant,
      subject: "u-7",
      issuer: tenantIssuer(tenant),
      email: "u7@acme.example",
      emailVerified: true,
      name: "User Seven",
      image: null,
    });
    expect(result.tokens.refreshToken).toMatch(/^tenant-refresh-/);
    expect(result.tokens.scopes).toEqual(["openid", "email", "profile"]);
  });

  it("several instances live side by side under their own ids and issuers", async () => {
    const [a, b] = [freshTenant(), freshTenant()];
    const [ra, rb] = await Promise.all([signIn(tenantProvider(a), `oidc/${a}`), signIn(tenantProvider(b), `oidc/${b}`)]);
    expect([ra.result.profile.provider, ra.result.profile.issuer]).toEqual([a, tenantIssuer(a)]);
    expect([rb.result.profile.provider, rb.result.profile.issuer]).toEqual([b, tenantIssuer(b)]);
  });

  it("discovery is cached: a second sign-in makes no discovery call", async () => {
    const tenant = freshTenant();
    const provider = tenantProvider(tenant);
    await signIn(provider, `oidc/${tenant}`);
    await signIn(tenantProvider(tenant), `oidc/${tenant}`);
    expect(await fakeCalls({ provider: `oidc/${tenant}`, endpoint: "discovery" })).toHaveLength(1);
    expect(await fakeCalls({ provider: `oidc/${tenant}`, endpoint: "jwks" })).toHaveLength(1);
  });

  it("a failed discovery is ProviderUnavailable and is not cached", async () => {
    const tenant = freshTenant();
    const provider = tenantProvider(tenant, { timeoutMs: 300 });
    for (const fault of [{ status: 500 }, { html: true }, { hang: true }, { status: 200, body: { issuer: "https://evil.example" } }] as const) {
      await setEndpointFaults(`oidc/${tenant}`, { discovery: fault });
      await expectFailure(provider.authorizationUrl(newRequest(provider)), "ProviderUnavailable");
    }
    await setEndpointFaults(`oidc/${tenant}`, null);
    const url = await provider.authorizationUrl(newRequest(provider));
    expect(url.href.startsWith(`${tenantIssuer(tenant)}/authorize?`)).toBe(true);
  });

  it("a JWKS outage is ProviderUnavailable", async () => {
    const tenant = freshTenant();
    const provider = tenantProvider(tenant);
    await setEndpointFaults(`oidc/${tenant}`, { jwks: { status: 503 } });
    const flow = await authorizeAt(provider, `oidc/${tenant}`);
    await expectFailure(provider.completeSignIn(flow.input), "ProviderUnavailable");
  });
});

describe("oidc: keys", () => {
  it("an unknown kid costs exactly one JWKS refetch, then the sign-in is refused", async () => {
    const tenant = freshTenant();
    const provider = tenantProvider(tenant);
    await signIn(provider, `oidc/${tenant}`); // warms the JWKS cache
    const jwksCalls = async () => (await fakeCalls({ provider: `oidc/${tenant}`, endpoint: "jwks" })).length;
    expect(await jwksCalls()).toBe(1);

    const flow = await authorizeAt(provider, `oidc/${tenant}`, { idToken: { tamper: "unknown-kid" } });
    await expectFailure(provider.completeSignIn(flow.input), "OAuthCallback");
    expect(await jwksCalls()).toBe(2);

    // A known kid is served from the cache again.
    await signIn(provider, `oidc/${tenant}`);
    expect(await jwksCalls()).toBe(2);
  });

  it("a signature by another key under the published kid is refused", async () => {
    const tenant = freshTenant();
    const flow = await authorizeAt(tenantProvider(tenant), `oidc/${tenant}`, { idToken: { tamper: "bad-signature" } });
    await expectFailure(tenantProvider(tenant).completeSignIn(flow.input), "OAuthCallback");
  });
});

describe("oidc: callback and UserInfo checks", () => {
  it("UserInfo for another subject than the id_token → OAuthCallback", async () => {
    const tenant = freshTenant();
    const flow = await authorizeAt(tenantProvider(tenant), `oidc/${tenant}`, { userinfoSub: "someone-else" });
    await expectFailure(tenantProvider(tenant).completeSignIn(flow.input), "OAuthCallback");
  });

  it("a callback with another issuer's iss (RFC 9207 mix-up) → OAuthCallback, no token call", async () => {
    const tenant = freshTenant();
    const flow = await authorizeAt(tenantProvider(tenant), `oidc/${tenant}`, { callbackParams: { iss: "https://evil.example" } });
    await expectFailure(tenantProvider(tenant).completeSignIn(flow.input), "OAuthCallback");
    expect(await fakeCalls({ scenario: flow.scenarioId, endpoint: "token" })).toEqual([]);
  });

  it("a callback without iss from an issuer that promises it → OAuthCallback", async () => {
    const tenant = freshTenant();
    const flow = await authorizeAt(tenantProvider(tenant), `oidc/${tenant}`, { omitIss: true });
    await expectFailure(tenantProvider(tenant).completeSignIn(flow.input), "OAuthCallback");
  });

  it("UserInfo that hangs or fails → ProviderUnavailable; that rejects the token → OAuthCallback", async () => {
    const tenant = freshTenant();
    const provider = tenantProvider(tenant, { timeoutMs: 300 });
    for (const [fault, code] of [
      [{ hang: true }, "ProviderUnavailable"],
      [{ status: 500 }, "ProviderUnavailable"],
      [{ html: true }, "ProviderUnavailable"],
      [{ providerError: "invalid_token" }, "OAuthCallback"],
    ] as const) {
      const flow = await authorizeAt(provider, `oidc/${tenant}`, { profile: fault });
      await expectFailure(provider.completeSignIn(flow.input), code);
    }
  });

  it("an email without email_verified is unverified", async () => {
    const tenant = freshTenant();
    const { result } = await signIn(tenantProvider(tenant), `oidc/${tenant}`, { idToken: { claims: { email_verified: "true" } } });
    expect(result.profile.emailVerified).toBe(false);
  });
});
