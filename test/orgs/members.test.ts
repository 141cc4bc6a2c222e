/**
 * Memberships: who may do what (every route × member/admin/owner), the
 * last-owner rule, personal organizations, cross-tenant
 * 404s, audit rows read back, and one round trip per write.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import {
  accessTokenFor,
  addMembership,
  api,
  auditRows,
  countRows,
  createOrgAs,
  createPersonalOrg,
  createVerifiedUser,
} from "../helpers/orgs";

type Role = "owner" | "admin" | "member";

/** An org with one user of each role (plus a spare member as a target), and their tokens. */
async function team() {
  const owner = await createVerifiedUser("owner");
  const ownerToken = await accessTokenFor(owner.id);
  const org = await createOrgAs(ownerToken, "Team");
  const admin = await createVerifiedUser("admin");
  const member = await createVerifiedUser("member");
  const spare = await createVerifiedUser("spare");
  await addMembership(org.id, admin.id, "admin");
  await addMembership(org.id, member.id, "member");
  await addMembership(org.id, spare.id, "member");
  const tokens: Record<Role, string> = { owner: ownerToken, admin: await accessTokenFor(admin.id), member: await accessTokenFor(member.id) };
  const ids: Record<Role | "spare", string> = { owner: owner.id, admin: admin.id, member: member.id, spare: spare.id };
  return { org, tokens, ids };
}

const roleOf = async (orgId: string, userId: string) =>
  (await rawSql<{ role: string }>("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2", [orgId, userId]))[0]?.role ?? null;

describe("roles on every org route", () => {
  let t: Awaited<ReturnType<typeof team>>;
  beforeEach(async () => {
    t = await team();
  });

  it.each<[Role, number]>([
    ["owner", 200],
    ["admin", 200],
    ["member", 200],
  ])("GET /:org, /:org/members and /:org/pages as %s → %i", async (role, status) => {
    for (const path of ["", "/members", "/pages"]) {
      expect((await api(t.tokens[role], "GET", `/api/orgs/${t.org.slug}${path}`)).status).toBe(status);
    }
  });

  it.each<Role>(["owner", "admin", "member"])("POST /:org/members as %s → 405: nobody is added by email, people join by invitation", async (actor) => {
    const newcomer = await createVerifiedUser("new");
    const res = await api(t.tokens[actor], "POST", `/api/orgs/${t.org.slug}/members`, { email: newcomer.email, role: "member" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
    expect(await roleOf(t.org.id, newcomer.id)).toBeNull();
  });

  it.each<[Role, "spare" | "admin" | "owner", Role, number]>([
    ["owner", "spare", "admin", 200],
    ["owner", "spare", "owner", 200],
    ["admin", "spare", "admin", 200],
    ["admin", "spare", "owner", 403],
    ["admin", "owner", "member", 403],
    ["member", "spare", "admin", 403],
    ["member", "admin", "member", 403],
  ])("PATCH /:org/members/:userId as %s changing %s to %s → %i", async (actor, target, role, status) => {
    const before = await roleOf(t.org.id, t.ids[target]);
    const res = await api(t.tokens[actor], "PATCH", `/api/orgs/${t.org.slug}/members/${t.ids[target]}`, { role });
    expect(res.status).toBe(status);
    expect(await roleOf(t.org.id, t.ids[target])).toBe(status === 200 ? role : before);
  });

  it.each<[Role, "spare" | "admin" | "owner", number]>([
    ["owner", "spare", 200],
    ["owner", "admin", 200],
    ["admin", "spare", 200],
    ["admin", "owner", 403],
    ["member", "spare", 403],
    ["member", "admin", 403],
  ])("DELETE /:org/members/:userId as %s removing %s → %i", async (actor, target, status) => {
    const res = await api(t.tokens[actor], "DELETE", `/api/orgs/${t.org.slug}/members/${t.ids[target]}`);
    expect(res.status).toBe(status);
    expect(await roleOf(t.org.id, t.ids[target])).toBe(status === 200 ? null : target === "spare" ? "member" : target);
  });

  it.each<Role>(["admin", "member"])("POST /:org/leave as %s → 200", async (role) => {
    expect((await api(t.tokens[role], "POST", `/api/orgs/${t.org.slug}/leave`)).status).toBe(200);
    expect(await roleOf(t.org.id, t.ids[role])).toBeNull();
    expect(await auditRows(t.org.id)).toContainEqual(expect.objectContaining({ action: "member.leave", actor_id: t.ids[role], target_id: t.ids[role] }));
  });

  it("refuses a forbidden change with 403 and writes no membership or audit row", async () => {
    const audits = (await auditRows(t.org.id)).length;
    const res = await api(t.tokens.member, "DELETE", `/api/orgs/${t.org.slug}/members/${t.ids.spare}`);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: "Forbidden" });
    expect(res.headers.getSetCookie()).toEqual([]);
    expect((await auditRows(t.org.id)).length).toBe(audits);
  });
});

