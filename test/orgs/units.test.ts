/**
 * The pure and single-query pieces of the org feature: org claims for
 * `POST /auth/token`, AUTH_SERVICE_CLIENTS parsing (F5: malformed is a named
 * problem, absent is off), service-client authentication, local access-token
 * verification with skewed clocks (F7), and slugs.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configFor, parseConfig } from "../../src/config";
import { databaseFor } from "../../src/db/client";
import { orgClaimsFor } from "../../src/orgs/claims";
import { authenticateServiceClient, constantTimeEqual, parseBasic } from "../../src/orgs/service-clients";
import { isSlug, parseOrgRef, slugCandidates, slugFromName, slugProblem } from "../../src/orgs/slugs";
import { generateSigningJwk } from "../../src/tokens/keys";
import { verifyAccessTokenLocal } from "../../src/tokens/verify-local";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { craftJwt, testConfig } from "../helpers/sessions";
import { scopedEnv } from "../helpers/app";
import { accessTokenFor, addMembership, createOrgAs, createVerifiedUser, sha256Hex } from "../helpers/orgs";

describe("orgClaimsFor", () => {
  it("gives a member's org id, slug and role, by slug or id, in one read", async () => {
    const owner = await createVerifiedUser();
    const org = await createOrgAs(await accessTokenFor(owner.id), "Claims");
    const admin = await createVerifiedUser();
    await addMembership(org.id, admin.id, "admin");
    const result = configFor(scopedEnv("org-claims"));
    if (!result.ok) throw new Error("config");
    const db = await databaseFor(result.config);
    await resetStats("org-claims");
    expect(await orgClaimsFor(db, { userId: admin.id, org: org.slug })).toEqual({ org: { id: org.id, slug: org.slug }, roles: ["admin"] });
    expect((await stats("org-claims")).requests).toBe(1);
    expect(await orgClaimsFor(db, { userId: owner.id, org: org.id })).toEqual({ org: { id: org.id, slug: org.slug }, roles: ["owner"] });
  });

  it("is null for a non-member, an unknown org, a disabled member, and (without a query) a malformed reference", async () => {
    const owner = await createVerifiedUser();
    const org = await createOrgAs(await accessTokenFor(owner.id), "Claims");
    const outsider = await createVerifiedUser();
    const db = await databaseFor(testConfig());
    expect(await orgClaimsFor(db, { userId: outsider.id, org: org.slug })).toBeNull();
    expect(await orgClaimsFor(db, { userId: owner.id, org: "no-such-org-here" })).toBeNull();
    const result = configFor(scopedEnv("org-claims-bad"));
    if (!result.ok) throw new Error("config");
    await resetStats("org-claims-bad");
    for (const bad of [undefined, 42, "", "Not A Slug", "a".repeat(100)]) {
      expect(await orgClaimsFor(await databaseFor(result.config), { userId: owner.id, org: bad })).toBeNull();
    }
    expect((await stats("org-claims-bad")).requests).toBe(0);
    await rawSql("UPDATE users SET disabled_at = now() WHERE id = $1", [owner.id]);
    expect(await orgClaimsFor(db, { userId: owner.id, org: org.slug })).toBeNull();
  });
});

describe("AUTH_SERVICE_CLIENTS", () => {
  const base = () => ({ ...(env as unknown as Record<string, unknown>) });
  const hash = "a".repeat(64);
  const problems = (value: unknown) => {
    const r = parseConfig({ ...base(), AUTH_SERVICE_CLIENTS: value });
    return r.ok ? [] : r.problems;
  };

  it("is optional: absent means no service clients", () => {
    const e = base();
    delete e.AUTH_SERVICE_CLIENTS;
    const r = parseConfig(e);
    expect(r.ok && r.config.serviceClients).toEqual([]);
  });

  it("parses valid entries", () => {
    const r = parseConfig({ ...base(), AUTH_SERVICE_CLIENTS: JSON.stringify([{ id: "billing", secretHash: hash, orgs: ["acme", "0b5c2f6e-8a1d-4c1e-9f00-6d2b1f0e9a11"] }]) });
    expect(r.ok && r.config.serviceClients).toEqual([{ id: "billing", secretHash: hash, orgs: ["acme", "0b5c2f6e-8a1d-4c1e-9f00-6d2b1f0e9a11"] }]);
  });

  it.each([
    ["not JSON", "[{"],
    ["not an array", JSON.stringify({ id: "x", secretHash: hash, orgs: ["acme"] })],
    ["a plaintext secret instead of a hash", JSON.stringify([{ id: "x", secretHash: "hunter2hunter2hunter2", orgs: ["acme"] }])],
    ["an uppercase hash", JSON.stringify([{ id: "x", secretHash: "A".repeat(64), orgs: ["acme"] }])],
    ["no orgs", JSON.stringify([{ id: "x", secretHash: hash, orgs: [] }])],
    ["an unknown member", JSON.stringify([{ id: "x", secretHash: hash, orgs: ["acme"], secret: "s" }])],
    ["duplicate ids", JSON.stringify([{ id: "x", secretHash: hash, orgs: ["acme"] }, { id: "x", secretHash: hash, orgs: ["acme"] }])],
  ])("%s is a named problem without the value", (_label, value) => {
    const found = problems(value);
    expect(found).toContainEqual(expect.objectContaining({ variable: "AUTH_SERVICE_CLIENTS", problem: "invalid" }));
    expect(JSON.stringify(found)).not.toContain(hash);
    expect(JSON.stringify(found)).not.toContain("hunter2");
  });

  it("quoted or padded values are named like every other variable (F2)", () => {
    expect(problems(`'[]'`)).toContainEqual(expect.objectContaining({ variable: "AUTH_SERVICE_CLIENTS", problem: "quoted" }));
    expect(problems(" []")).toContainEqual(expect.objectContaining({ variable: "AUTH_SERVICE_CLIENTS", problem: "whitespace" }));
  });
});

describe("service-client authentication", () => {
  it("accepts the right id and secret only", async () => {
    const clients = [{ id: "billing", secretHash: await sha256Hex("right-secret"), orgs: ["acme"] }];
    const header = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;
    expect(await authenticateServiceClient(clients, header("billing", "right-secret"))).toEqual({ id: "billing", orgs: ["acme"] });
    expect(await authenticateServiceClient(clients, header("billing", "wrong-secret"))).toBeNull();
    expect(await authenticateServiceClient(clients, header("other", "right-secret"))).toBeNull();
    expect(await authenticateServiceClient([], header("billing", "right-secret"))).toBeNull();
    expect(await authenticateServiceClient(clients, undefined)).toBeNull();
    expect(await authenticateServiceClient(clients, `Bearer ${btoa("billing:right-secret")}`)).toBeNull();
  });

  it("parses Basic credentials strictly", () => {
    expect(parseBasic(`basic ${btoa("a:b:c")}`)).toEqual({ id: "a", secret: "b:c" });
    expect(parseBasic(`Basic ${btoa(":secret")}`)).toBeNull();
    expect(parseBasic(`Basic ${btoa("id:")}`)).toBeNull();
    expect(parseBasic("Basic not base64!")).toBeNull();
    expect(parseBasic(`Basic ${"A".repeat(1000)}`)).toBeNull();
  });

  it("compares digests byte by byte", () => {
    const a = new Uint8Array(32).fill(7);
    const b = a.slice();
    expect(constantTimeEqual(a, b)).toBe(true);
    b[31] = 8;
    expect(constantTimeEqual(a, b)).toBe(false);
    b[31] = 7;
    b[0] = 0;
    expect(constantTimeEqual(a, b)).toBe(false);
    expect(constantTimeEqual(a, a.slice(1))).toBe(false);
  });
});

describe("verifyAccessTokenLocal", () => {
  const config = () => testConfig();
  const at = (t: number, over: Record<string, unknown> = {}) =>
    craftJwt({ iss: "https://auth.example.com", aud: API, sub: "u1", iat: t, exp: t + 600, ...over }, { typ: "at+jwt" });
  const API = "https://auth.example.com/api";
  const t0 = 1_800_000_000;

  it("accepts a token from a clock up to 60 s ahead or behind, and refuses beyond (F7)", async () => {
    const now = new Date(t0 * 1000);
    expect((await verifyAccessTokenLocal(config(), await at(t0 + 55), API, now)).ok).toBe(true);
    expect(await verifyAccessTokenLocal(config(), await at(t0 + 120), API, now)).toEqual({ ok: false, error: "invalid_claims" });
    expect((await verifyAccessTokenLocal(config(), await at(t0 - 600 - 55), API, now)).ok).toBe(true);
    expect(await verifyAccessTokenLocal(config(), await at(t0 - 600 - 120), API, now)).toEqual({ ok: false, error: "expired" });
  });

  it("refuses a token older than the configured lifetime even with a far exp", async () => {
    const now = new Date(t0 * 1000);
    expect(await verifyAccessTokenLocal(config(), await at(t0 - 3600, { exp: t0 + 3600 }), API, now)).toEqual({ ok: false, error: "expired" });
  });

  it("refuses a token for any audience but the one named", async () => {
    const now = new Date(t0 * 1000);
    const token = await at(t0, { aud: "https://api.example.com" });
    expect(await verifyAccessTokenLocal(config(), token, API, now)).toEqual({ ok: false, error: "invalid_claims" });
    expect((await verifyAccessTokenLocal(config(), token, "https://api.example.com", now)).ok).toBe(true);
  });

  it("refuses an empty sub or sid", async () => {
    const now = new Date(t0 * 1000);
    expect(await verifyAccessTokenLocal(config(), await at(t0, { sub: "" }), API, now)).toEqual({ ok: false, error: "invalid_claims" });
    expect(await verifyAccessTokenLocal(config(), await at(t0, { sid: "" }), API, now)).toEqual({ ok: false, error: "invalid_claims" });
  });

  it("refuses a token signed by a key that is not ours", async () => {
    // A key we never configured, presenting our kid.
    const foreign = { ...(await generateSigningJwk()), kid: "test-key-1" };
    const token = await craftJwt({ iss: "https://auth.example.com", aud: API, sub: "u1", iat: t0, exp: t0 + 600 }, { typ: "at+jwt", kid: "test-key-1" }, foreign);
    expect((await verifyAccessTokenLocal(config(), token, API, new Date(t0 * 1000))).ok).toBe(false);
  });
});

describe("slugs", () => {
  it("accepts lowercase slugs and personal slugs, never UUID-shaped ones", () => {
    expect(isSlug("acme")).toBe(true);
    expect(isSlug("u-abcdefgh23456723")).toBe(true);
    expect(slugProblem("u-abcdefgh23456723")).toBe("reserved");
    expect(isSlug("0b5c2f6e-8a1d-4c1e-9f00-6d2b1f0e9a11")).toBe(false);
    expect(parseOrgRef("0B5C2F6E-8A1D-4C1E-9F00-6D2B1F0E9A11")).toEqual({ kind: "id", id: "0b5c2f6e-8a1d-4c1e-9f00-6d2b1f0e9a11" });
    expect(parseOrgRef("Acme")).toBeNull();
  });

  it("derives slugs from names", () => {
    expect(slugFromName("Ächme & Co. GmbH")).toBe("achme-co-gmbh");
    expect(slugFromName("U-Boot Fans")).toBe("org-u-boot-fans");
    expect(slugFromName("한국")).toBeNull();
    expect(slugFromName("x".repeat(80))!.length).toBeLessThanOrEqual(35);
    expect(slugCandidates({ name: "Acme", slug: "mine" })).toEqual(["mine"]);
    const [first, second, third] = slugCandidates({ name: "Acme" });
    expect(first).toBe("acme");
    expect([second, third].every((s) => /^acme-[a-z2-7]{4}$/.test(s!) && isSlug(s))).toBe(true);
  });
});
