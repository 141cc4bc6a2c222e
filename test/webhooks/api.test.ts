/**
 * The management API: org owners and admins register, list, change, delete
 * and re-key their organization's endpoints, page through deliveries and
 * replay them; each write is one audited round trip. Refusals (bad input,
 * members, other organizations) write nothing. Global endpoints go
 * through the real `/api/admin/webhooks` mount and its operator guard.
 */
import { describe, expect, it } from "vitest";
import { checkEndpointUrl } from "../../src/webhooks/url";
import { adminApi, adminEnv, signedInOperator } from "../admin/helpers";
import { rawSql, stats } from "../helpers/neon-local";
import { accessTokenFor, addMembership, api, countRows, createVerifiedUser } from "../helpers/orgs";
import { createEndpoint, ownerWithOrg, RECEIVER } from "./helpers";

async function counted<T>(scope: string, run: () => Promise<T>): Promise<{ value: T; trips: number }> {
  const before = (await stats(scope)).requests;
  const value = await run();
  return { value, trips: (await stats(scope)).requests - before };
}

function writesOf(orgId: string) {
  return countRows("audit_events", "org_id = $1 AND action LIKE 'webhook.%'", [orgId]);
}

describe("org webhook endpoints", () => {
  it("create returns the secret once (stored sealed), list/update/rotate/delete are one audited round trip each", async () => {
    const o = await ownerWithOrg();
    const base = `/api/orgs/${o.org.slug}/webhooks`;
    const create = await counted("wh-api-create", () =>
      api(o.token, "POST", base, { url: `${RECEIVER}/x`, eventTypes: ["membership.*", "client.created", "client.created"] }, { scope: "wh-api-create" }),
    );
    expect(create.value.status).toBe(201);
    expect(create.trips).toBe(1);
    const { endpoint, secret } = (await create.value.json()) as { endpoint: { id: string; eventTypes: string[]; enabled: boolean; orgId: string }; secret: string };
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint).toMatchObject({ eventTypes: ["client.created", "membership.*"], enabled: true, orgId: o.org.id });
    // Sealed at rest: neither the secret nor its key bytes are in the row.
    const [row] = await rawSql<{ hex: string }>("SELECT encode(secret_ciphertext, 'hex') AS hex FROM webhook_endpoints WHERE id = $1", [endpoint.id]);
    const keyHex = Array.from(atob(secret.slice(6)), (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
    expect(row!.hex).not.toContain(keyHex);
    expect(row!.hex).not.toContain(Array.from(new TextEncoder().encode(secret.slice(6, 20)), (b) => b.toString(16).padStart(2, "0")).join(""));

    const list = await api(o.token, "GET", base);
    expect(list.status).toBe(200);
    const listed = await list.text();
    expect(listed).not.toContain("whsec_");
    expect(JSON.parse(listed)).toMatchObject({ endpoints: [{ id: endpoint.id, url: `${RECEIVER}/x` }] });

    const update = await counted("wh-api-update", () =>
      api(o.token, "PATCH", `${base}/${endpoint.id}`, { url: `${RECEIVER}/y`, eventTypes: ["user.updated"], enabled: false }, { scope: "wh-api-update" }),
    );
    expect(update.value.status).toBe(200);
    expect(update.trips).toBe(1);
    expect(await update.value.json()).toMatchObject({ endpoint: { url: `${RECEIVER}/y`, eventTypes: ["user.updated"], enabled: false } });

    const rotate = await counted("wh-api-rotate", () => api(o.token, "POST", `${base}/${endpoint.id}/secret`, undefined, { scope: "wh-api-rotate" }));
    expect(rotate.value.status).toBe(200);
    expect(rotate.trips).toBe(1);

    const del = await counted("wh-api-delete", () => api(o.token, "DELETE", `${base}/${endpoint.id}`, undefined, { scope: "wh-api-delete" }));
    expect(del.value.status).toBe(200);
    expect(del.trips).toBe(1);
    expect(await del.value.json()).toEqual({ deleted: endpoint.id });
    expect(await countRows("webhook_endpoints", "id = $1", [endpoint.id])).toBe(0);
    const audit = await rawSql<{ action: string; actor_id: string }>("SELECT action, actor_id FROM audit_events WHERE target_id = $1 ORDER BY id", [endpoint.id]);
    expect(audit.map((a) => a.action)).toEqual(["webhook.endpoint_create", "webhook.endpoint_update", "webhook.secret_rotate", "webhook.endpoint_delete"]);
    expect(audit.every((a) => a.actor_id === o.userId)).toBe(true);
    expect(JSON.stringify(await rawSql("SELECT metadata FROM audit_events WHERE target_id = $1", [endpoint.id]))).not.toContain("whsec_");
  });

  it("refuses bad URLs and event types with the field named, writing nothing", async () => {
    const o = await ownerWithOrg();
    const base = `/api/orgs/${o.org.slug}/webhooks`;
    const bad: [unknown, string][] = [
      [{ url: "http://hooks.example.net/x", eventTypes: ["*"] }, "url"],
      [{ url: "https://user:pw@hooks.example.net/x", eventTypes: ["*"] }, "url"],
      [{ url: "https://hooks.example.net/x#frag", eventTypes: ["*"] }, "url"],
      [{ url: "not a url", eventTypes: ["*"] }, "url"],
      [{ url: `${RECEIVER}/x`, eventTypes: ["user.exploded"] }, "eventTypes"],
      [{ url: `${RECEIVER}/x`, eventTypes: [] }, "eventTypes"],
      [{ url: `${RECEIVER}/x` }, "eventTypes"],
      [{ url: `${RECEIVER}/x`, eventTypes: ["*"], secret: "whsec_mine" }, "secret"],
    ];
    for (const [body, field] of bad) {
      const res = await api(o.token, "POST", base, body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "InvalidRequest", field });
    }
    expect(await countRows("webhook_endpoints", "org_id = $1", [o.org.id])).toBe(0);
    expect(await writesOf(o.org.id)).toBe(0);
    // http://localhost only in development (the test environment is).
    expect((await api(o.token, "POST", base, { url: "http://localhost:9999/hook", eventTypes: ["*"] })).status).toBe(201);
    expect(checkEndpointUrl("http://localhost:9999/hook", false)).toEqual({ ok: false, problem: "must be https" });
    expect(checkEndpointUrl("http://127.0.0.1/hook", true)).toMatchObject({ ok: true });
  });

  it("members cannot manage webhooks (403) and other organizations' admins see nothing (404); nothing is written", async () => {
    const a = await ownerWithOrg();
    const hook = await createEndpoint(a.token, a.org.slug, ["membership.*"]);
    const member = await createVerifiedUser("member");
    await addMembership(a.org.id, member.id, "member");
    const memberToken = await accessTokenFor(member.id);
    const b = await ownerWithOrg("other");
    const writesBefore = await countRows("audit_events", "target_id = $1", [hook.id]);
    const calls: [string, string, unknown?][] = [
      ["GET", ""],
      ["POST", "", { url: `${RECEIVER}/z`, eventTypes: ["*"] }],
      ["PATCH", `/${hook.id}`, { enabled: false }],
      ["DELETE", `/${hook.id}`],
      ["POST", `/${hook.id}/secret`],
      ["GET", `/${hook.id}/deliveries`],
      ["POST", `/${hook.id}/deliveries/replay`],
      ["POST", `/${hook.id}/deliveries/${crypto.randomUUID()}/replay`],
    ];
    for (const [method, path, body] of calls) {
      const asMember = await api(memberToken, method, `/api/orgs/${a.org.slug}/webhooks${path}`, body);
      expect(asMember.status, `member ${method} ${path}`).toBe(403);
      const outsider = await api(b.token, method, `/api/orgs/${a.org.slug}/webhooks${path}`, body);
      expect(outsider.status, `outsider ${method} ${path}`).toBe(404);
      if (path !== "") {
        // Through their own organization, the other admin cannot reach A's endpoint either.
        const viaOwn = await api(b.token, method, `/api/orgs/${b.org.slug}/webhooks${path}`, body);
        expect(viaOwn.status, `other org ${method} ${path}`).toBe(404);
      }
      expect((await api(null, method, `/api/orgs/${a.org.slug}/webhooks${path}`, body)).status).toBe(401);
    }
    expect(await countRows("webhook_endpoints", "org_id = $1", [a.org.id])).toBe(1);
    expect(await countRows("webhook_endpoints", "org_id = $1", [b.org.id])).toBe(0);
    expect(await countRows("webhook_endpoints", "id = $1 AND enabled", [hook.id])).toBe(1);
    expect(await countRows("audit_events", "target_id = $1", [hook.id])).toBe(writesBefore);
    expect((await api(a.token, "PUT", `/api/orgs/${a.org.slug}/webhooks/${hook.id}`)).status).toBe(405);
  });

  it("deliveries page by keyset, newest first, filter by state; replay one delivery or every dead one", async () => {
    const o = await ownerWithOrg();
    const hook = await createEndpoint(o.token, o.org.slug, ["membership.*"]);
    const member = await createVerifiedUser("member");
    await addMembership(o.org.id, member.id, "member");
    for (const role of ["admin", "member", "admin", "member", "admin"]) {
      expect((await api(o.token, "PATCH", `/api/orgs/${o.org.slug}/members/${member.id}`, { role })).status).toBe(200);
    }
    // Disabled: the dispatcher (test/webhooks/delivery.test.ts) leaves these rows alone.
    expect((await api(o.token, "PATCH", `/api/orgs/${o.org.slug}/webhooks/${hook.id}`, { enabled: false })).status).toBe(200);
    const all = await rawSql<{ id: string }>("SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at DESC, id DESC", [hook.id]);
    expect(all).toHaveLength(5);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await api(o.token, "GET", `/api/orgs/${o.org.slug}/webhooks/${hook.id}/deliveries?limit=2${cursor ? `&before=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { deliveries: { id: string; eventType: string; payload: { type: string } }[]; next: string | null };
      expect(page.deliveries.length).toBeLessThanOrEqual(2);
      for (const d of page.deliveries) expect(d).toMatchObject({ eventType: "membership.updated", payload: { type: "membership.updated" } });
      seen.push(...page.deliveries.map((d) => d.id));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.id));
    expect((await api(o.token, "GET", `/api/orgs/${o.org.slug}/webhooks/${hook.id}/deliveries?limit=0`)).status).toBe(400);
    expect((await api(o.token, "GET", `/api/orgs/${o.org.slug}/webhooks/${hook.id}/deliveries?state=lost`)).status).toBe(400);

    // Known states for every row, whatever a concurrent dispatcher did before the endpoint was disabled.
    await rawSql("UPDATE webhook_deliveries SET state = 'pending', attempts = 0 WHERE id = ANY($1::uuid[])", [[seen[3], seen[4]]]);
    await rawSql("UPDATE webhook_deliveries SET state = 'dead', attempts = 13 WHERE id = ANY($1::uuid[])", [[seen[0], seen[1]]]);
    await rawSql("UPDATE webhook_deliveries SET state = 'delivered', attempts = 1 WHERE id = $1", [seen[2]]);
    const dead = (await (await api(o.token, "GET", `/api/orgs/${o.org.slug}/webhooks/${hook.id}/deliveries?state=dead`)).json()) as { deliveries: { id: string }[] };
    expect(dead.deliveries.map((d) => d.id)).toEqual([seen[0], seen[1]]);

    const one = await counted("wh-api-replay", () => api(o.token, "POST", `/api/orgs/${o.org.slug}/webhooks/${hook.id}/deliveries/${seen[2]}/replay`, undefined, { scope: "wh-api-replay" }));
    expect(one.value.status).toBe(200);
    expect(one.trips).toBe(1);
    expect(await one.value.json()).toEqual({ replayed: 1 });
    const allDead = await counted("wh-api-replay", () => api(o.token, "POST", `/api/orgs/${o.org.slug}/webhooks/${hook.id}/deliveries/replay`, undefined, { scope: "wh-api-replay" }));
    expect(await allDead.value.json()).toEqual({ replayed: 2 });
    expect(allDead.trips).toBe(1);
    expect(await countRows("webhook_deliveries", "endpoint_id = $1 AND state = 'pending' AND attempts = 0", [hook.id])).toBe(5);
    const replays = await rawSql<{ metadata: { count: number } }>("SELECT metadata FROM audit_events WHERE action = 'webhook.replay' AND target_id = $1 ORDER BY id", [hook.id]);
    expect(replays.map((r) => r.metadata.count)).toEqual([1, 2]);
    // Nothing dead left: no replay, no audit row. An unknown delivery is a 404.
    expect(await (await api(o.token, "POST", `/api/orgs/${o.org.slug}/webhooks/${hook.id}/deliveries/replay`)).json()).toEqual({ replayed: 0 });
    expect((await api(o.token, "POST", `/api/orgs/${o.org.slug}/webhooks/${hook.id}/deliveries/${crypto.randomUUID()}/replay`)).status).toBe(404);
    expect(await countRows("audit_events", "action = 'webhook.replay' AND target_id = $1", [hook.id])).toBe(2);
  });

  it("an organization has at most 20 endpoints", async () => {
    const o = await ownerWithOrg();
    for (let i = 0; i < 20; i++) await createEndpoint(o.token, o.org.slug, ["user.updated"]);
    const res = await api(o.token, "POST", `/api/orgs/${o.org.slug}/webhooks`, { url: `${RECEIVER}/one-more`, eventTypes: ["*"] });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: "WebhookEndpointLimit" });
    expect(await countRows("webhook_endpoints", "org_id = $1", [o.org.id])).toBe(20);
  });
});

