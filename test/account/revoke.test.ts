/**
 * POST /account/sessions/:id/revoke: the account page's revoke button. One
 * UPDATE that proves ownership, then the sid is denylisted so that
 * session's JWT stops working at once.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { rawSql } from "../helpers/neon-local";
import { cookieHeader, resetRoundTrips, roundTrips, setCookies, signInAs } from "../helpers/sessions";
import { expectRefused, getPage, postForm, signedInUser } from "./helpers";

async function revokedAt(sessionId: string): Promise<unknown> {
  const [row] = await rawSql<{ revoked_at: unknown }>("SELECT revoked_at FROM sessions WHERE id = $1", [sessionId]);
  return row?.revoked_at ?? null;
}

describe("POST /account/sessions/:id/revoke", () => {
  beforeEach(async () => {
    await resetRoundTrips();
  });

  it("revokes another session of the same user in one round trip; its JWT stops working at once", async () => {
    const ada = await signedInUser(["github"]);
    const laptop = await signInAs(ada.userId);
    await resetRoundTrips();

    const res = await postForm(`/account/sessions/${laptop.sessionId}/revoke`, ada.session.cookieHeader);

    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/account?notice=revoked");
    expect(await roundTrips()).toBe(1);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await revokedAt(laptop.sessionId)).not.toBeNull();
    expect(await revokedAt(ada.session.sessionId)).toBeNull();
    // The laptop's session JWT is still within its lifetime, but denylisted.
    const after = await getPage("/account", cookieHeader({ session: laptop.sessionJwt }));
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toBe("/auth/signin?redirect_to=%2Faccount");
  });

  it("revoking this device's own session signs it out (cookies cleared, back to sign-in)", async () => {
    const ada = await signedInUser(["github"]);
    const res = await postForm(`/account/sessions/${ada.session.sessionId}/revoke`, ada.session.cookieHeader);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/auth/signin");
    const cookies = setCookies(res);
    expect(cookies.get("__Host-gh_session")?.maxAge).toBe(0);
    expect(cookies.get("__Host-gh_refresh")?.maxAge).toBe(0);
    expect(await revokedAt(ada.session.sessionId)).not.toBeNull();
  });

  it("answers 404 for another user's session and leaves it alive", async () => {
    const ada = await signedInUser(["github"]);
    const bob = await signedInUser(["google"]);
    await resetRoundTrips();
    const res = await postForm(`/account/sessions/${bob.session.sessionId}/revoke`, ada.session.cookieHeader);
    expectRefused(res, 404);
    expect(await roundTrips()).toBe(1);
    expect(await revokedAt(bob.session.sessionId)).toBeNull();
    const bobStill = await getPage("/account", bob.session.cookieHeader);
    expect(bobStill.status).toBe(200);
  });

  it("answers 404 for a malformed id without a query", async () => {
    const ada = await signedInUser(["github"]);
    await resetRoundTrips();
    expectRefused(await postForm("/account/sessions/not-a-uuid/revoke", ada.session.cookieHeader), 404);
    expect(await roundTrips()).toBe(0);
  });

  it("refuses a cross-origin POST with 403 before any query, nothing revoked", async () => {
    const ada = await signedInUser(["github"]);
    const laptop = await signInAs(ada.userId);
    await resetRoundTrips();
    const res = await postForm(`/account/sessions/${laptop.sessionId}/revoke`, ada.session.cookieHeader, {}, "https://evil.example");
    expectRefused(res, 403);
    expect(await roundTrips()).toBe(0);
    expect(await revokedAt(laptop.sessionId)).toBeNull();
  });

  it("answers 401 without a session, nothing revoked", async () => {
    const ada = await signedInUser(["github"]);
    const res = await postForm(`/account/sessions/${ada.session.sessionId}/revoke`, null);
    expectRefused(res, 401);
    expect(await revokedAt(ada.session.sessionId)).toBeNull();
  });
});