describe("the last owner", () => {
  it("cannot be demoted, removed or leave; with a second owner each works", async () => {
    const { org, tokens, ids } = await team();
    for (const [method, path, body] of [
      ["PATCH", `/members/${ids.owner}`, { role: "admin" }],
      ["DELETE", `/members/${ids.owner}`, undefined],
      ["POST", "/leave", undefined],
    ] as const) {
      const res = await api(tokens.owner, method, `/api/orgs/${org.slug}${path}`, body);
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ code: "LastOwner" });
      expect(await roleOf(org.id, ids.owner)).toBe("owner");
    }
    expect((await api(tokens.owner, "PATCH", `/api/orgs/${org.slug}/members/${ids.admin}`, { role: "owner" })).status).toBe(200);
    await resetStats("members-demote");
    const demoted = await api(tokens.owner, "PATCH", `/api/orgs/${org.slug}/members/${ids.owner}`, { role: "admin" }, { scope: "members-demote" });
    expect(demoted.status).toBe(200);
    expect((await stats("members-demote")).requests).toBe(1);
    expect(await roleOf(org.id, ids.owner)).toBe("admin");
    // The former owner, now an admin, can no longer touch the owner.
    expect((await api(tokens.owner, "PATCH", `/api/orgs/${org.slug}/members/${ids.admin}`, { role: "member" })).status).toBe(403);
    expect(await countRows("memberships", "org_id = $1 AND role = 'owner'", [org.id])).toBe(1);
    const audit = await auditRows(org.id);
    expect(audit).toContainEqual(expect.objectContaining({ action: "member.role_change", target_id: ids.owner, metadata: { from: "owner", to: "admin" } }));
  });

  it("a disabled second owner does not count: the last enabled owner still cannot leave or be demoted", async () => {
    const { org, tokens, ids } = await team();
    await rawSql("UPDATE memberships SET role = 'owner' WHERE org_id = $1 AND user_id = $2", [org.id, ids.spare]);
    await rawSql("UPDATE users SET disabled_at = now() WHERE id = $1", [ids.spare]);
    for (const [method, path, body] of [
      ["PATCH", `/members/${ids.owner}`, { role: "admin" }],
      ["POST", "/leave", undefined],
    ] as const) {
      const res = await api(tokens.owner, method, `/api/orgs/${org.slug}${path}`, body);
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ code: "LastOwner" });
    }
    expect(await roleOf(org.id, ids.owner)).toBe("owner");
  });

  it("setting the same role again changes nothing and writes no audit row", async () => {
    const { org, tokens, ids } = await team();
    const before = (await auditRows(org.id)).length;
    const res = await api(tokens.owner, "PATCH", `/api/orgs/${org.slug}/members/${ids.member}`, { role: "member" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ changed: false });
    expect((await auditRows(org.id)).length).toBe(before);
  });
});

describe("writes: one round trip each, audited", () => {
  it("removal and role change write the change and its audit row in one statement", async () => {
    const { org, tokens, ids } = await team();
    await resetStats("members-remove");
    const removed = await api(tokens.owner, "DELETE", `/api/orgs/${org.slug}/members/${ids.spare}`, undefined, { scope: "members-remove" });
    expect(removed.status).toBe(200);
    expect((await stats("members-remove")).requests).toBe(1);
    await resetStats("members-role");
    const changed = await api(tokens.admin, "PATCH", `/api/orgs/${org.slug}/members/${ids.member}`, { role: "admin" }, { scope: "members-role" });
    expect(changed.status).toBe(200);
    expect((await stats("members-role")).requests).toBe(1);
    await resetStats("members-leave");
    expect((await api(tokens.member, "POST", `/api/orgs/${org.slug}/leave`, undefined, { scope: "members-leave" })).status).toBe(200);
    expect((await stats("members-leave")).requests).toBe(1);
    const actions = (await auditRows(org.id)).map((a) => [a.action, a.actor_id, a.target_id]);
    expect(actions).toEqual([
      ["org.create", ids.owner, org.id],
      ["member.remove", ids.owner, ids.spare],
      ["member.role_change", ids.admin, ids.member],
      ["member.leave", ids.member, ids.member],
    ]);
  });

  it("a refused write is still one round trip and leaves no trace", async () => {
    const { org, tokens, ids } = await team();
    await resetStats("members-refused");
    const res = await api(tokens.member, "PATCH", `/api/orgs/${org.slug}/members/${ids.spare}`, { role: "admin" }, { scope: "members-refused" });
    expect(res.status).toBe(403);
    expect((await stats("members-refused")).requests).toBe(1);
    expect(await roleOf(org.id, ids.spare)).toBe("member");
  });
});

