/**
 * The outbox trigger, straight against the database: which audit actions
 * become which events, who receives them (org endpoints their org's, global
 * endpoints all, disabled ones nothing), what the payload holds (ids, no
 * personal data), and that a rolled-back transaction leaves no delivery.
 * Global endpoints are managed here at the function level (the operator
 * guard is the admin helper's).
 */
import { afterAll, describe, expect, it } from "vitest";
import { createWebhookEndpoint, deleteWebhookEndpoint, listWebhookEndpoints, updateWebhookEndpoint, type WebhookScope } from "../../src/db/webhooks";
import { sealWebhookSecret } from "../../src/webhooks/secrets";
import { newWebhookSecret } from "../../src/webhooks/sign";
import { neonSql, rawSql } from "../helpers/neon-local";
import { createVerifiedUser } from "../helpers/orgs";
import { testConfig } from "../helpers/sessions";
import { createEndpoint, ownerWithOrg, RECEIVER, newInbox, testDb } from "./helpers";

async function eventTypes(action: string, flags: string[] = []): Promise<string[]> {
  const [row] = await rawSql<{ t: string[] }>("SELECT webhook_event_types($1, $2::text[]) AS t", [action, flags]);
  return row!.t;
}

/** Inserts an audit row as the write paths do; returns its id. */
async function audit(action: string, fields: { orgId?: string | null; subject?: string | null; targetType?: string; targetId?: string; metadata?: object; flags?: string[] } = {}) {
  const [row] = await rawSql<{ id: string }>(
    `INSERT INTO audit_events (actor_type, actor_id, action, org_id, target_type, target_id, metadata, subject_user_id, ip, user_agent, country, flags)
     VALUES ('user', $1, $2, $3, $4, $5, $6::jsonb, $7, '203.0.113.9', 'Mozilla/5.0 Secret Browser', 'KR', $8::text[]) RETURNING id::text`,
    [fields.subject ?? null, action, fields.orgId ?? null, fields.targetType ?? null, fields.targetId ?? null, JSON.stringify(fields.metadata ?? {}), fields.subject ?? null, fields.flags ?? []],
  );
  return row!.id;
}

function deliveriesOf(auditId: string) {
  return rawSql<{ endpoint_id: string; event_type: string; state: string; payload: Record<string, unknown> }>(
    "SELECT endpoint_id, event_type, state, payload FROM webhook_deliveries WHERE audit_event_id = $1 ORDER BY event_type",
    [auditId],
  );
}

const operator = { kind: "global", actorId: "" } as { kind: "global"; actorId: string };
const globals: string[] = [];

async function globalEndpoint(types: string[]): Promise<string> {
  const op = await createVerifiedUser("operator");
  operator.actorId = op.id;
  const id = crypto.randomUUID();
  const sealed = await sealWebhookSecret(testConfig().encryptionKeys, id, newWebhookSecret());
  const r = await createWebhookEndpoint(await testDb(), operator, { id, url: `${RECEIVER}${newInbox()}`, eventTypes: types, secret: sealed });
  if (!r.ok) throw new Error(r.refusal);
  globals.push(id);
  return id;
}

afterAll(async () => {
  // Global endpoints receive every event of every test file: remove them.
  for (const id of globals) await deleteWebhookEndpoint(await testDb(), operator, id);
});

