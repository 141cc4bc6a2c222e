/**
 * Bearer access tokens on gatehouse's own API: only tokens minted for
 * `<AUTH_URL>/api` with the `gatehouse:orgs` scope, from a session that is
 * not signed out (denylist, fail closed), checked like any backend would
 * check them; every refusal before any database work.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, scopedEnv } from "../helpers/app";
import { resetStats, stats } from "../helpers/neon-local";
import { craftJwt, signInAs } from "../helpers/sessions";
import { wrapKv } from "../signin/helpers";
import { API_AUDIENCE, api, countRows, createVerifiedUser } from "../helpers/orgs";

describe("Bearer access tokens on /api/orgs", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (sub: string, over: Record<string, unknown> = {}) => ({
    iss: "https://auth.example.com",
    aud: API_AUDIENCE,
    scope: "gatehouse:orgs",
    sid: crypto.randomUUID(),
    sub,
    iat: now(),
    exp: now() + 600,
    ...over,
  });

  const mint = (cookie: string, body: unknown) =>
    call("/auth/token", {
      method: "POST",
      headers: { origin: "https://app.example.com", "content-type": "application/json", cookie },
      body: JSON.stringify(body),
    });

  it("accepts a token minted by POST /auth/token with resource <AUTH_URL>/api for the signed-in user", async () => {
    const ada = await createVerifiedUser("ada");
    const session = await signInAs(ada.id);
    const minted = await mint(session.cookieHeader, { resource: API_AUDIENCE });
    expect(minted.status).toBe(200);
    const { access_token, scope } = (await minted.json()) as { access_token: string; scope: string };
    expect(scope).toBe("gatehouse:orgs");
    const res = await api(access_token, "GET", "/api/orgs");
    expect(res.status).toBe(200);
  });

  it("refuses with 401 and writes nothing a token minted for any ALLOWED_AUDIENCES entry (the default one included)", async () => {
    const ada = await createVerifiedUser("ada");
    const session = await signInAs(ada.id);
    for (const body of [{}, { audience: "https://api.example.com" }, { audience: "https://other-api.example.com", scope: "openid profile email" }]) {
      const minted = await mint(session.cookieHeader, body);
      expect(minted.status).toBe(200);
      const { access_token } = (await minted.json()) as { access_token: string };
      const before = await countRows("organizations");
      await resetStats("orgs-aud");
      const res = await api(access_token, "POST", "/api/orgs", { name: "Replayed" }, { scope: "orgs-aud" });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
      expect((await stats("orgs-aud")).requests).toBe(0);
      expect(await countRows("organizations")).toBe(before);
    }
  });

  it("refuses a token whose session was signed out (deny:sid:), and fails closed when the denylist cannot be read", async () => {
    const ada = await createVerifiedUser("ada");
    const session = await signInAs(ada.id);
    const { access_token } = (await (await mint(session.cookieHeader, { resource: API_AUDIENCE })).json()) as { access_token: string };
    const before = await countRows("organizations");

    const { kv } = wrapKv(env.AUTH_KV, { failGet: true });
    const unreadable = await call("/api/orgs", { method: "POST", headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json" }, body: JSON.stringify({ name: "Nope" }) }, { env: { ...scopedEnv("orgs-deny"), AUTH_KV: kv } as Env });
    expect(unreadable.status).toBe(503);
    expect(await unreadable.json()).toMatchObject({ code: "StorageUnavailable" });

    const out = await call("/auth/signout?scope=all", { method: "POST", headers: { origin: "https://auth.example.com", cookie: session.cookieHeader, accept: "application/json" } });
    expect(out.status).toBe(200);
    await resetStats("orgs-deny");
    const res = await api(access_token, "POST", "/api/orgs", { name: "After sign-out" }, { scope: "orgs-deny" });
    expect(res.status).toBe(401);
    expect((await stats("orgs-deny")).requests).toBe(0);
    expect(await countRows("organizations")).toBe(before);
  });

  it("keeps a signed-out session on the denylist as long as an access token minted from it can live (not only its session JWT)", async () => {
    const ada = await createVerifiedUser("ada");
    const session = await signInAs(ada.id);
    const before = Math.floor(Date.now() / 1000);
    await call("/auth/signout", { method: "POST", headers: { origin: "https://auth.example.com", cookie: session.cookieHeader, accept: "application/json" } });
    const { keys } = await env.AUTH_KV.list({ prefix: `deny:sid:${session.sessionId}` });
    expect(keys).toHaveLength(1);
    // ACCESS_TOKEN_TTL_SECONDS (600) + 60 s of clock tolerance.
    expect(keys[0]!.expiration).toBeGreaterThanOrEqual(before + 600 + 60);
  });

  it("refuses an API-audience token without the gatehouse:orgs scope with 403 insufficient_scope", async () => {
    const id = (await createVerifiedUser()).id;
    const token = await craftJwt(claims(id, { scope: "openid profile" }), { typ: "at+jwt" });
    const before = await countRows("organizations");
    const res = await api(token, "POST", "/api/orgs", { name: "Nope" });
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="gatehouse:orgs"');
    expect(await countRows("organizations")).toBe(before);
  });

  it("accepts clocks 60 s apart either way", async () => {
    const id = (await createVerifiedUser()).id;
    for (const skew of [-50, 50]) {
      const token = await craftJwt(claims(id, { iat: now() + skew, exp: now() + skew + 600 }), { typ: "at+jwt" });
      expect((await api(token, "GET", "/api/orgs")).status).toBe(200);
    }
  });

  it.each([
    ["no Authorization header", null, undefined],
    ["an empty Bearer", "", undefined],
    ["garbage", "not-a-jwt", undefined],
    ["a session JWT (typ session+jwt, session audience)", "session", undefined],
    ["the wrong typ", "jwt", { typ: "JWT" }],
    ["an audience outside ALLOWED_AUDIENCES", { aud: "https://evil.example.com" }, undefined],
    ["an ALLOWED_AUDIENCES audience", { aud: "https://api.example.com" }, undefined],
    ["no sid", { sid: undefined }, undefined],
    ["another issuer", { iss: "https://evil.example.com" }, undefined],
    ["an expired token (beyond the 60 s tolerance)", { iat: now() - 1000, exp: now() - 120 }, undefined],
    ["an iat in the future beyond the tolerance", { iat: now() + 300, exp: now() + 900 }, undefined],
    ["no sub", { sub: undefined }, undefined],
    ["an unknown kid", "kid", { kid: "unknown-key" }],
  ])("refuses %s with 401 invalid_token, before any database work", async (_label, variant, header) => {
    const userId = (await createVerifiedUser()).id;
    let token: string | null;
    if (variant === null) token = null;
    else if (variant === "") token = "";
    else if (variant === "not-a-jwt") token = "not-a-jwt";
    else if (variant === "session") token = (await signInAs(userId)).sessionJwt;
    else if (typeof variant === "string") token = await craftJwt(claims(userId), header ?? {});
    else token = await craftJwt(claims(userId, variant), { typ: "at+jwt" });
    const before = await countRows("organizations");
    await resetStats("orgs-bearer");
    const res = await api(token, "POST", "/api/orgs", { name: "Nope" }, { scope: "orgs-bearer" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    expect(res.headers.getSetCookie()).toEqual([]);
    expect((await stats("orgs-bearer")).requests).toBe(0);
    expect(await countRows("organizations")).toBe(before);
  });

  it("answers CORS preflights from ALLOWED_ORIGINS only, without credentials", async () => {
    const preflight = (origin: string) =>
      call("/api/orgs", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization" } });
    const ok = await preflight("https://app.example.com");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(ok.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(ok.headers.get("access-control-allow-credentials")).toBeNull();
    const evil = await preflight("https://evil.example.com");
    expect(evil.status).toBe(403);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
  });
});
