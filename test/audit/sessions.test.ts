/**
 * The audit rows of sign-out, session revocation (the API and the account
 * page) and refresh-token reuse: one row per session ended, written by the
 * statement that ends it, in the same single round trip.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { rawSql } from "../helpers/neon-local";
import { callWorker, cookieHeader, createTestUser, resetRoundTrips, roundTrips, setCookies, signInAs } from "../helpers/sessions";
import { signedInUser } from "../account/helpers";
import { contextHeaders, expectNoSecrets, newRay, rowsOfRequest } from "./helpers";

const ORIGIN = "https://auth.example.com";
const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

async function send(path: string, init: { method: string; cookie: string; headers?: Record<string, string> }) {
  const ray = newRay();
  await resetRoundTrips();
  const response = await callWorker(path, { method: init.method, headers: { ...contextHeaders(UA, ray), origin: ORIGIN, cookie: init.cookie, ...init.headers } });
  return { response, roundTrips: await roundTrips(), rows: await rowsOfRequest(ray), ray };
}

beforeEach(async () => {
  await resetRoundTrips();
});

describe("session audit events", () => {
  it("sign-out writes one signout row for the session, in its one round trip; signing out twice writes nothing more", async () => {
    const userId = await createTestUser();
    const s = await signInAs(userId);
    const out = await send("/auth/signout", { method: "POST", cookie: s.cookieHeader, headers: { accept: "application/json" } });
    expect(out.response.status).toBe(200);
    expect(out.roundTrips).toBe(1);
    expect(out.rows).toHaveLength(1);
    expect(out.rows[0]).toMatchObject({
      action: "signout",
      actor_type: "user",
      actor_id: userId,
      subject_user_id: userId,
      target_type: "session",
      target_id: s.sessionId,
      metadata: { session_id: s.sessionId, scope: "current" },
      user_agent: UA,
      request_id: out.ray,
    });
    expectNoSecrets(out.rows, [s.refreshToken.split(".")[2]!, s.sessionJwt]);
    const again = await send("/auth/signout", { method: "POST", cookie: s.cookieHeader, headers: { accept: "application/json" } });
    expect(again.rows).toEqual([]);
  });

  it("sign-out of every session writes a row per session revoked", async () => {
    const userId = await createTestUser();
    const a = await signInAs(userId);
    const b = await signInAs(userId);
    const out = await send("/auth/signout?scope=all", { method: "POST", cookie: a.cookieHeader, headers: { accept: "application/json" } });
    expect(out.roundTrips).toBe(1);
    expect(out.rows.map((r) => r.target_id).sort()).toEqual([a.sessionId, b.sessionId].sort());
    expect(out.rows.every((r) => r.action === "signout" && r.metadata.scope === "all" && r.subject_user_id === userId)).toBe(true);
  });

  it("DELETE /auth/sessions/:id and the account page's revoke write session.revoke; another user's session writes nothing", async () => {
    const userId = await createTestUser();
    const me = await signInAs(userId);
    const laptop = await signInAs(userId);
    const phone = await signInAs(userId);
    const api = await send(`/auth/sessions/${laptop.sessionId}`, { method: "DELETE", cookie: me.cookieHeader });
    expect(api.response.status).toBe(200);
    expect(api.roundTrips).toBe(1);
    expect(api.rows).toHaveLength(1);
    expect(api.rows[0]).toMatchObject({ action: "session.revoke", subject_user_id: userId, target_id: laptop.sessionId, metadata: { session_id: laptop.sessionId } });

    const page = await send(`/account/sessions/${phone.sessionId}/revoke`, { method: "POST", cookie: me.cookieHeader });
    expect(page.response.status).toBe(303);
    expect(page.roundTrips).toBe(1);
    expect(page.rows).toHaveLength(1);
    expect(page.rows[0]).toMatchObject({ action: "session.revoke", subject_user_id: userId, target_id: phone.sessionId });

    const other = await signInAs(await createTestUser());
    const refused = await send(`/auth/sessions/${other.sessionId}`, { method: "DELETE", cookie: me.cookieHeader });
    expect(refused.response.status).toBe(404);
    expect(refused.rows).toEqual([]);
  });

  it("a reused refresh token writes refresh.reuse_detected in the statement that revokes the family", async () => {
    const userId = await createTestUser();
    const s = await signInAs(userId);
    const first = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ refresh: s.refreshToken }) } });
    expect(setCookies(first).get("__Host-gh_refresh")).toBeDefined();
    await rawSql("UPDATE sessions SET rotated_at = rotated_at - interval '11 seconds' WHERE id = $1", [s.sessionId]);
    const reuse = await send("/auth/session", { method: "GET", cookie: cookieHeader({ refresh: s.refreshToken }) });
    expect(reuse.response.status).toBe(401);
    expect(reuse.roundTrips).toBe(1);
    expect(reuse.rows).toHaveLength(1);
    expect(reuse.rows[0]).toMatchObject({
      action: "refresh.reuse_detected",
      actor_type: "anonymous",
      actor_id: null,
      subject_user_id: userId,
      target_type: "session",
      target_id: s.sessionId,
      metadata: { family_id: s.sessionId },
      user_agent: UA,
    });
    expectNoSecrets(reuse.rows, [s.refreshToken.split(".")[1]!, s.refreshToken.split(".")[2]!]);
    // A rotation is not an event.
    const [{ n }] = (await rawSql<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE subject_user_id = $1`, [userId])) as [{ n: number }];
    expect(n).toBe(1);
  });
});

describe("the account page's other audited actions carry the request and the subject", () => {
  it("unlinking a method: account.unlink with subject, client address, User-Agent and request id, in one round trip", async () => {
    const ada = await signedInUser(["github", "google"]);
    const ray = newRay();
    await resetRoundTrips();
    const res = await callWorker("/account/unlink/google", {
      method: "POST",
      headers: { ...contextHeaders(UA, ray, "203.0.113.9"), origin: ORIGIN, cookie: ada.session.cookieHeader, "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(res.status).toBe(303);
    expect(await roundTrips()).toBe(1);
    const rows = await rowsOfRequest(ray);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: "account.unlink",
      actor_id: ada.userId,
      subject_user_id: ada.userId,
      target_id: ada.accounts.google,
      ip: "203.0.113.9",
      user_agent: UA,
      request_id: ray,
    });
  });
});
