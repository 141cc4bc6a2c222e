/**
 * Pages and provider tokens: the connect flow's batch builders (F12: the
 * stored token_type of both variants read back; F13: insert after soft
 * delete, gone pages kept), the members' status list (never a token), and
 * the service clients' reads: decrypted only for a client allowed for the
 * org, audited in the same statement, and the same 404 for every other case.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { databaseFor, type Database } from "../../src/db/client";
import { isOrgRoleRefusal, orgRoleGuardStatement } from "../../src/db/orgs";
import { syncPagesStatements } from "../../src/db/pages";
import { disconnectProviderStatement } from "../../src/db/provider-tokens";
import { call, scopedEnv } from "../helpers/app";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { testConfig } from "../helpers/sessions";
import { connect, connectedOrg, pageIdOf } from "./pages-helpers";
import {
  accessTokenFor,
  addMembership,
  api,
  auditRows,
  basic,
  countRows,
  createOrgAs,
  createVerifiedUser,
  serviceEnv,
  unique,
} from "../helpers/orgs";

let database: Database;
beforeAll(async () => {
  database = await databaseFor(testConfig());
});
const db = () => database;

describe("connect-flow batch builders", () => {
  it("stores N pages and their tokens with the right token_type, read back from the database (F12)", async () => {
    const { org, owner, pages } = await connectedOrg(5);
    const rows = await rawSql<{ token_type: string; page_id: string | null; external_page_id: string | null; deleted_at: string | null }>(
      `SELECT t.token_type, t.page_id, p.external_page_id, t.deleted_at FROM provider_tokens t
       LEFT JOIN provider_pages p ON p.id = t.page_id WHERE t.org_id = $1 AND t.user_id = $2`,
      [org.id, owner.id],
    );
    expect(rows.filter((r) => r.token_type === "user")).toEqual([{ token_type: "user", page_id: null, external_page_id: null, deleted_at: null }]);
    const pageRows = rows.filter((r) => r.token_type === "page");
    expect(pageRows.map((r) => r.external_page_id).sort()).toEqual(pages.map((p) => p.externalId).sort());
    expect(pageRows.every((r) => r.page_id !== null && r.deleted_at === null)).toBe(true);
    const stored = await rawSql<{ name: string; category: string | null; tasks: string[]; gone_at: string | null }>(
      "SELECT name, category, tasks, gone_at FROM provider_pages WHERE org_id = $1 ORDER BY name",
      [org.id],
    );
    expect(stored).toEqual(pages.map((p) => ({ name: p.name, category: p.category, tasks: p.tasks, gone_at: null })));
  });

  it("reconnecting soft-deletes the previous tokens and inserts new ones; pages not returned become gone, never deleted (F13)", async () => {
    const { org, owner, account, pages } = await connectedOrg(3);
    const [kept, dropped] = [pages.slice(0, 2), pages[2]!];
    await connect(org.id, owner.id, account, [...kept, { externalId: `page-${unique()}`, name: "New page", category: null, tasks: [] }], "user-token-2");
    expect(await countRows("provider_pages", "org_id = $1", [org.id])).toBe(4);
    const gone = await rawSql<{ external_page_id: string }>("SELECT external_page_id FROM provider_pages WHERE org_id = $1 AND gone_at IS NOT NULL", [org.id]);
    expect(gone).toEqual([{ external_page_id: dropped.externalId }]);
    // One active user token, one active token per live page; the replaced ones are kept, soft-deleted.
    expect(await countRows("provider_tokens", "org_id = $1 AND token_type = 'user' AND deleted_at IS NULL", [org.id])).toBe(1);
    expect(await countRows("provider_tokens", "org_id = $1 AND token_type = 'user' AND deleted_at IS NOT NULL", [org.id])).toBe(1);
    expect(await countRows("provider_tokens", "org_id = $1 AND token_type = 'page' AND deleted_at IS NULL", [org.id])).toBe(3);
    expect(await countRows("provider_tokens", "org_id = $1 AND token_type = 'page' AND deleted_at IS NOT NULL", [org.id])).toBe(3);
    const goneId = await pageIdOf(org.id, dropped.externalId);
    expect(await countRows("provider_tokens", "page_id = $1 AND deleted_at IS NULL", [goneId])).toBe(0);
    // A page that comes back is live again.
    await connect(org.id, owner.id, account, pages, "user-token-3");
    expect(await countRows("provider_pages", "org_id = $1 AND gone_at IS NULL", [org.id])).toBe(3);
  });

  it("disconnect soft-deletes the user's tokens for that org and provider only", async () => {
    const { org, owner } = await connectedOrg(2);
    const other = await connectedOrg(1);
    await disconnectProviderStatement(db(), { orgId: org.id, userId: owner.id, provider: "facebook" });
    expect(await countRows("provider_tokens", "org_id = $1 AND deleted_at IS NULL", [org.id])).toBe(0);
    expect(await countRows("provider_tokens", "org_id = $1 AND deleted_at IS NOT NULL", [org.id])).toBe(3);
    expect(await countRows("provider_tokens", "org_id = $1 AND deleted_at IS NULL", [other.org.id])).toBe(2);
  });

  it("a batch guarded by orgRoleGuardStatement writes nothing for a plain member, and everything for an admin", async () => {
    const { org } = await connectedOrg(0);
    const member = await createVerifiedUser("member");
    const admin = await createVerifiedUser("admin");
    await addMembership(org.id, member.id, "member");
    await addMembership(org.id, admin.id, "admin");
    const page = { externalId: `page-${unique()}`, name: "Guarded", category: null, tasks: [] };
    const attempt = (userId: string) =>
      db().batch([
        orgRoleGuardStatement(db(), { userId, orgId: org.id, roles: ["owner", "admin"] }),
        ...syncPagesStatements(db(), { orgId: org.id, userId, provider: "facebook", pages: [page] }),
      ]);
    const refused = await attempt(member.id).then(() => null, (e: unknown) => e);
    expect(isOrgRoleRefusal(refused)).toBe(true);
    expect(await countRows("provider_pages", "org_id = $1", [org.id])).toBe(0);
    await attempt(admin.id);
    expect(await countRows("provider_pages", "org_id = $1", [org.id])).toBe(1);
  });

  it("a connect with no pages marks every page gone and still stores the user token", async () => {
    const { org, owner, account } = await connectedOrg(2);
    await connect(org.id, owner.id, account, [], "user-token-2");
    expect(await countRows("provider_pages", "org_id = $1 AND gone_at IS NULL", [org.id])).toBe(0);
    expect(await countRows("provider_tokens", "org_id = $1 AND token_type = 'user' AND deleted_at IS NULL", [org.id])).toBe(1);
    expect(await countRows("provider_tokens", "org_id = $1 AND token_type = 'page' AND deleted_at IS NULL", [org.id])).toBe(0);
  });
});

describe("GET /api/orgs/:org/pages", () => {
  it("lists pages with token status and never a token or ciphertext, in one round trip", async () => {
    const { org, pages } = await connectedOrg(2);
    const member = await createVerifiedUser("member");
    await addMembership(org.id, member.id, "member");
    await resetStats("pages-list");
    const res = await api(await accessTokenFor(member.id), "GET", `/api/orgs/${org.slug}/pages`, undefined, { scope: "pages-list" });
    expect(res.status).toBe(200);
    expect((await stats("pages-list")).requests).toBe(1);
    const text = await res.text();
    expect(text).not.toContain("page-token-");
    expect(text).not.toMatch(/ciphertext|\\\\x/i);
    const body = JSON.parse(text) as { pages: { externalId: string; gone: boolean; token: { active: boolean; scopes: string[] } | null }[] };
    expect(body.pages.map((p) => p.externalId).sort()).toEqual(pages.map((p) => p.externalId).sort());
    expect(body.pages.every((p) => p.token?.active === true && !p.gone)).toBe(true);
    expect(body.pages[0]!.token!.scopes).toEqual(["pages_show_list"]);
  });

  it("an org without pages answers an empty list; another tenant's member gets 404", async () => {
    const owner = await createVerifiedUser();
    const token = await accessTokenFor(owner.id);
    const empty = await createOrgAs(token, "Empty");
    expect(await (await api(token, "GET", `/api/orgs/${empty.slug}/pages`)).json()).toEqual({ pages: [] });
    const { org } = await connectedOrg(1);
    expect((await api(token, "GET", `/api/orgs/${org.slug}/pages`)).status).toBe(404);
  });
});

describe("POST /api/orgs/:org/pages/:pageId/token (service clients)", () => {
  it("returns the decrypted page token to a client allowed for the org, audited in the same round trip", async () => {
    const { org, pages } = await connectedOrg(2);
    const pageId = await pageIdOf(org.id, pages[1]!.externalId);
    const e = await serviceEnv("svc-page", [{ id: "billing", orgs: [org.slug] }]);
    await resetStats("svc-page");
    const res = await call(`/api/orgs/${org.slug}/pages/${pageId}/token`, { method: "POST", headers: { authorization: basic("billing") } }, { env: e });
    expect(res.status).toBe(200);
    expect((await stats("svc-page")).requests).toBe(1);
    expect(await res.json()).toMatchObject({
      accessToken: `page-token-${pages[1]!.externalId}`,
      tokenType: "page",
      provider: "facebook",
      page: { id: pageId, externalId: pages[1]!.externalId },
    });
    expect(res.headers.get("cache-control")).toBe("no-store");
    const audit = (await auditRows(org.id)).filter((a) => a.action === "page_token.read");
    expect(audit).toEqual([expect.objectContaining({ actor_type: "service_client", actor_id: "billing", target_type: "provider_page", target_id: pageId })]);
  });

  it("also accepts the org by id when the client lists its id", async () => {
    const { org, pages } = await connectedOrg(1);
    const pageId = await pageIdOf(org.id, pages[0]!.externalId);
    const e = await serviceEnv("svc-page-id", [{ id: "billing", orgs: [org.id] }]);
    for (const ref of [org.id, org.slug]) {
      const res = await call(`/api/orgs/${ref}/pages/${pageId}/token`, { method: "POST", headers: { authorization: basic("billing") } }, { env: e });
      expect(res.status).toBe(200);
    }
  });

  it("answers 404 alike for another org's page, an org the client is not allowed for, an unknown page and a gone page; nothing audited", async () => {
    const a = await connectedOrg(1);
    const b = await connectedOrg(2);
    const aPage = await pageIdOf(a.org.id, a.pages[0]!.externalId);
    const bPage = await pageIdOf(b.org.id, b.pages[0]!.externalId);
    await connect(b.org.id, b.owner.id, b.account, [b.pages[1]!], "again");
    const gonePage = bPage;
    const e = await serviceEnv("svc-page-404", [{ id: "billing", orgs: [a.org.slug] }, { id: "b-backend", orgs: [b.org.slug] }]);
    const auditsBefore = await countRows("audit_events", "action = 'page_token.read'");
    const bodies = new Set<string>();
    for (const [client, ref, page] of [
      ["billing", a.org.slug, bPage], // A's client, A's org, B's page
      ["billing", b.org.slug, bPage], // A's client asking for B
      ["billing", b.org.id, bPage],
      ["billing", a.org.slug, crypto.randomUUID()], // unknown page
      ["b-backend", b.org.slug, gonePage], // gone page
      ["b-backend", a.org.slug, aPage], // B's client asking for A
    ] as const) {
      const res = await call(`/api/orgs/${ref}/pages/${page}/token`, { method: "POST", headers: { authorization: basic(client) } }, { env: e });
      expect(res.status, `${client} ${ref}`).toBe(404);
      bodies.add(await res.text());
    }
    expect(bodies.size).toBe(1);
    expect(await countRows("audit_events", "action = 'page_token.read'")).toBe(auditsBefore);
  });

  it.each([
    ["a wrong secret", () => basic("billing", "wrong-secret-0123456789")],
    ["an unknown client", () => basic("nobody")],
    ["no credentials", () => undefined],
    ["a malformed Basic header", () => "Basic !!!"],
  ])("refuses %s with 401, before any database work", async (_label, header) => {
    const { org, pages } = await connectedOrg(1);
    const pageId = await pageIdOf(org.id, pages[0]!.externalId);
    const e = await serviceEnv("svc-page-401", [{ id: "billing", orgs: [org.slug] }]);
    await resetStats("svc-page-401");
    const h = header();
    const res = await call(`/api/orgs/${org.slug}/pages/${pageId}/token`, { method: "POST", headers: h ? { authorization: h } : {} }, { env: e });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Basic");
    expect((await stats("svc-page-401")).requests).toBe(0);
    expect(await res.text()).not.toContain("page-token-");
  });

  it("refuses a user's Bearer access token, even the owner's, with 401", async () => {
    const { org, pages, token } = await connectedOrg(1);
    const pageId = await pageIdOf(org.id, pages[0]!.externalId);
    const e = await serviceEnv("svc-page-bearer", [{ id: "billing", orgs: [org.slug] }]);
    const res = await call(`/api/orgs/${org.slug}/pages/${pageId}/token`, { method: "POST", headers: { authorization: `Bearer ${token}` } }, { env: e });
    expect(res.status).toBe(401);
    expect(await countRows("audit_events", "org_id = $1 AND action = 'page_token.read'", [org.id])).toBe(0);
  });

  it("without AUTH_SERVICE_CLIENTS nobody can read tokens", async () => {
    const { org, pages } = await connectedOrg(1);
    const pageId = await pageIdOf(org.id, pages[0]!.externalId);
    const e = scopedEnv("svc-none", { AUTH_SERVICE_CLIENTS: undefined });
    const res = await call(`/api/orgs/${org.slug}/pages/${pageId}/token`, { method: "POST", headers: { authorization: basic("test-backend", "test-backend-secret-0123456789") } }, { env: e });
    expect(res.status).toBe(401);
  });
});

describe("POST /api/orgs/:org/members/:userId/provider-tokens/:provider (service clients)", () => {
  it("returns a member's own active user token, audited in the same round trip", async () => {
    const { org, owner } = await connectedOrg(1);
    const e = await serviceEnv("svc-user", [{ id: "crm", orgs: [org.slug] }]);
    await resetStats("svc-user");
    const res = await call(`/api/orgs/${org.slug}/members/${owner.id}/provider-tokens/facebook`, { method: "POST", headers: { authorization: basic("crm") } }, { env: e });
    expect(res.status).toBe(200);
    expect((await stats("svc-user")).requests).toBe(1);
    expect(await res.json()).toMatchObject({ accessToken: "user-token-1", tokenType: "user", provider: "facebook", userId: owner.id });
    expect((await auditRows(org.id)).filter((a) => a.action === "provider_token.read")).toEqual([
      expect.objectContaining({ actor_type: "service_client", actor_id: "crm", target_type: "provider_token" }),
    ]);
  });

  it("answers 404 when the user left the org, for another org, for an expired token and for an unknown provider", async () => {
    const a = await connectedOrg(1);
    const b = await connectedOrg(1);
    const e = await serviceEnv("svc-user-404", [{ id: "crm", orgs: [a.org.slug] }]);
    const post = (ref: string, userId: string, provider = "facebook") =>
      call(`/api/orgs/${ref}/members/${userId}/provider-tokens/${provider}`, { method: "POST", headers: { authorization: basic("crm") } }, { env: e });
    expect((await post(b.org.slug, b.owner.id)).status).toBe(404);
    expect((await post(a.org.slug, b.owner.id)).status).toBe(404);
    expect((await post(a.org.slug, a.owner.id, "github")).status).toBe(404);
    expect((await post(a.org.slug, a.owner.id, "Not_A_Provider")).status).toBe(404);
    await rawSql("UPDATE provider_tokens SET expires_at = now() - interval '1 minute' WHERE org_id = $1 AND token_type = 'user'", [a.org.id]);
    expect((await post(a.org.slug, a.owner.id)).status).toBe(404);
    await rawSql("UPDATE provider_tokens SET expires_at = NULL WHERE org_id = $1", [a.org.id]);
    expect((await post(a.org.slug, a.owner.id)).status).toBe(200);
    await rawSql("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2", [a.org.id, a.owner.id]);
    expect((await post(a.org.slug, a.owner.id)).status).toBe(404);
  });

  const readUserTokenAs = (e: Env, org: { slug: string }, userId: string) =>
    call(`/api/orgs/${org.slug}/members/${userId}/provider-tokens/facebook`, { method: "POST", headers: { authorization: basic("crm") } }, { env: e });

  it("after a disconnect the backend no longer gets the token, and nothing is audited (F13)", async () => {
    const { org, owner, token } = await connectedOrg(1);
    const e = await serviceEnv("svc-user-disconnected", [{ id: "crm", orgs: [org.slug] }]);
    expect((await readUserTokenAs(e, org, owner.id)).status).toBe(200);
    expect((await api(token, "POST", `/api/orgs/${org.slug}/providers/facebook/disconnect`)).status).toBe(200);
    expect(await countRows("provider_tokens", "org_id = $1 AND token_type = 'user' AND deleted_at IS NOT NULL", [org.id])).toBe(1);
    const reads = async () => (await auditRows(org.id)).filter((a) => a.action === "provider_token.read").length;
    const auditedBefore = await reads();
    const res = await readUserTokenAs(e, org, owner.id);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("user-token-");
    expect(await reads()).toBe(auditedBefore);
  });

  it("after reconnects the backend gets the newest token, never a soft-deleted one (F13)", async () => {
    const { org, owner, account } = await connectedOrg(1);
    const e = await serviceEnv("svc-user-reconnected", [{ id: "crm", orgs: [org.slug] }]);
    await connect(org.id, owner.id, account, [], "user-token-2");
    await connect(org.id, owner.id, account, [], "user-token-3");
    expect(await countRows("provider_tokens", "org_id = $1 AND token_type = 'user'", [org.id])).toBe(3);
    const res = await readUserTokenAs(e, org, owner.id);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accessToken: "user-token-3", tokenType: "user" });
  });

  it("never returns a ciphertext moved into another org's row (AAD binds it)", async () => {
    const a = await connectedOrg(1);
    const b = await connectedOrg(1);
    const aPage = await pageIdOf(a.org.id, a.pages[0]!.externalId);
    const bPage = await pageIdOf(b.org.id, b.pages[0]!.externalId);
    await rawSql(
      `UPDATE provider_tokens SET ciphertext = (SELECT ciphertext FROM provider_tokens WHERE page_id = $1 AND deleted_at IS NULL),
       key_version = (SELECT key_version FROM provider_tokens WHERE page_id = $1 AND deleted_at IS NULL)
       WHERE page_id = $2 AND deleted_at IS NULL`,
      [aPage, bPage],
    );
    const e = await serviceEnv("svc-aad", [{ id: "b-backend", orgs: [b.org.slug] }]);
    const res = await call(`/api/orgs/${b.org.slug}/pages/${bPage}/token`, { method: "POST", headers: { authorization: basic("b-backend") } }, { env: e });
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain("page-token-");
  });
});
