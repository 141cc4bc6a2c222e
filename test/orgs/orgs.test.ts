/**
 * Organizations through `/api/orgs`: creation (slug rules, conflicts,
 * derived slugs), listing and reading, all behind a Bearer access token
 * checked like any backend would; each route is one database round trip.
 */
import { describe, expect, it } from "vitest";
import { call } from "../helpers/app";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { accessTokenFor, api, auditRows, countRows, createOrgAs, createPersonalOrg, createVerifiedUser, unique } from "../helpers/orgs";

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
