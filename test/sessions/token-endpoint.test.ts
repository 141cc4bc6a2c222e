/**
 * POST /auth/token: access tokens for SPAs, CORS and CSRF. A refused request
 * gets no token, no CORS header for a foreign origin, no cookie, and never
 * reaches the database.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { verifyAccessToken } from "../../src/verify";
import { rawSql } from "../helpers/neon-local";
import { callWorker, cookieHeader, createTestUser, resetRoundTrips, roundTrips, setCookies, signInAs, type TestSession } from "../helpers/sessions";

const APP = "https://app.example.com";
const jwksFetch = (url: string, init: { headers: Headers }) => callWorker(new URL(url).pathname, { headers: init.headers });
const verifyOptions = { issuer: "https://auth.example.com", audience: "https://api.example.com", jwksUrl: "https://auth.example.com/.well-known/jwks.json", fetch: jwksFetch };

function tokenRequest(cookie: string, init: { origin?: string | null; body?: string; contentType?: string | null; method?: string } = {}): Promise<Response> {
  const headers = new Headers({ cookie });
  if (init.origin !== null) headers.set("origin", init.origin ?? APP);
  if (init.contentType !== null) headers.set("content-type", init.contentType ?? "application/json");
  return callWorker("/auth/token", { method: init.method ?? "POST", headers, body: init.body ?? "{}" });
}

function expectNoCors(res: Response): void {
  for (const name of ["access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods"]) {
    expect(res.headers.get(name)).toBeNull();
  }
}

let s: TestSession;
let userId: string;

beforeEach(async () => {
  userId = await createTestUser();
  s = await signInAs(userId);
  await resetRoundTrips();
});

describe("minting", () => {
  it("mints an at+jwt for the default audience from a valid session JWT with zero round trips", async () => {
    const res = await tokenRequest(cookieHeader({ session: s.sessionJwt }));
    expect(res.status).toBe(200);
    expect(await roundTrips()).toBe(0);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("vary")).toContain("Origin");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.getSetCookie()).toEqual([]);
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number; scope: string };
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 600, scope: "openid profile" });

    const verified = await verifyAccessToken(body.access_token, verifyOptions);
    expect(verified).toMatchObject({ ok: true, claims: { sub: userId, sid: s.sessionId, aud: "https://api.example.com", client_id: APP, scope: "openid profile", iss: "https://auth.example.com" } });
    if (!verified.ok) return;
    expect(verified.claims.exp - verified.claims.iat).toBe(600);
    expect(typeof verified.claims.jti).toBe("string");
    const header = JSON.parse(atob(body.access_token.split(".")[0]!.replaceAll("-", "+").replaceAll("_", "/")));
    expect(header).toMatchObject({ alg: "ES256", typ: "at+jwt", kid: "test-key-1" });
  });

  it("mints for another allowed audience and a supported scope subset; refuses others with 400", async () => {
    const other = await tokenRequest(cookieHeader({ session: s.sessionJwt }), { body: JSON.stringify({ audience: "https://other-api.example.com", scope: "openid email" }) });
    expect(other.status).toBe(200);
    const { access_token } = (await other.json()) as { access_token: string };
    expect(await verifyAccessToken(access_token, { ...verifyOptions, audience: "https://other-api.example.com" })).toMatchObject({ ok: true, claims: { scope: "openid email" } });
    expect(await verifyAccessToken(access_token, verifyOptions)).toEqual({ ok: false, error: "invalid_claims" });

    for (const body of [{ audience: "https://evil.example" }, { audience: "https://auth.example.com/session" }, { audience: 7 }, { scope: "admin" }, [], "x"]) {
      const res = await tokenRequest(cookieHeader({ session: s.sessionJwt }), { body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "InvalidRequest" });
    }
    const broken = await tokenRequest(cookieHeader({ session: s.sessionJwt }), { body: "{not json" });
    expect(broken.status).toBe(400);
  });

  it("mints for gatehouse's own API only when asked by name (resource or audience <AUTH_URL>/api), with scope gatehouse:orgs", async () => {
    const api = "https://auth.example.com/api";
    for (const body of [{ resource: api }, { audience: api }, { resource: api, audience: api, scope: "gatehouse:orgs" }]) {
      const res = await tokenRequest(cookieHeader({ session: s.sessionJwt }), { body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      const minted = (await res.json()) as { access_token: string; scope: string };
      expect(minted.scope).toBe("gatehouse:orgs");
      expect(await verifyAccessToken(minted.access_token, { ...verifyOptions, audience: api })).toMatchObject({ ok: true, claims: { aud: api, scope: "gatehouse:orgs", sid: s.sessionId } });
    }
    for (const body of [
      { scope: "gatehouse:orgs" },
      { audience: "https://other-api.example.com", scope: "openid gatehouse:orgs" },
      { resource: api, scope: "openid profile" },
      { resource: api, audience: "https://api.example.com" },
      { resource: "https://evil.example" },
      { resource: 7 },
    ]) {
      const res = await tokenRequest(cookieHeader({ session: s.sessionJwt }), { body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json()).toMatchObject({ code: "InvalidRequest" });
    }
  });

  it("uses the refresh token (one round trip) when the session JWT is missing, and sets the new cookies", async () => {
    const res = await tokenRequest(cookieHeader({ refresh: s.refreshToken }));
    expect(res.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    const cookies = setCookies(res);
    expect(cookies.get("__Host-gh_refresh")?.value).not.toBe(s.refreshToken);
    expect(cookies.has("__Host-gh_session")).toBe(true);
  });

  it("is 401 without a session, with CORS headers so the SPA can read it", async () => {
    const res = await tokenRequest("");
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("accepts AUTH_URL's own origin without CORS headers", async () => {
    const res = await tokenRequest(cookieHeader({ session: s.sessionJwt }), { origin: "https://auth.example.com" });
    expect(res.status).toBe(200);
    expectNoCors(res);
  });

  it("does not accept a session JWT or refresh token as the bearer of an access token", async () => {
    expect(await verifyAccessToken(s.sessionJwt, verifyOptions)).toEqual({ ok: false, error: "invalid_claims" });
    expect(await verifyAccessToken(s.refreshToken, verifyOptions)).toEqual({ ok: false, error: "malformed" });
  });

  it("does not accept an access token as the session cookie", async () => {
    const { access_token } = (await (await tokenRequest(cookieHeader({ session: s.sessionJwt }))).json()) as { access_token: string };
    const res = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ session: access_token }) } });
    expect(res.status).toBe(401);
    const asRefresh = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ refresh: access_token }) } });
    expect(asRefresh.status).toBe(401);
  });
});

describe("CORS and CSRF", () => {
  const foreign = ["https://evil.example", "https://app.example.com.evil.example", "null", "http://app.example.com", "https://APP.example.com", "https://app.example.com:443/"];

  it.each(foreign)("refuses origin %s: 403, no token, no CORS headers, no cookie, no database", async (origin) => {
    const res = await tokenRequest(s.cookieHeader, { origin });
    expect(res.status).toBe(403);
    expect(JSON.stringify(await res.json())).not.toContain("access_token");
    expectNoCors(res);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await roundTrips()).toBe(0);

    const preflight = await callWorker("/auth/token", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
    expect(preflight.status).toBe(403);
    expectNoCors(preflight);
  });

  it("refuses a request without Origin", async () => {
    const res = await tokenRequest(s.cookieHeader, { origin: null });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("refuses text/plain, form and missing content types with 415 (no preflight-free token)", async () => {
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", null]) {
      const res = await tokenRequest(s.cookieHeader, { contentType, body: "audience=https://api.example.com" });
      expect(res.status).toBe(415);
      expect(JSON.stringify(await res.json())).not.toContain("access_token");
      expect(res.headers.getSetCookie()).toEqual([]);
    }
    const evilPlain = await tokenRequest(s.cookieHeader, { origin: "https://evil.example", contentType: "text/plain" });
    expect(evilPlain.status).toBe(403);
    expectNoCors(evilPlain);
    expect(await roundTrips()).toBe(0);
  });

  it("answers an allowed preflight with 204 and the exact origin", async () => {
    const res = await callWorker("/auth/token", { method: "OPTIONS", headers: { origin: APP, "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-allow-methods")).toBe("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe("content-type");
    expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("is POST only: GET is 405", async () => {
    const res = await callWorker("/auth/token", { headers: { cookie: s.cookieHeader, origin: APP } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.getSetCookie()).toEqual([]);
  });
});

describe("organization claims", () => {
  async function orgWith(role: "owner" | "admin" | "member" | null): Promise<{ id: string; slug: string }> {
    const slug = `tok-${crypto.randomUUID().slice(0, 8)}`;
    const [org] = await rawSql<{ id: string }>(`INSERT INTO organizations (slug, name) VALUES ($1, 'Token Org') RETURNING id`, [slug]);
    if (role) await rawSql(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)`, [org!.id, userId, role]);
    return { id: org!.id, slug };
  }

  it.each(["owner", "admin", "member"] as const)("carries org and roles for a %s, by slug or by id, in one read round trip", async (role) => {
    const org = await orgWith(role);
    for (const ref of [org.slug, org.id]) {
      await resetRoundTrips();
      const res = await tokenRequest(cookieHeader({ session: s.sessionJwt }), { body: JSON.stringify({ org: ref }) });
      expect(res.status).toBe(200);
      expect(await roundTrips()).toBe(1);
      const { access_token } = (await res.json()) as { access_token: string };
      const verified = await verifyAccessToken(access_token, verifyOptions);
      expect(verified).toMatchObject({ ok: true, claims: { sub: userId, org: org.id, roles: [role] } });
    }
  });

  it("is 403 with no token for an organization the user is not a member of, or that does not exist", async () => {
    const other = await orgWith(null);
    for (const ref of [other.slug, other.id, "no-such-org", crypto.randomUUID(), 42]) {
      const res = await tokenRequest(cookieHeader({ session: s.sessionJwt }), { body: JSON.stringify({ org: ref }) });
      expect(res.status).toBe(403);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body.code).toBe("Forbidden");
      expect(body).not.toHaveProperty("access_token");
    }
  });

  it("has no org claims without `org`", async () => {
    await orgWith("owner");
    const res = await tokenRequest(cookieHeader({ session: s.sessionJwt }));
    const { access_token } = (await res.json()) as { access_token: string };
    const verified = await verifyAccessToken(access_token, verifyOptions);
    expect(verified.ok && verified.claims.org).toBeUndefined();
    expect(verified.ok && verified.claims.roles).toBeUndefined();
  });
});