describe("global endpoints (/api/admin/webhooks)", () => {
  it("operators manage global endpoints; other users, org-scoped tokens and impersonations get 403 and write nothing", async () => {
    const op = await signedInOperator("wh-operator");
    const someone = await signedInOperator("wh-someone");
    const orgsOnly = await signedInOperator("wh-orgs-scope", "gatehouse:orgs");
    const impersonating = await signedInOperator("wh-impersonated", "gatehouse:admin", op.id);
    const e = adminEnv([op.id, orgsOnly.id, impersonating.id]);
    const body = { url: `${RECEIVER}/global`, eventTypes: ["user.deleted"] };
    for (const token of [someone.token, orgsOnly.token, impersonating.token]) {
      const refused = await adminApi(token, "POST", "/api/admin/webhooks", e, body);
      expect(refused.status).toBe(403);
      expect(refused.headers.get("set-cookie")).toBeNull();
    }
    expect(await countRows("webhook_endpoints", "url = $1", [`${RECEIVER}/global`])).toBe(0);

    const created = await adminApi(op.token, "POST", "/api/admin/webhooks", e, body);
    expect(created.status).toBe(201);
    const { endpoint } = (await created.json()) as { endpoint: { id: string; orgId: string | null } };
    expect(endpoint.orgId).toBeNull();
    expect(await countRows("audit_events", "action = 'webhook.endpoint_create' AND actor_id = $1", [op.id])).toBe(1);
    expect((await adminApi(someone.token, "GET", "/api/admin/webhooks", e)).status).toBe(403);
    const listed = (await (await adminApi(op.token, "GET", "/api/admin/webhooks", e)).json()) as { endpoints: { id: string }[] };
    expect(listed.endpoints.map((x) => x.id)).toContain(endpoint.id);
    expect((await adminApi(someone.token, "DELETE", `/api/admin/webhooks/${endpoint.id}`, e)).status).toBe(403);
    expect(await countRows("webhook_endpoints", "id = $1", [endpoint.id])).toBe(1);
    expect((await adminApi(op.token, "DELETE", `/api/admin/webhooks/${endpoint.id}`, e)).status).toBe(200);
    expect(await countRows("webhook_endpoints", "id = $1", [endpoint.id])).toBe(0);
  });
});
