/** GET /auth/session: what a page or SPA learns about the signed-in user. */
import { beforeEach, describe, expect, it } from "vitest";
import { rawSql } from "../helpers/neon-local";
import { callWorker, cookieHeader, createTestUser, resetRoundTrips, roundTrips, setCookies, signInAs } from "../helpers/sessions";

describe("GET /auth/session", () => {
  beforeEach(async () => {
    await resetRoundTrips();
  });

  it("answers from a valid session JWT with zero database round trips", async () => {
    const userId = await createTestUser({ email: "ada@example.com", name: "Ada", image: "https://img.example/ada.png" });
    const s = await signInAs(userId);
    await resetRoundTrips();
    const res = await callWorker("/auth/session", { headers: { cookie: s.cookieHeader } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { session: { expiresAt: string } };
    expect(body).toMatchObject({
      user: { id: userId, email: "ada@example.com", name: "Ada", image: "https://img.example/ada.png" },
      session: { id: s.sessionId },
    });
    expect(Date.parse(body.session.expiresAt)).toBeGreaterThan(Date.now() + 29 * 86400_000);
    expect(await roundTrips()).toBe(0);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("answers from the refresh token alone with one round trip, and the profile from the database", async () => {
    const userId = await createTestUser({ email: "grace@example.com", name: "Grace", image: null });
    const s = await signInAs(userId);
    await resetRoundTrips();
    const res = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ refresh: s.refreshToken }) } });
    expect(res.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    expect(await res.json()).toMatchObject({ user: { id: userId, email: "grace@example.com", name: "Grace", image: null }, session: { id: s.sessionId } });
    expect(setCookies(res).get("__Host-gh_refresh")?.value).not.toBe(s.refreshToken);
  });

  it("says whether the email is verified, from the session JWT and from the refresh token", async () => {
    const unverified = await createTestUser({ email: "eve@example.com" });
    const verified = await createTestUser({ email: "val@example.com" });
    await rawSql("UPDATE users SET email_verified_at = now() WHERE id = $1", [verified]);
    for (const [userId, expected] of [[unverified, false], [verified, true]] as const) {
      const s = await signInAs(userId);
      const fromJwt = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ session: s.sessionJwt }) } });
      expect(await fromJwt.json()).toMatchObject({ user: { id: userId, emailVerified: expected } });
      const fromRefresh = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ refresh: s.refreshToken }) } });
      expect(await fromRefresh.json()).toMatchObject({ user: { id: userId, emailVerified: expected } });
    }
  });

  it("is a 401 JSON without cookies, with no cookie set and no database", async () => {
    const res = await callWorker("/auth/session", { headers: { accept: "text/html" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toMatchObject({ code: "Unauthorized", error: "unauthorized" });
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await roundTrips()).toBe(0);
  });

  it("gives credentialed CORS headers to an allowed origin only, and refuses POST", async () => {
    const s = await signInAs(await createTestUser());
    const allowed = await callWorker("/auth/session", { headers: { cookie: s.cookieHeader, origin: "http://localhost:5173" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    const evil = await callWorker("/auth/session", { headers: { cookie: s.cookieHeader, origin: "https://evil.example" } });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    const post = await callWorker("/auth/session", { method: "POST", headers: { cookie: s.cookieHeader, origin: "https://auth.example.com" } });
    expect(post.status).toBe(405);
  });
});
