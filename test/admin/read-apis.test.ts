/**
 * The audit read APIs: a user's own activity (`GET /auth/events`), an
 * organization's for its owners and admins (`GET /api/orgs/:org/events`),
 * everything for operators (`GET /api/admin/events`). Keyset pages by id,
 * newest first, opaque cursors, filters; one round trip each; nobody sees
 * events that are not theirs to see.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers/app";
import { rawSql } from "../helpers/neon-local";
import { accessTokenFor, addMembership, api, createOrgAs, createVerifiedUser } from "../helpers/orgs";
import { cookieHeader, resetRoundTrips, roundTrips, signInAs } from "../helpers/sessions";
import { adminApi, adminEnv, page, signedInOperator } from "./helpers";

beforeEach(async () => {
  await resetRoundTrips();
});

type Page = { events: { id: string; action: string; ip: string | null; country: string | null; orgId: string | null }[]; next: string | null };

async function event(subject: string | null, action: string, orgId: string | null = null, extra: { country?: string; ua?: string } = {}): Promise<void> {
  await rawSql(
    "INSERT INTO audit_events (actor_type, actor_id, action, subject_user_id, org_id, ip, country, user_agent) VALUES ('user', $1, $2, $6::uuid, $3, '198.51.100.7', $4, $5)",
    [subject, action, orgId, extra.country ?? "KR", extra.ua ?? null, subject],
  );
}

describe("GET /auth/events (own activity)", () => {
  it("pages the user's own events newest first in one round trip each; filters by action and time", async () => {
    const ada = await createVerifiedUser("ada");
    const bob = await createVerifiedUser("bob");
    for (const a of ["signin.success", "signout", "signin.success", "session.revoke", "signin.failure"]) await event(ada.id, a);
    await event(bob.id, "signin.success");
    const s = await signInAs(ada.id);
    const e = adminEnv(null);
    await resetRoundTrips();
    const first = (await (await page("/auth/events?limit=2", s.cookieHeader, e)).json()) as Page;
    expect(await roundTrips()).toBe(1);
    expect(first.events.map((x) => x.action)).toEqual(["signin.failure", "session.revoke"]);
    const second = (await (await page(`/auth/events?limit=2&cursor=${first.next}`, s.cookieHeader, e)).json()) as Page;
    expect(second.events.map((x) => x.action)).toEqual(["signin.success", "signout"]);
    const third = (await (await page(`/auth/events?limit=2&cursor=${second.next}`, s.cookieHeader, e)).json()) as Page;
    expect(third.events.map((x) => x.action)).toEqual(["signin.success"]);
    expect(third.next).toBeNull();
    const ids = [...first.events, ...second.events, ...third.events].map((x) => BigInt(x.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : 1)));
    const filtered = (await (await page("/auth/events?action=signin.success,signout", s.cookieHeader, e)).json()) as Page;
    expect(filtered.events.map((x) => x.action)).toEqual(["signin.success", "signout", "signin.success"]);
    const future = (await (await page("/auth/events?since=2999-01-01T00:00:00Z", s.cookieHeader, e)).json()) as Page;
    expect(future.events).toEqual([]);
    // Through the refresh token only (the proof is checked in the same round trip).
    const viaRefresh = (await (await page("/auth/events?limit=1", cookieHeader({ refresh: s.refreshToken }), e)).json()) as Page;
    expect(viaRefresh.events).toHaveLength(1);
  });

  it("leaves out the address and device of events someone else caused (an operator's)", async () => {
    const op = await createVerifiedUser("op");
    const ada = await createVerifiedUser("ada");
    await rawSql(
      "INSERT INTO audit_events (actor_type, actor_id, action, subject_user_id, ip, country, user_agent) VALUES ('user', $1, 'user.enable', $2::uuid, '203.0.113.99', 'DE', 'curl/8')",
      [op.id, ada.id],
    );
    await event(ada.id, "signin.success");
    const s = await signInAs(ada.id);
    const e = adminEnv(null);
    const own = (await (await page("/auth/events", s.cookieHeader, e)).json()) as Page;
    expect(own.events.map((x) => [x.action, x.ip, x.country])).toEqual([
      ["signin.success", "198.51.100.7", "KR"],
      ["user.enable", null, null],
    ]);
    const html = await (await page("/account", s.cookieHeader, e)).text();
    expect(html).not.toContain("203.0.113.99");
  });

  it("401 without a session or with a forged refresh token; 400 for malformed filters", async () => {
    const ada = await createVerifiedUser("ada");
    const s = await signInAs(ada.id);
    const e = adminEnv(null);
    expect((await page("/auth/events", null, e)).status).toBe(401);
    const forged = `${s.sessionId}.${"A".repeat(43)}.${"B".repeat(43)}`;
    expect((await page("/auth/events", cookieHeader({ refresh: forged }), e)).status).toBe(401);
    for (const [query, field] of [["limit=500", "limit"], ["cursor=x!", "cursor"], ["since=yesterday", "since"], ["action=DROP TABLE", "action"]]) {
      const res = await page(`/auth/events?${query}`, s.cookieHeader, e);
      expect(res.status, query).toBe(400);
      expect(await res.json()).toMatchObject({ code: "InvalidRequest", field });
    }
  });
});

describe("GET /api/orgs/:org/events", () => {
  it("owners and admins read their organization's events; members get 403, strangers 404, nothing of other orgs", async () => {
    const owner = await createVerifiedUser("owner");
    const admin = await createVerifiedUser("admin");
    const member = await createVerifiedUser("member");
    const stranger = await createVerifiedUser("stranger");
    const ownerToken = await accessTokenFor(owner.id);
    const acme = await createOrgAs(ownerToken, "Acme");
    const other = await createOrgAs(ownerToken, "Other");
    await addMembership(acme.id, admin.id, "admin");
    await addMembership(acme.id, member.id, "member");
    await event(owner.id, "member.add", acme.id);
    await event(owner.id, "member.add", other.id);
    const scope = "org-events";
    const get = async (userId: string) => api(await accessTokenFor(userId), "GET", `/api/orgs/${acme.slug}/events`, undefined, { scope });
    for (const who of [owner, admin]) {
      const res = await get(who.id);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Page;
      expect(body.events.map((x) => x.action)).toEqual(["member.add", "org.create"]);
      expect(body.events.every((x) => x.orgId === acme.id)).toBe(true);
    }
    const denied = await get(member.id);
    expect(denied.status).toBe(403);
    expect(await denied.text()).not.toContain("member.add");
    const hidden = await get(stranger.id);
    expect(hidden.status).toBe(404);
    expect(await hidden.text()).not.toContain("member.add");
    const filtered = (await (await api(ownerToken, "GET", `/api/orgs/${acme.slug}/events?action=org.create&limit=1`)).json()) as Page;
    expect(filtered.events.map((x) => x.action)).toEqual(["org.create"]);
    expect(filtered.next).toBeNull();
  });
});

describe("GET /api/admin/events", () => {
  it("operators see every event, filtered by user, org and action, paged", async () => {
    const op = await signedInOperator();
    const e = adminEnv([op.id]);
    const ada = await createVerifiedUser("ada");
    const owner = await createVerifiedUser("owner");
    const org = await createOrgAs(await accessTokenFor(owner.id), "Acme");
    for (let i = 0; i < 3; i++) await event(ada.id, "signin.success");
    await event(owner.id, "member.add", org.id);
    await resetRoundTrips();
    const res = await adminApi(op.token, "GET", `/api/admin/events?user=${ada.id}&limit=2`, e);
    expect(res.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    const first = (await res.json()) as Page;
    expect(first.events).toHaveLength(2);
    const rest = (await (await adminApi(op.token, "GET", `/api/admin/events?user=${ada.id}&limit=2&cursor=${first.next}`, e)).json()) as Page;
    expect(rest.events).toHaveLength(1);
    expect(rest.next).toBeNull();
    const byOrg = (await (await adminApi(op.token, "GET", `/api/admin/events?org=${org.id}`, e)).json()) as Page;
    expect(byOrg.events.map((x) => x.action).sort()).toEqual(["member.add", "org.create"]);
    const all = (await (await adminApi(op.token, "GET", "/api/admin/events?action=member.add&limit=100", e)).json()) as Page;
    expect(all.events.length).toBeGreaterThanOrEqual(1);
    expect(all.events.every((x) => x.action === "member.add")).toBe(true);
    expect((await adminApi(op.token, "GET", "/api/admin/events?user=nope", e)).status).toBe(400);
  });
});

describe("the account page's Recent activity", () => {
  it("lists the user's events in words with device, country and address, in the page's language", async () => {
    const ada = await createVerifiedUser("ada");
    const chrome = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    await event(ada.id, "signin.success", null, { country: "JP", ua: chrome });
    const s = await signInAs(ada.id);
    const e = adminEnv(null);
    await resetRoundTrips();
    const html = await (await page("/account", s.cookieHeader, e)).text();
    expect(await roundTrips()).toBe(1);
    expect(html).toContain("Recent activity");
    expect(html).toContain("Signed in");
    expect(html).toContain("Chrome on macOS");
    expect(html).toContain("JP · 198.51.100.7");
    const ko = await (await call("/account?lang=ko", { headers: { accept: "text/html", cookie: s.cookieHeader } }, { env: e })).text();
    expect(ko).toContain("최근 활동");
    expect(ko).toContain("로그인");
  });
});