describe("the action → event type mapping (SQL)", () => {
  it("maps every audit action of the contract, and nothing else", async () => {
    expect(await eventTypes("user.create")).toEqual(["user.created"]);
    for (const a of ["account.link", "account.unlink", "user.enable"]) expect(await eventTypes(a)).toEqual(["user.updated"]);
    expect(await eventTypes("user.disable")).toEqual(["user.updated", "session.revoked"]);
    expect(await eventTypes("user.delete")).toEqual(["user.deleted"]);
    expect(await eventTypes("signin.success")).toEqual(["session.created"]);
    expect(await eventTypes("signin.success", ["new_country"])).toEqual(["session.created", "signin.suspicious"]);
    for (const a of ["signout", "session.revoke"]) expect(await eventTypes(a)).toEqual(["session.revoked"]);
    expect(await eventTypes("refresh.reuse_detected")).toEqual(["refresh.reuse_detected"]);
    for (const a of ["member.add", "invitation.accept"]) expect(await eventTypes(a)).toEqual(["membership.created"]);
    expect(await eventTypes("member.role_change")).toEqual(["membership.updated"]);
    for (const a of ["member.remove", "member.leave"]) expect(await eventTypes(a)).toEqual(["membership.deleted"]);
    expect(await eventTypes("provider.connect")).toEqual(["pages.connected"]);
    expect(await eventTypes("oauth_client.create")).toEqual(["client.created"]);
    for (const a of ["oauth_client.update", "oauth_client.secret_rotate"]) expect(await eventTypes(a)).toEqual(["client.updated"]);
    expect(await eventTypes("oauth_client.delete")).toEqual(["client.deleted"]);
    expect(await eventTypes("oauth_grant.create")).toEqual(["grant.created"]);
    expect(await eventTypes("oauth_grant.revoke")).toEqual(["grant.revoked"]);
    for (const a of ["page_token.read", "provider_token.read", "invitation.create", "org.create", "signin.failure", "webhook.replay", "webhook.endpoint_create"]) {
      expect(await eventTypes(a)).toEqual([]);
    }
  });
});

