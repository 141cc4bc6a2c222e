/**
 * Organizations through `/api/orgs`: creation (slug rules, conflicts,
 * derived slugs), listing and reading, all behind a Bearer access token
 * checked like any backend would; each route is one database round trip.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, scopedEnv } from "../helpers/app";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { craftJwt, signInAs } from "../helpers/sessions";
import { wrapKv } from "../signin/helpers";
import { API_AUDIENCE, accessTokenFor, api, auditRows, countRows, createOrgAs, createPersonalOrg, createVerifiedUser, unique } from "../helpers/orgs";

describe("POST /api/orgs", () => {
  it("creates an organization with the caller as owner and its audit row, in one round trip", async () => {
    const ada = await createVerifiedUser("ada");
    const token = await accessTokenFor(ada.id);
    const slug = `acme-${unique()}`;
    await resetStats("orgs-create");
    const res = await api(token, "POST", "/api/orgs", { name: "Acme Inc.", slug }, { scope: "orgs-create" });
    expect(res.status).toBe(201);
    expect((await stats("orgs-create")).requests).toBe(1);
    const { org } = (await res.json()) as { org: { id: string; slug: string; role: string; personal: boolean; name: string } };
    expect(org).toMatchObject({ slug, name: "Acme Inc.", role: "owner", personal: false });
    expect(await countRows("memberships", "org_id = $1 AND user_id = $2 AND role = 'owner'", [org.id, ada.id])).toBe(1);
    expect(await auditRows(org.id)).toEqual([
      expect.objectContaining({ actor_type: "user", actor_id: ada.id, action: "org.create", target_type: "organization", target_id: org.id }),
    ]);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("derives the slug from the name, and picks a free variant when it is taken", async () => {
    const token = await accessTokenFor((await createVerifiedUser()).id);
    const name = `Zürich Ünïted ${unique()}`;
    const first = await api(token, "POST", "/api/orgs", { name });
    const second = await api(token, "POST", "/api/orgs", { name });
    expect([first.status, second.status]).toEqual([201, 201]);
    const a = ((await first.json()) as { org: { slug: string } }).org.slug;
    const b = ((await second.json()) as { org: { slug: string } }).org.slug;
    expect(a).toMatch(/^zurich-united-[a-z0-9]{8}$/);
    expect(b).toMatch(new RegExp(`^${a}-[a-z2-7]{4}$`));
  });

  it("gives a name without Latin letters a random slug", async () => {
    const token = await accessTokenFor((await createVerifiedUser()).id);
    const res = await api(token, "POST", "/api/orgs", { name: "한국 조직" });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { org: { slug: string } }).org.slug).toMatch(/^org-[a-z2-7]{4}$/);
  });

  it("answers a taken slug with 409 SlugTaken and writes nothing", async () => {
    const token = await accessTokenFor((await createVerifiedUser()).id);
    const slug = `taken-${unique()}`;
    await createOrgAs(token, "First", slug);
    const other = await accessTokenFor((await createVerifiedUser()).id);
    const before = await countRows("organizations");
    const res = await api(other, "POST", "/api/orgs", { name: "Second", slug });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: "SlugTaken", field: "slug" });
    expect(await countRows("organizations")).toBe(before);
  });

  it.each([
    ["uppercase", "Acme"],
    ["too short", "ab"],
    ["too long", "a".repeat(41)],
    ["leading hyphen", "-acme"],
    ["double hyphen", "ac--me"],
    ["reserved personal prefix", "u-acme"],
    ["uuid-shaped", "0b5c2f6e-8a1d-4c1e-9f00-6d2b1f0e9a11"],
    ["not a string", 42],
  ])("refuses a slug that is %s with 400 and writes nothing", async (_label, slug) => {
    const token = await accessTokenFor((await createVerifiedUser()).id);
    const before = await countRows("organizations");
    const res = await api(token, "POST", "/api/orgs", { name: "Acme", slug });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "InvalidRequest", field: "slug" });
    expect(await countRows("organizations")).toBe(before);
  });

  it.each([
    ["no name", {}],
    ["empty name", { name: "   " }],
    ["control characters", { name: "Acme\u0000" }],
    ["unknown member", { name: "Acme", owner: "someone" }],
  ])("refuses a body with %s with 400", async (_label, body) => {
    const token = await accessTokenFor((await createVerifiedUser()).id);
    const res = await api(token, "POST", "/api/orgs", body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "InvalidRequest" });
  });

  it("refuses a body that is not JSON (415 without the content type, 400 when malformed)", async () => {
    const token = await accessTokenFor((await createVerifiedUser()).id);
    const plain = await call("/api/orgs", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" }, body: "{}" });
    expect(plain.status).toBe(415);
    const broken = await call("/api/orgs", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{" });
    expect(broken.status).toBe(400);
  });

  it("refuses a disabled user with 403 and writes nothing", async () => {
    const disabled = await createVerifiedUser("gone", { disabled: true });
    const token = await accessTokenFor(disabled.id);
    const before = await countRows("organizations");
    const res = await api(token, "POST", "/api/orgs", { name: "Nope" });
    expect(res.status).toBe(403);
    expect(await countRows("organizations")).toBe(before);
  });
});

describe("GET /api/orgs and /api/orgs/:org", () => {
  it("lists the caller's organizations with their role, personal first, in one round trip", async () => {
    const ada = await createVerifiedUser("ada");
    const personal = await createPersonalOrg(ada.id);
    const token = await accessTokenFor(ada.id);
    const acme = await createOrgAs(token, "Acme");
    const bob = await createVerifiedUser("bob");
    const bobs = await createOrgAs(await accessTokenFor(bob.id), "Bob's");
    await resetStats("orgs-list");
    const res = await api(token, "GET", "/api/orgs", undefined, { scope: "orgs-list" });
    expect(res.status).toBe(200);
    expect((await stats("orgs-list")).requests).toBe(1);
    const { orgs } = (await res.json()) as { orgs: { id: string; slug: string; role: string; personal: boolean }[] };
    expect(orgs.map((o) => [o.slug, o.role, o.personal])).toEqual([
      [personal.slug, "owner", true],
      [acme.slug, "owner", false],
    ]);
    expect(orgs.map((o) => o.id)).not.toContain(bobs.id);
  });

  it("reads one organization by slug or by id, with the member count", async () => {
    const token = await accessTokenFor((await createVerifiedUser()).id);
    const acme = await createOrgAs(token, "Acme");
    for (const ref of [acme.slug, acme.id, acme.id.toUpperCase()]) {
      await resetStats("orgs-get");
      const res = await api(token, "GET", `/api/orgs/${ref}`, undefined, { scope: "orgs-get" });
      expect(res.status).toBe(200);
      expect((await stats("orgs-get")).requests).toBe(1);
      expect(await res.json()).toMatchObject({ org: { id: acme.id, slug: acme.slug, role: "owner", memberCount: 1 } });
    }
  });

  it("answers 404 alike for another tenant's org, an unknown org and a malformed reference", async () => {
    const acme = await createOrgAs(await accessTokenFor((await createVerifiedUser()).id), "Acme");
    const outsider = await accessTokenFor((await createVerifiedUser()).id);
    const bodies: unknown[] = [];
    for (const ref of [acme.slug, acme.id, `nope-${unique()}`, crypto.randomUUID(), "%20"]) {
      const res = await api(outsider, "GET", `/api/orgs/${ref}`);
      expect(res.status).toBe(404);
      bodies.push(await res.json());
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
  });

  it("treats a disabled member as a member of nothing", async () => {
    const ada = await createVerifiedUser("ada");
    const token = await accessTokenFor(ada.id);
    const acme = await createOrgAs(token, "Acme");
    await rawSql("UPDATE users SET disabled_at = now() WHERE id = $1", [ada.id]);
    expect((await api(token, "GET", `/api/orgs/${acme.slug}`)).status).toBe(404);
    expect(await (await api(token, "GET", "/api/orgs")).json()).toEqual({ orgs: [] });
  });
});

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

describe("methods an /api/orgs route does not take", () => {
  it("answer 405 MethodNotAllowed with Allow, before any database work, and a route that does not exist stays 404", async () => {
    const ada = await createVerifiedUser("ada");
    const token = await accessTokenFor(ada.id);
    const userId = crypto.randomUUID();
    const cases: [string, string, string][] = [
      ["PUT", "/api/orgs", "GET, POST"],
      ["DELETE", "/api/orgs/acme", "GET"],
      ["PUT", "/api/orgs/acme/members", "GET"],
      ["PUT", "/api/orgs/acme/invitations", "GET, POST"],
      ["POST", `/api/orgs/acme/invitations/${userId}`, "DELETE"],
      ["DELETE", "/api/invitations", "GET"],
      ["GET", `/api/invitations/${userId}/accept`, "POST"],
      ["GET", `/api/orgs/acme/members/${userId}`, "PATCH, DELETE"],
      ["GET", "/api/orgs/acme/leave", "POST"],
      ["POST", "/api/orgs/acme/pages", "GET"],
      ["GET", "/api/orgs/acme/providers/facebook/disconnect", "POST"],
      ["GET", `/api/orgs/acme/pages/${userId}/token`, "POST"],
      ["GET", `/api/orgs/acme/members/${userId}/provider-tokens/facebook`, "POST"],
    ];
    for (const [method, path, allow] of cases) {
      await resetStats("orgs-405");
      const res = await api(token, method, path, undefined, { scope: "orgs-405" });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow"), `${method} ${path}`).toBe(allow);
      expect(await res.json()).toMatchObject({ code: "MethodNotAllowed" });
      expect((await stats("orgs-405")).requests, `${method} ${path}`).toBe(0);
    }
    const unknown = await api(token, "GET", "/api/orgs/acme/nothing-here");
    expect(unknown.status).toBe(404);
  });
});
