/**
 * `/api/admin…`: who gets in (operators named by ADMIN_USER_IDS, with a
 * `gatehouse:admin` token of their own session), search, detail, and the
 * writes (disable, enable, delete, revoke): each one round trip with its
 * audit row, sessions denylisted at once.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers/app";
import { rawSql } from "../helpers/neon-local";
import { addMembership, createAccount, createOrgAs, createPersonalOrg, createVerifiedUser, accessTokenFor, countRows } from "../helpers/orgs";
import { cookieHeader, resetRoundTrips, roundTrips, signInAs } from "../helpers/sessions";
import { adminApi, adminEnv, auditCount, auditOf, expectRefused, page, signedInOperator } from "./helpers";

beforeEach(async () => {
  await resetRoundTrips();
});

describe("who may call /api/admin", () => {
  it("refuses a non-operator, a wrong scope, an impersonated token, no token, and everyone when ADMIN_USER_IDS is unset", async () => {
    const op = await signedInOperator();
    const target = await createVerifiedUser("target");
    const e = adminEnv([op.id]);
    const stranger = await signedInOperator("stranger");
    const orgsScoped = await signedInOperator("orgs-scoped", "gatehouse:orgs");
    const acting = await signedInOperator("acting", "gatehouse:admin", op.id);
    const eOrgs = adminEnv([orgsScoped.id]);
    const eActing = adminEnv([acting.id, op.id]);
    await resetRoundTrips();
    const cases: [Response, number][] = [
      [await adminApi(stranger.token, "POST", `/api/admin/users/${target.id}/disable`, e), 403],
      [await adminApi(orgsScoped.token, "POST", `/api/admin/users/${target.id}/disable`, eOrgs), 403],
      [await adminApi(acting.token, "POST", `/api/admin/users/${target.id}/disable`, eActing), 403],
      [await adminApi(null, "POST", `/api/admin/users/${target.id}/disable`, e), 401],
      [await adminApi(op.token, "POST", `/api/admin/users/${target.id}/disable`, adminEnv(null)), 403],
      [await adminApi(op.token, "POST", `/api/admin/users/${target.id}/disable`, adminEnv([])), 403],
      [await adminApi(stranger.token, "GET", "/api/admin/users?q=target", e), 403],
      [await adminApi(stranger.token, "GET", "/api/admin/events", e), 403],
    ];
    for (const [res, status] of cases) {
      expectRefused(res, status);
      expect(((await res.json()) as { code: string }).code).toBe(status === 401 ? "Unauthorized" : "Forbidden");
    }
    expect(await roundTrips()).toBe(0);
    const [row] = await rawSql<{ disabled_at: unknown }>("SELECT disabled_at FROM users WHERE id = $1", [target.id]);
    expect(row!.disabled_at).toBeNull();
    expect(await auditCount(target.id)).toBe(0);
  });

  it("POST /auth/token grants gatehouse:admin only to an operator's own session", async () => {
    const op = await signedInOperator();
    const user = await signedInOperator("plain");
    const e = adminEnv([op.id]);
    const ask = (cookie: string) => fetchToken(cookie, e);
    const granted = await ask(op.session.cookieHeader);
    expect(granted.status).toBe(200);
    expect(((await granted.json()) as { scope: string }).scope).toBe("gatehouse:admin");
    const refused = await ask(user.session.cookieHeader);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string; field: string })).toMatchObject({ code: "Forbidden", field: "scope" });
  });
});

function fetchToken(cookie: string, e: Env): Promise<Response> {
  return call(
    "/auth/token",
    {
      method: "POST",
      headers: { cookie, origin: "https://auth.example.com", "content-type": "application/json" },
      body: JSON.stringify({ resource: "https://auth.example.com/api", scope: "gatehouse:admin" }),
    },
    { env: e },
  );
}

describe("search and detail", () => {
  it("finds users by email, name, id and provider subject, newest first, with opaque cursors", async () => {
    const op = await signedInOperator();
    const e = adminEnv([op.id]);
    const tag = crypto.randomUUID().slice(0, 8);
    const a = await createVerifiedUser(`zed${tag}`);
    const b = await createVerifiedUser(`zed${tag}`);
    const c = await createVerifiedUser(`zed${tag}`);
    const account = await createAccount(a.id, "github");
    await resetRoundTrips();
    const first = await adminApi(op.token, "GET", `/api/admin/users?q=ZED${tag}&limit=2`, e);
    expect(first.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    const one = (await first.json()) as { users: { id: string }[]; next: string | null };
    expect(one.users.map((u) => u.id)).toEqual([c.id, b.id]);
    expect(one.next).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = (await (await adminApi(op.token, "GET", `/api/admin/users?q=zed${tag}&limit=2&cursor=${one.next}`, e)).json()) as typeof one;
    expect(second.users.map((u) => u.id)).toEqual([a.id]);
    expect(second.next).toBeNull();
    for (const q of [a.email, a.id.toUpperCase(), account.subject]) {
      const found = (await (await adminApi(op.token, "GET", `/api/admin/users?q=${encodeURIComponent(q)}`, e)).json()) as typeof one;
      expect(found.users.map((u) => u.id)).toContain(a.id);
      expect(found.users.map((u) => u.id)).not.toContain(b.id);
    }
    // Wildcards are literal.
    const none = (await (await adminApi(op.token, "GET", `/api/admin/users?q=${encodeURIComponent("%_%")}`, e)).json()) as typeof one;
    expect(none.users).toEqual([]);
    for (const bad of ["cursor=nope!", "cursor=WyJ4Il0", "limit=0", "limit=101"]) {
      const res = await adminApi(op.token, "GET", `/api/admin/users?${bad}`, e);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe("InvalidRequest");
    }
  });

  it("shows a user's accounts, live sessions, organizations and events in one round trip", async () => {
    const op = await signedInOperator();
    const e = adminEnv([op.id]);
    const ada = await createVerifiedUser("ada");
    await createAccount(ada.id, "github");
    const personal = await createPersonalOrg(ada.id);
    const s = await signInAs(ada.id);
    const gone = await signInAs(ada.id);
    await rawSql("UPDATE sessions SET revoked_at = now() WHERE id = $1", [gone.sessionId]);
    const credentialId = `cred${crypto.randomUUID().replaceAll("-", "")}`;
    await rawSql(
      "INSERT INTO passkeys (user_id, credential_id, public_key, device_type, backed_up, name) VALUES ($1, $2, '\\x00'::bytea, 'multiDevice', true, 'Laptop')",
      [ada.id, credentialId],
    );
    await resetRoundTrips();
    const res = await adminApi(op.token, "GET", `/api/admin/users/${ada.id}`, e);
    expect(res.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    const body = (await res.json()) as { user: { id: string; email: string }; accounts: unknown[]; sessions: { id: string }[]; organizations: { id: string }[]; events: unknown[] };
    expect(body.user).toMatchObject({ id: ada.id, email: ada.email, disabledAt: null });
    expect(body.accounts).toHaveLength(1);
    expect(body.sessions.map((x) => x.id)).toEqual([s.sessionId]);
    expect(body.organizations.map((o) => o.id)).toEqual([personal.id]);
    expect((body as unknown as { passkeys: unknown[] }).passkeys).toMatchObject([{ name: "Laptop", deviceType: "multiDevice", backedUp: true, lastUsedAt: null }]);
    expect(Array.isArray(body.events)).toBe(true);
    expect(JSON.stringify(body)).not.toMatch(/secret_hash|secretHash|ciphertext/);
    expect(JSON.stringify(body)).not.toContain(credentialId);
    expectRefused(await adminApi(op.token, "GET", `/api/admin/users/${crypto.randomUUID()}`, e), 404);
    expectRefused(await adminApi(op.token, "GET", "/api/admin/users/not-a-uuid", e), 404);
  });
});

describe("disable and enable", () => {
  it("disables in one round trip: every session and refresh family revoked and denylisted, one audit row", async () => {
    const op = await signedInOperator();
    const e = adminEnv([op.id]);
    const ada = await createVerifiedUser("ada");
    const phone = await signInAs(ada.id);
    const laptop = await signInAs(ada.id);
    await resetRoundTrips();
    const res = await adminApi(op.token, "POST", `/api/admin/users/${ada.id}/disable`, e);
    expect(res.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    const body = (await res.json()) as { changed: boolean; revokedSessions: string[] };
    expect(body.changed).toBe(true);
    expect(body.revokedSessions.sort()).toEqual([phone.sessionId, laptop.sessionId].sort());
    expect(await countRows("sessions", "user_id = $1 AND revoked_at IS NULL", [ada.id])).toBe(0);
    // The session JWT, still within its lifetime, is refused at once (denylist)…
    expect((await page("/auth/session", cookieHeader({ session: phone.sessionJwt }), e)).status).toBe(401);
    // …and so is the refresh token.
    const refreshed = await page("/auth/session", cookieHeader({ refresh: laptop.refreshToken }), e);
    expect(refreshed.status).toBe(401);
    expect(await countRows("sessions", "user_id = $1 AND revoked_at IS NULL", [ada.id])).toBe(0);
    const rows = await auditOf(ada.id);
    expect(rows.map((r) => r.action)).toEqual(["user.disable"]);
    expect(rows[0]).toMatchObject({ actor_id: op.id, subject_user_id: ada.id, target_id: ada.id, metadata: { sessions_revoked: 2 } });
    expect(rows[0]!.request_id).toBeTruthy();
    // Again: nothing changes, no second audit row.
    const again = await adminApi(op.token, "POST", `/api/admin/users/${ada.id}/disable`, e);
    expect(((await again.json()) as { changed: boolean }).changed).toBe(false);
    expect((await auditOf(ada.id)).length).toBe(1);

    await resetRoundTrips();
    const enabled = await adminApi(op.token, "POST", `/api/admin/users/${ada.id}/enable`, e);
    expect(enabled.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    expect(((await enabled.json()) as { changed: boolean }).changed).toBe(true);
    expect((await auditOf(ada.id)).map((r) => r.action)).toEqual(["user.disable", "user.enable"]);
  });

  it("refuses to disable or delete the operator themself, and answers 404 for nobody", async () => {
    const op = await signedInOperator();
    const e = adminEnv([op.id]);
    expectRefused(await adminApi(op.token, "POST", `/api/admin/users/${op.id}/disable`, e), 400);
    expectRefused(await adminApi(op.token, "DELETE", `/api/admin/users/${op.id}`, e), 400);
    expectRefused(await adminApi(op.token, "POST", `/api/admin/users/${crypto.randomUUID()}/disable`, e), 404);
    expect(await auditCount(op.id)).toBe(0);
  });
});

describe("delete (erasure)", () => {
  it("erases the user and everything of theirs in one round trip; one audit row without personal data remains", async () => {
    const op = await signedInOperator();
    const e = adminEnv([op.id]);
    const ada = await createVerifiedUser("ada");
    await createAccount(ada.id, "github");
    const personal = await createPersonalOrg(ada.id);
    const owner = await createVerifiedUser("owner");
    const shared = await createOrgAs(await accessTokenFor(owner.id), "Shared");
    await addMembership(shared.id, ada.id, "member");
    const s = await signInAs(ada.id);
    // Some history of hers (written by hand: the write side belongs elsewhere).
    await rawSql("INSERT INTO audit_events (actor_type, actor_id, action, subject_user_id, ip) VALUES ('user', $1, 'signin.success', $2::uuid, '198.51.100.1')", [ada.id, ada.id]);
    await resetRoundTrips();
    const res = await adminApi(op.token, "DELETE", `/api/admin/users/${ada.id}`, e);
    expect(res.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    expect(await res.json()).toEqual({ deleted: ada.id, revokedSessions: [s.sessionId] });
    expect(await countRows("users", "id = $1", [ada.id])).toBe(0);
    expect(await countRows("accounts", "user_id = $1", [ada.id])).toBe(0);
    expect(await countRows("sessions", "user_id = $1", [ada.id])).toBe(0);
    expect(await countRows("memberships", "user_id = $1", [ada.id])).toBe(0);
    expect(await countRows("organizations", "id = $1", [personal.id])).toBe(0);
    expect(await countRows("organizations", "id = $1", [shared.id])).toBe(1);
    const left = await rawSql<Record<string, unknown>>("SELECT * FROM audit_events WHERE subject_user_id::text = $1 OR target_id = $1 OR actor_id = $1", [ada.id]);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ action: "user.delete", actor_id: op.id, subject_user_id: null, target_type: "user", target_id: ada.id, metadata: {} });
    expect(JSON.stringify(left[0])).not.toContain(ada.email);
    expect((await page("/auth/session", cookieHeader({ session: s.sessionJwt }), e)).status).toBe(401);
    expectRefused(await adminApi(op.token, "DELETE", `/api/admin/users/${ada.id}`, e), 404);
  });
});

describe("revoke sessions", () => {
  it("revokes one session or all, each one round trip with a session.revoke row per session", async () => {
    const op = await signedInOperator();
    const e = adminEnv([op.id]);
    const ada = await createVerifiedUser("ada");
    const a = await signInAs(ada.id);
    const b = await signInAs(ada.id);
    const c = await signInAs(ada.id);
    await resetRoundTrips();
    const one = await adminApi(op.token, "DELETE", `/api/admin/users/${ada.id}/sessions/${a.sessionId}`, e);
    expect(one.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    expect(await one.json()).toEqual({ revokedSessions: [a.sessionId] });
    expect((await page("/auth/session", cookieHeader({ session: a.sessionJwt }), e)).status).toBe(401);
    expect((await page("/auth/session", cookieHeader({ session: b.sessionJwt }), e)).status).toBe(200);
    expectRefused(await adminApi(op.token, "DELETE", `/api/admin/users/${ada.id}/sessions/${a.sessionId}`, e), 404);
    const other = await createVerifiedUser("other");
    expectRefused(await adminApi(op.token, "DELETE", `/api/admin/users/${other.id}/sessions/${b.sessionId}`, e), 404);
    const all = await adminApi(op.token, "DELETE", `/api/admin/users/${ada.id}/sessions`, e);
    expect(((await all.json()) as { revokedSessions: string[] }).revokedSessions.sort()).toEqual([b.sessionId, c.sessionId].sort());
    const rows = await auditOf(ada.id);
    expect(rows.map((r) => r.action)).toEqual(["session.revoke", "session.revoke", "session.revoke"]);
    expect(rows[0]).toMatchObject({ actor_id: op.id, metadata: { session_id: a.sessionId, by: "operator" } });
  });
});
