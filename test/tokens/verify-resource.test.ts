/**
 * The resource-server kit of gatehouse/verify (RFC 9728, RFC 6750, RFC
 * 8707): the metadata document, the 401 and 403 challenges, and the audience
 * and scope checks. Tokens are crafted with the test keys, and one is minted
 * by the real OAuth flow for another resource; the JWKS comes from the worker.
 */
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { protectedResource, protectedResourceMetadataUrl, type ResourceRefusal } from "../../src/verify";
import { callWorker, craftJwt, createTestUser, signInAs } from "../helpers/sessions";
import { appFetch, authorizationUrl, authorizeInBrowser, clientAuth, createClient, discover } from "../oauth/helpers";

const ISSUER = "https://auth.example.com";
const MCP = "https://other-api.example.com/mcp";
const jwksFetch = (url: string, init: { headers: Headers }) => callWorker(new URL(url).pathname, { headers: init.headers });
const kit = protectedResource({
  resource: MCP,
  issuer: ISSUER,
  scopesSupported: ["notes:read", "notes:write"],
  requiredScopes: ["notes:read"],
  resourceName: "Notes MCP",
  fetch: jwksFetch,
});
const AT = { typ: "at+jwt" };

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, aud: MCP, sub: crypto.randomUUID(), client_id: crypto.randomUUID(), scope: "notes:read", jti: crypto.randomUUID(), iat: now, exp: now + 600, ...extra };
}

function refused(result: Awaited<ReturnType<typeof kit.authenticate>>): ResourceRefusal {
  expect(result.ok).toBe(false);
  return result as ResourceRefusal;
}

describe("protected-resource metadata (RFC 9728)", () => {
  it("lives at the well-known prefix inserted before the resource's path and names gatehouse as the authorization server", async () => {
    expect(kit.metadataUrl).toBe("https://other-api.example.com/.well-known/oauth-protected-resource/mcp");
    expect(kit.metadataPath).toBe("/.well-known/oauth-protected-resource/mcp");
    expect(protectedResourceMetadataUrl("https://api.example.com")).toBe("https://api.example.com/.well-known/oauth-protected-resource");
    expect(protectedResourceMetadataUrl("https://api.example.com/")).toBe("https://api.example.com/.well-known/oauth-protected-resource");
    const res = kit.metadataResponse();
    expect(res.headers.get("content-type")).toBe("application/json");
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc).toEqual({
      resource: MCP,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ["header"],
      resource_signing_alg_values_supported: ["ES256"],
      scopes_supported: ["notes:read", "notes:write"],
      resource_name: "Notes MCP",
    });
    // oauth4webapi, a strict client, accepts it for this resource.
    const fetched = await oauth.processResourceDiscoveryResponse(new URL(MCP), new Response(JSON.stringify(doc), { headers: { "content-type": "application/json" } }));
    expect(fetched.authorization_servers).toEqual([ISSUER]);
  });

  it("refuses a misconfiguration at once: a resource with a fragment, a relative one, an issuer with a path, a bad scope", () => {
    expect(() => protectedResource({ resource: "https://mcp.example.com/mcp#x", issuer: ISSUER })).toThrow(/fragment/);
    expect(() => protectedResource({ resource: "/mcp", issuer: ISSUER })).toThrow(/absolute/);
    expect(() => protectedResource({ resource: "ftp://mcp.example.com", issuer: ISSUER })).toThrow(/http/);
    expect(() => protectedResource({ resource: MCP, issuer: `${ISSUER}/oauth` })).toThrow(/origin/);
    expect(() => protectedResource({ resource: MCP, issuer: ISSUER, scopesSupported: ['a"b'] })).toThrow(/scope/);
  });
});