describe("the outbox trigger", () => {
  it("writes one delivery per subscribed enabled endpoint: org endpoints for their org, families and *, not disabled ones", async () => {
    const a = await ownerWithOrg();
    const b = await ownerWithOrg();
    const exact = await createEndpoint(a.token, a.org.slug, ["membership.updated"]);
    const family = await createEndpoint(a.token, a.org.slug, ["membership.*"]);
    const all = await createEndpoint(a.token, a.org.slug, ["*"]);
    const other = await createEndpoint(a.token, a.org.slug, ["client.created"]);
    const disabled = await createEndpoint(a.token, a.org.slug, ["*"]);
    const db = await testDb();
    expect((await updateWebhookEndpoint(db, { kind: "org", actorId: a.userId, org: { kind: "id", id: a.org.id } }, disabled.id, { enabled: false })).ok).toBe(true);
    const foreign = await createEndpoint(b.token, b.org.slug, ["*"]);

    const id = await audit("member.role_change", { orgId: a.org.id, targetType: "user", targetId: b.userId, metadata: { from: "member", to: "admin" } });
    const rows = await deliveriesOf(id);
    const endpoints = rows.map((r) => r.endpoint_id).sort();
    expect(endpoints).toEqual([exact.id, family.id, all.id].sort());
    expect(endpoints).not.toContain(other.id);
    expect(endpoints).not.toContain(disabled.id);
    expect(endpoints).not.toContain(foreign.id);
    expect(rows.every((r) => r.event_type === "membership.updated")).toBe(true);
  });

  it("builds the payload from ids and safe details only: no email, name, IP or User-Agent", async () => {
    const a = await ownerWithOrg();
    const hook = await createEndpoint(a.token, a.org.slug, ["membership.created"]);
    const user = await createVerifiedUser("joiner");
    const id = await audit("invitation.accept", { orgId: a.org.id, subject: user.id, targetType: "invitation", targetId: crypto.randomUUID(), metadata: { role: "member", email: user.email } });
    const [row] = (await deliveriesOf(id)).filter((r) => r.endpoint_id === hook.id);
    expect(row!.payload).toMatchObject({
      type: "membership.created",
      data: { eventId: id, action: "invitation.accept", orgId: a.org.id, userId: user.id, actor: { type: "user", id: user.id }, details: { role: "member" } },
    });
    expect(row!.payload.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const text = JSON.stringify(row!.payload);
    for (const secret of [user.email, "203.0.113.9", "Secret Browser", "KR"]) expect(text).not.toContain(secret);
  });

  it("a rolled-back transaction leaves neither the audit row nor a delivery", async () => {
    const a = await ownerWithOrg();
    await createEndpoint(a.token, a.org.slug, ["*"]);
    const before = await rawSql<{ n: number }>("SELECT count(*)::int AS n FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE e.org_id = $1", [a.org.id]);
    const sql = neonSql();
    await expect(
      sql.transaction([
        sql`INSERT INTO audit_events (actor_type, action, org_id, target_type, target_id) VALUES ('user', 'member.remove', ${a.org.id}, 'user', 'x')`,
        sql`SELECT 1 / 0`,
      ]),
    ).rejects.toThrow();
    const after = await rawSql<{ n: number }>("SELECT count(*)::int AS n FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE e.org_id = $1", [a.org.id]);
    expect(after[0]!.n).toBe(before[0]!.n);
    expect(await rawSql("SELECT 1 FROM audit_events WHERE org_id = $1 AND action = 'member.remove'", [a.org.id])).toHaveLength(0);
  });
});

describe("global (operator) endpoints, at the function level", () => {
  it("receive subscribed events of every organization and of no organization; org endpoints do not see user events", async () => {
    const a = await ownerWithOrg();
    const orgHook = await createEndpoint(a.token, a.org.slug, ["*"]);
    const global = await globalEndpoint(["user.*", "membership.deleted", "signin.suspicious"]);
    const user = await createVerifiedUser("subject");
    const created = await audit("user.create", { subject: user.id, targetType: "user", targetId: user.id });
    expect((await deliveriesOf(created)).map((r) => [r.endpoint_id, r.event_type])).toEqual([[global, "user.created"]]);
    const removed = await audit("member.remove", { orgId: a.org.id, targetType: "user", targetId: user.id });
    expect((await deliveriesOf(removed)).map((r) => r.endpoint_id).sort()).toEqual([global, orgHook.id].sort());
    const signin = await audit("signin.success", { subject: user.id, targetType: "user", targetId: user.id, flags: ["new_country"], metadata: { method: "github" } });
    const rows = (await deliveriesOf(signin)).filter((r) => r.endpoint_id === global);
    expect(rows.map((r) => r.event_type)).toEqual(["signin.suspicious"]);
    expect(rows[0]!.payload).toMatchObject({ data: { flags: ["new_country"], details: { method: "github" } } });
  });

  it("are listed, changed and deleted only in the global scope, never through an organization", async () => {
    const global = await globalEndpoint(["user.deleted"]);
    const db = await testDb();
    const listed = await listWebhookEndpoints(db, operator);
    expect(listed.ok && listed.value.some((e) => e.id === global && e.orgId === null)).toBe(true);
    const a = await ownerWithOrg();
    const asOrg: WebhookScope = { kind: "org", actorId: a.userId, org: { kind: "id", id: a.org.id } };
    const orgList = await listWebhookEndpoints(db, asOrg);
    expect(orgList.ok && orgList.value.some((e) => e.id === global)).toBe(false);
    expect(await updateWebhookEndpoint(db, asOrg, global, { enabled: false })).toEqual({ ok: false, refusal: "not_found" });
    expect(await deleteWebhookEndpoint(db, asOrg, global)).toEqual({ ok: false, refusal: "not_found" });
    const [row] = await rawSql<{ enabled: boolean }>("SELECT enabled FROM webhook_endpoints WHERE id = $1", [global]);
    expect(row!.enabled).toBe(true);
    const changed = await updateWebhookEndpoint(db, operator, global, { eventTypes: ["user.deleted", "user.created"] });
    expect(changed.ok && changed.value.eventTypes).toEqual(["user.deleted", "user.created"]);
    const audited = await rawSql<{ action: string; org_id: string | null }>("SELECT action, org_id FROM audit_events WHERE target_id = $1 ORDER BY id", [global]);
    expect(audited).toEqual([
      { action: "webhook.endpoint_create", org_id: null },
      { action: "webhook.endpoint_update", org_id: null },
    ]);
  });
});
