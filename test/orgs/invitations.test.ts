/**
 * Invitations: owners and admins invite an address (nothing about the
 * invitee revealed, rate-limited per inviter), list and revoke; the invitee
 * accepts only while signed in with that address VERIFIED. Every write is
 * one round trip with its audit row; every refusal writes nothing.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { accessTokenFor, addMembership, api, auditRows, countRows, createOrgAs, createPersonalOrg, createVerifiedUser, unique } from "../helpers/orgs";

type Role = "owner" | "admin" | "member";

async function team() {
  const owner = await createVerifiedUser("owner");
  const ownerToken = await accessTokenFor(owner.id);
  const org = await createOrgAs(ownerToken, "Team");
  const admin = await createVerifiedUser("admin");
  const member = await createVerifiedUser("member");
  await addMembership(org.id, admin.id, "admin");
  await addMembership(org.id, member.id, "member");
  const tokens: Record<Role, string> = { owner: ownerToken, admin: await accessTokenFor(admin.id), member: await accessTokenFor(member.id) };
  return { org, tokens, ids: { owner: owner.id, admin: admin.id, member: member.id } };
}

const invite = (token: string, slug: string, body: unknown, scope?: string) => api(token, "POST", `/api/orgs/${slug}/invitations`, body, scope ? { scope } : {});
const pendingFor = (orgId: string) => countRows("org_invitations", "org_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL", [orgId]);

let t: Awaited<ReturnType<typeof team>>;
beforeEach(async () => {
  t = await team();
});

describe("POST /api/orgs/:org/invitations", () => {
  it("invites an address in one round trip with its audit row, and answers without a word about who holds it", async () => {
    const ada = await createVerifiedUser("ada");
    for (const email of [` ${ada.email.toUpperCase()} `, `nobody-${unique()}@example.com`]) {
      await resetStats("inv-create");
      const res = await invite(t.tokens.admin, t.org.slug, { email, role: "admin" }, "inv-create");
      expect(res.status).toBe(201);
      expect((await stats("inv-create")).requests).toBe(1);
      const body = (await res.json()) as { invitation: Record<string, unknown> };
      expect(Object.keys(body.invitation).sort()).toEqual(["createdAt", "email", "expiresAt", "id", "role"]);
      expect(body.invitation).toMatchObject({ email: email.trim().toLowerCase(), role: "admin" });
      expect(JSON.stringify(body)).not.toContain(ada.id);
      expect(await auditRows(t.org.id)).toContainEqual({
        actor_type: "user",
        actor_id: t.ids.admin,
        action: "invitation.create",
        target_type: "invitation",
        target_id: body.invitation.id,
        metadata: { email: email.trim().toLowerCase(), role: "admin" },
      });
    }
    // Nobody joined: an invitation is not a membership.
    expect(await countRows("memberships", "org_id = $1 AND user_id = $2", [t.org.id, ada.id])).toBe(0);
  });

  it.each<[Role, Role, number]>([
    ["owner", "owner", 201],
    ["owner", "admin", 201],
    ["admin", "admin", 201],
    ["admin", "member", 201],
    ["admin", "owner", 403],
    ["member", "member", 403],
  ])("as %s inviting a %s → %i; a refusal writes nothing", async (actor, role, status) => {
    const audits = (await auditRows(t.org.id)).length;
    const res = await invite(t.tokens[actor], t.org.slug, { email: `x-${unique()}@example.com`, role });
    expect(res.status).toBe(status);
    expect(await pendingFor(t.org.id)).toBe(status === 201 ? 1 : 0);
    expect((await auditRows(t.org.id)).length).toBe(status === 201 ? audits + 1 : audits);
  });

  it("replaces a pending invitation for the same address; an admin cannot replace an owner invitation", async () => {
    const email = `x-${unique()}@example.com`;
    expect((await invite(t.tokens.owner, t.org.slug, { email, role: "owner" })).status).toBe(201);
    expect((await invite(t.tokens.admin, t.org.slug, { email, role: "member" })).status).toBe(403);
    expect((await invite(t.tokens.owner, t.org.slug, { email, role: "admin" })).status).toBe(201);
    expect(await rawSql("SELECT role FROM org_invitations WHERE org_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL", [t.org.id])).toEqual([{ role: "admin" }]);
  });

  it("answers 409 AlreadyMember for a member's verified address, 409 PersonalOrganization for a personal org, 404 for a non-member", async () => {
    const memberEmail = (await rawSql<{ email: string }>("SELECT email FROM users WHERE id = $1", [t.ids.member]))[0]!.email;
    const res = await invite(t.tokens.owner, t.org.slug, { email: memberEmail });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: "AlreadyMember" });
    const personal = await createPersonalOrg(t.ids.owner);
    expect(await (await invite(t.tokens.owner, personal.slug, { email: `x-${unique()}@example.com` })).json()).toMatchObject({ code: "PersonalOrganization" });
    const outsider = await accessTokenFor((await createVerifiedUser("outsider")).id);
    expect((await invite(outsider, t.org.slug, { email: `x-${unique()}@example.com` })).status).toBe(404);
    expect(await pendingFor(t.org.id)).toBe(0);
  });

  it.each([
    ["a malformed address", { email: "not-an-email" }],
    ["a look-alike @", { email: "ada＠example.com" }],
    ["full-width letters", { email: "ａda@example.com" }],
    ["an unknown role", { email: "ada@example.com", role: "superuser" }],
    ["an unknown member", { email: "ada@example.com", userId: "x" }],
  ])("refuses %s with 400", async (_label, body) => {
    const res = await invite(t.tokens.owner, t.org.slug, body);
    expect(res.status).toBe(400);
    expect(await pendingFor(t.org.id)).toBe(0);
  });

  it("is rate-limited per inviter: 429 RateLimited with Retry-After, nothing written past the limit", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 2 * 60 + 1 && statuses.at(-1) !== 429; i++) {
      statuses.push((await invite(t.tokens.admin, t.org.slug, { email: `x-${i}-${unique()}@example.com` })).status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.length).toBeGreaterThan(60);
    const pending = await pendingFor(t.org.id);
    expect(pending).toBe(statuses.length - 1);
    // Another inviter is not affected.
    expect((await invite(t.tokens.owner, t.org.slug, { email: `x-${unique()}@example.com` })).status).toBe(201);
  }, 60_000);
});

describe("listing and revoking", () => {
  it("lists pending invitations to owners and admins only; revokes in one round trip, audited", async () => {
    const created = (await (await invite(t.tokens.owner, t.org.slug, { email: `x-${unique()}@example.com` })).json()) as { invitation: { id: string } };
    const list = await api(t.tokens.admin, "GET", `/api/orgs/${t.org.slug}/invitations`);
    expect(await list.json()).toMatchObject({ invitations: [{ id: created.invitation.id, role: "member" }] });
    expect((await api(t.tokens.member, "GET", `/api/orgs/${t.org.slug}/invitations`)).status).toBe(403);

    expect((await api(t.tokens.member, "DELETE", `/api/orgs/${t.org.slug}/invitations/${created.invitation.id}`)).status).toBe(403);
    await resetStats("inv-revoke");
    const revoked = await api(t.tokens.admin, "DELETE", `/api/orgs/${t.org.slug}/invitations/${created.invitation.id}`, undefined, { scope: "inv-revoke" });
    expect(revoked.status).toBe(200);
    expect((await stats("inv-revoke")).requests).toBe(1);
    expect(await revoked.json()).toEqual({ revoked: created.invitation.id });
    expect((await auditRows(t.org.id)).filter((a) => a.action === "invitation.revoke")).toHaveLength(1);
    expect(await (await api(t.tokens.admin, "GET", `/api/orgs/${t.org.slug}/invitations`)).json()).toEqual({ invitations: [] });
    // Again, another org's invitation, or a malformed id: 404.
    expect((await api(t.tokens.admin, "DELETE", `/api/orgs/${t.org.slug}/invitations/${created.invitation.id}`)).status).toBe(404);
    expect((await api(t.tokens.admin, "DELETE", `/api/orgs/${t.org.slug}/invitations/nope`)).status).toBe(404);
    const other = await team();
    const foreign = (await (await invite(other.tokens.owner, other.org.slug, { email: `x-${unique()}@example.com` })).json()) as { invitation: { id: string } };
    expect((await api(t.tokens.owner, "DELETE", `/api/orgs/${t.org.slug}/invitations/${foreign.invitation.id}`)).status).toBe(404);
    expect(await pendingFor(other.org.id)).toBe(1);
  });
});

describe("accepting", () => {
  it("lets the invitee with that VERIFIED address see and accept it in one round trip; the membership and audit row commit together", async () => {
    const ada = await createVerifiedUser("ada");
    const adaToken = await accessTokenFor(ada.id);
    const created = (await (await invite(t.tokens.admin, t.org.slug, { email: ada.email, role: "admin" })).json()) as { invitation: { id: string } };
    const mine = await api(adaToken, "GET", "/api/invitations");
    expect(await mine.json()).toEqual({ invitations: [{ id: created.invitation.id, role: "admin", expiresAt: expect.any(String), org: { id: t.org.id, slug: t.org.slug, name: "Team" } }] });
    await resetStats("inv-accept");
    const res = await api(adaToken, "POST", `/api/invitations/${created.invitation.id}/accept`, undefined, { scope: "inv-accept" });
    expect(res.status).toBe(200);
    expect((await stats("inv-accept")).requests).toBe(1);
    expect(await res.json()).toEqual({ org: { id: t.org.id, slug: t.org.slug, name: "Team", role: "admin" } });
    expect(await rawSql("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2", [t.org.id, ada.id])).toEqual([{ role: "admin" }]);
    expect((await auditRows(t.org.id)).filter((a) => a.action === "invitation.accept")).toEqual([
      expect.objectContaining({ actor_id: ada.id, target_id: created.invitation.id, metadata: { role: "admin" } }),
    ]);
    // Single use.
    expect((await api(adaToken, "POST", `/api/invitations/${created.invitation.id}/accept`)).status).toBe(404);
    expect(await (await api(adaToken, "GET", "/api/invitations")).json()).toEqual({ invitations: [] });
  });

  it("answers the same 404 to someone else, an unverified holder of the address, a disabled one, and for an expired or revoked invitation; nothing written", async () => {
    const email = `eve-${unique()}@example.com`;
    const created = (await (await invite(t.tokens.owner, t.org.slug, { email })).json()) as { invitation: { id: string } };
    const unverified = await rawSql<{ id: string }>("INSERT INTO users (email, email_normalized) VALUES ($1, $1) RETURNING id", [email]);
    const disabled = await rawSql<{ id: string }>("INSERT INTO users (email, email_normalized, email_verified_at, disabled_at) VALUES ($1, $1, now(), now()) RETURNING id", [email]);
    const stranger = await createVerifiedUser("stranger");
    const bodies = new Set<string>();
    for (const userId of [stranger.id, unverified[0]!.id, disabled[0]!.id]) {
      const token = await accessTokenFor(userId);
      expect(await (await api(token, "GET", "/api/invitations")).json()).toEqual({ invitations: [] });
      const res = await api(token, "POST", `/api/invitations/${created.invitation.id}/accept`);
      expect(res.status).toBe(404);
      bodies.add(await res.text());
    }
    const owner = await createVerifiedUser("late");
    await rawSql("UPDATE users SET email = $2, email_normalized = $2 WHERE id = $1", [owner.id, `late-${unique()}@example.com`]);
    const late = (await (await invite(t.tokens.owner, t.org.slug, { email: (await rawSql<{ e: string }>("SELECT email_normalized AS e FROM users WHERE id = $1", [owner.id]))[0]!.e })).json()) as { invitation: { id: string } };
    await rawSql("UPDATE org_invitations SET expires_at = now() - interval '1 second' WHERE id = $1", [late.invitation.id]);
    const expired = await api(await accessTokenFor(owner.id), "POST", `/api/invitations/${late.invitation.id}/accept`);
    expect(expired.status).toBe(404);
    bodies.add(await expired.text());
    expect(bodies.size).toBe(1);
    expect(await countRows("memberships", "org_id = $1", [t.org.id])).toBe(3);
    expect((await auditRows(t.org.id)).filter((a) => a.action === "invitation.accept")).toEqual([]);
  });
});