describe("authenticate", () => {
  it("answers a request without a token 401 with only resource_metadata (how MCP clients discover gatehouse)", async () => {
    for (const header of [null, undefined, ""]) {
      const r = refused(await kit.authenticate(header));
      expect(r.status).toBe(401);
      expect(r.headers["WWW-Authenticate"]).toBe(`Bearer resource_metadata="${kit.metadataUrl}"`);
      const res = r.response();
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${kit.metadataUrl}"`);
    }
    const basic = refused(await kit.authenticate("Basic dXNlcjpwYXNz"));
    expect(basic.status).toBe(401);
    expect(basic.headers["WWW-Authenticate"]).toContain('error="invalid_request"');
  });

  it("names challengeScopes in its 401s when configured (what an MCP client asks for first), never in a 403's place", async () => {
    const mcp = protectedResource({ resource: MCP, issuer: ISSUER, fetch: jwksFetch, scopesSupported: ["notes:read", "notes:write"], challengeScopes: ["notes:read", "offline_access"] });
    const none = refused(await mcp.authenticate(null));
    expect(none.headers["WWW-Authenticate"]).toBe(`Bearer scope="notes:read offline_access", resource_metadata="${mcp.metadataUrl}"`);
    const foreign = refused(await mcp.authenticate(`Bearer ${await craftJwt(claims({ aud: "https://api.example.com" }), AT)}`));
    expect(foreign.status).toBe(401);
    expect(foreign.headers["WWW-Authenticate"]).toMatch(/^Bearer error="invalid_token", error_description="[^"]+", scope="notes:read offline_access", resource_metadata="/);
    const step = refused(await mcp.authenticate(`Bearer ${await craftJwt(claims({ scope: "notes:read offline_access" }), AT)}`, ["notes:write"]));
    expect(step.headers["WWW-Authenticate"]).toContain('scope="notes:read offline_access notes:write"');
    expect(() => protectedResource({ resource: MCP, issuer: ISSUER, challengeScopes: ["a b"] })).toThrow(/scope/);
  });

  it("accepts a token for this resource with the required scopes and returns its claims and scopes", async () => {
    const token = await craftJwt(claims({ scope: "openid notes:read notes:write" }), AT);
    const r = await kit.authenticate(`Bearer ${token}`, ["notes:write"]);
    expect(r).toMatchObject({ ok: true, scopes: ["openid", "notes:read", "notes:write"] });
    expect(await kit.authenticate(`bearer ${token}`)).toMatchObject({ ok: true });
  });

  it("refuses a token issued for another resource (RFC 8707 audience), another issuer, and a forged one: 401 invalid_token", async () => {
    for (const bad of [claims({ aud: "https://api.example.com" }), claims({ aud: "https://other-api.example.com" }), claims({ iss: "https://evil.example" })]) {
      const r = refused(await kit.authenticate(`Bearer ${await craftJwt(bad, AT)}`));
      expect(r.status).toBe(401);
      expect(r.error).toBe("invalid_token");
      expect(r.headers["WWW-Authenticate"]).toMatch(/^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="https:\/\/other-api\.example\.com\/\.well-known\/oauth-protected-resource\/mcp"$/);
      expect(r.body.error).toBe("invalid_token");
    }
    const session = refused(await kit.authenticate(`Bearer ${await craftJwt(claims(), { typ: "session+jwt" })}`));
    expect(session.status).toBe(401);
  });

  it("refuses a real gatehouse access token minted for another resource", async () => {
    const as = await discover();
    const browser = await signInAs(await createTestUser({ email: `rs-${crypto.randomUUID()}@example.com` }));
    const app = await createClient({ type: "public", redirectUris: ["https://spa.example.org/rs"], resources: ["https://api.example.com", MCP] });
    const { url, verifier, state } = await authorizationUrl(as, app, { scope: "notes:read", resource: "https://api.example.com" });
    const params = oauth.validateAuthResponse(as, { client_id: app.clientId }, await authorizeInBrowser(browser.cookieHeader, url), state);
    const res = await oauth.authorizationCodeGrantRequest(as, { client_id: app.clientId }, clientAuth(app), params, app.redirectUri, verifier, { [oauth.customFetch]: appFetch });
    const tokens = await oauth.processAuthorizationCodeResponse(as, { client_id: app.clientId }, res);
    // The same token is good at the API it was issued for, and refused here.
    const api = protectedResource({ resource: "https://api.example.com", issuer: ISSUER, fetch: jwksFetch });
    expect(await api.authenticate(`Bearer ${tokens.access_token}`, ["notes:read"])).toMatchObject({ ok: true });
    const r = refused(await kit.authenticate(`Bearer ${tokens.access_token}`));
    expect(r).toMatchObject({ status: 401, error: "invalid_token", reason: "invalid_claims" });
  });

  it("answers a missing scope 403 insufficient_scope, asking for the held scopes plus the missing ones (step-up)", async () => {
    const token = await craftJwt(claims({ scope: "openid notes:read" }), AT);
    const r = refused(await kit.authenticate(`Bearer ${token}`, ["notes:write"]));
    expect(r.status).toBe(403);
    expect(r.error).toBe("insufficient_scope");
    expect(r.headers["WWW-Authenticate"]).toBe(
      `Bearer error="insufficient_scope", error_description="This call needs the scope notes:write.", scope="openid notes:read notes:write", resource_metadata="${kit.metadataUrl}"`,
    );
    // The resource-wide scope is required on every call.
    const none = refused(await kit.authenticate(`Bearer ${await craftJwt(claims({ scope: "openid" }), AT)}`));
    expect(none.status).toBe(403);
    expect(none.headers["WWW-Authenticate"]).toContain('scope="openid notes:read"');
    const noScope = refused(await kit.authenticate(`Bearer ${await craftJwt(claims({ scope: undefined }), AT)}`));
    expect(noScope.status).toBe(403);
  });

  it("answers 503 without a challenge when the JWKS cannot be loaded: not the caller's fault", async () => {
    const down = protectedResource({ resource: MCP, issuer: ISSUER, fetch: async () => new Response("down", { status: 503 }) });
    const r = refused(await down.authenticate(`Bearer ${await craftJwt(claims(), AT)}`));
    expect(r.status).toBe(503);
    expect(r.headers["WWW-Authenticate"]).toBeUndefined();
    expect(r.body.error).toBe("temporarily_unavailable");
  });
});