describe("cross-tenant attempts", () => {
  it("a member of org A gets 404 for every route of org B, and nothing is written", async () => {
    const a = await team();
    const b = await team();
    const newcomer = await createVerifiedUser("newcomer");
    const tokens = [a.tokens.owner, a.tokens.admin, a.tokens.member];
    const auditBefore = (await auditRows(b.org.id)).length;
    const membersBefore = await countRows("memberships", "org_id = $1", [b.org.id]);
    for (const token of tokens) {
      for (const ref of [b.org.slug, b.org.id]) {
        const attempts: [string, string, unknown][] = [
          ["GET", "", undefined],
          ["GET", "/members", undefined],
          ["GET", "/pages", undefined],
          ["POST", "/invitations", { email: newcomer.email, role: "owner" }],
          ["GET", "/invitations", undefined],
          ["PATCH", `/members/${b.ids.member}`, { role: "owner" }],
          ["DELETE", `/members/${b.ids.member}`, undefined],
          ["PATCH", `/members/${a.ids.member}`, { role: "owner" }],
          ["POST", "/leave", undefined],
        ];
        for (const [method, path, body] of attempts) {
          const res = await api(token, method, `/api/orgs/${ref}${path}`, body);
          expect(res.status, `${method} ${path}`).toBe(404);
          expect(await res.json()).toMatchObject({ code: "NotFound" });
        }
      }
    }
    expect((await auditRows(b.org.id)).length).toBe(auditBefore);
    expect(await countRows("memberships", "org_id = $1", [b.org.id])).toBe(membersBefore);
  });

  it("a member cannot change someone who belongs to another org (404, no membership created)", async () => {
    const a = await team();
    const b = await team();
    const res = await api(a.tokens.owner, "PATCH", `/api/orgs/${a.org.slug}/members/${b.ids.member}`, { role: "admin" });
    expect(res.status).toBe(404);
    expect(await roleOf(a.org.id, b.ids.member)).toBeNull();
    expect((await api(a.tokens.owner, "DELETE", `/api/orgs/${a.org.slug}/members/not-a-uuid`)).status).toBe(404);
  });
});

describe("personal organizations", () => {
  it("take no other members and cannot be left by their owner", async () => {
    const ada = await createVerifiedUser("ada");
    const personal = await createPersonalOrg(ada.id);
    const token = await accessTokenFor(ada.id);
    const bob = await createVerifiedUser("bob");
    const add = await api(token, "POST", `/api/orgs/${personal.slug}/invitations`, { email: bob.email, role: "member" });
    expect(add.status).toBe(409);
    expect(await add.json()).toMatchObject({ code: "PersonalOrganization" });
    const leave = await api(token, "POST", `/api/orgs/${personal.slug}/leave`);
    expect(leave.status).toBe(409);
    expect(await countRows("memberships", "org_id = $1", [personal.id])).toBe(1);
    expect(await countRows("audit_events", "org_id = $1", [personal.id])).toBe(0);
  });
});

describe("GET /:org/members", () => {
  it("lists members owners first with their profile, in one round trip", async () => {
    const { org, tokens, ids } = await team();
    await resetStats("members-list");
    const res = await api(tokens.member, "GET", `/api/orgs/${org.slug}/members`, undefined, { scope: "members-list" });
    expect((await stats("members-list")).requests).toBe(1);
    const { members } = (await res.json()) as { members: { userId: string; role: string; email: string }[] };
    expect(members.map((m) => m.role)).toEqual(["owner", "admin", "member", "member"]);
    expect(members[0]).toMatchObject({ userId: ids.owner, email: expect.stringContaining("@example.com"), emailVerified: true });
  });

  it("says whether each member's email is verified", async () => {
    const { org, tokens, ids } = await team();
    await rawSql("UPDATE users SET email_verified_at = NULL WHERE id = $1", [ids.spare]);
    const { members } = (await (await api(tokens.member, "GET", `/api/orgs/${org.slug}/members`)).json()) as { members: { userId: string; emailVerified: boolean }[] };
    expect(members.find((m) => m.userId === ids.spare)).toMatchObject({ emailVerified: false });
    expect(members.find((m) => m.userId === ids.admin)).toMatchObject({ emailVerified: true });
  });
});
