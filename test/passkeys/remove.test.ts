/**
 * POST /account/passkeys/:id/remove, and passkeys as sign-in methods when
 * accounts are unlinked: one statement each, the last method is never
 * removed (accounts and passkeys counted together), and sessions signed in
 * with a removed passkey end with it.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { expectRefused, linkAccount, postForm, userFootprint } from "../account/helpers";
import { rawSql } from "../helpers/neon-local";
import { createTestUser, resetRoundTrips, roundTrips, setCookies, signInAs } from "../helpers/sessions";
import { SoftAuthenticator } from "./authenticator";
import { passkeysOf, registerPasskey, signInWithPasskey } from "./helpers";

async function withPasskeys(count: number, accounts: readonly string[] = []) {
  const userId = await createTestUser();
  for (const p of accounts) await linkAccount(userId, p);
  const session = await signInAs(userId);
  const authenticator = new SoftAuthenticator();
  for (let i = 0; i < count; i++) expect((await registerPasskey(session.cookieHeader, authenticator, { name: `Key ${i + 1}` })).res.status).toBe(200);
  return { userId, session, authenticator, keys: await passkeysOf(userId) };
}

describe("removing passkeys", () => {
  beforeEach(async () => {
    await resetRoundTrips();
  });

  it("removes one of two passkeys in one round trip, with its audit row", async () => {
    const { userId, session, keys } = await withPasskeys(2);
    await resetRoundTrips();
    const res = await postForm(`/account/passkeys/${keys[0]!.id}/remove`, session.cookieHeader);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/account?notice=passkey_removed");
    expect(await roundTrips()).toBe(1);
    expect((await passkeysOf(userId)).map((k) => k.name)).toEqual(["Key 2"]);
    const audit = await rawSql("SELECT target_type, target_id, metadata, subject_user_id, request_id IS NOT NULL AS has_request FROM audit_events WHERE actor_id = $1 AND action = 'passkey.remove'", [userId]);
    expect(audit).toEqual([{ target_type: "passkey", target_id: keys[0]!.id, metadata: { name: "Key 1" }, subject_user_id: userId, has_request: true }]);
  });

  it("refuses to remove the only sign-in method (409 LastSignInMethod): nothing written, no cookie", async () => {
    const { userId, session, keys } = await withPasskeys(1);
    const res = await postForm(`/account/passkeys/${keys[0]!.id}/remove`, session.cookieHeader, {}, undefined);
    expectRefused(res, 409);
    expect(await passkeysOf(userId)).toHaveLength(1);
    expect(await rawSql("SELECT 1 FROM audit_events WHERE actor_id = $1 AND action = 'passkey.remove'", [userId])).toEqual([]);
  });

  it("a passkey keeps the last linked account removable, and the last account keeps the last passkey removable", async () => {
    const a = await withPasskeys(1, ["github"]);
    const unlink = await postForm("/account/unlink/github", a.session.cookieHeader);
    expect(unlink.status).toBe(303);
    expect(await userFootprint(a.userId)).toMatchObject({ accounts: 0 });
    // Now the passkey is the last method.
    expectRefused(await postForm(`/account/passkeys/${a.keys[0]!.id}/remove`, a.session.cookieHeader), 409);

    const b = await withPasskeys(1, ["github"]);
    expect((await postForm(`/account/passkeys/${b.keys[0]!.id}/remove`, b.session.cookieHeader)).status).toBe(303);
    // Now the account is the last method.
    expectRefused(await postForm("/account/unlink/github", b.session.cookieHeader), 409);
  });

  it("ends the sessions signed in with the removed passkey (and signs this browser out if it was one)", async () => {
    const { userId, session, authenticator, keys } = await withPasskeys(2, ["github"]);
    const signedIn = await signInWithPasskey(authenticator);
    expect(signedIn.res.status).toBe(200);
    const viaKey = setCookies(signedIn.res).get("__Host-gh_refresh")!.value.split(".")[0]!;
    const newest = keys[1]!;
    const res = await postForm(`/account/passkeys/${newest.id}/remove`, session.cookieHeader);
    expect(res.status).toBe(303);
    expect(await rawSql("SELECT revoked_at IS NOT NULL AS revoked FROM sessions WHERE id = $1", [viaKey])).toEqual([{ revoked: true }]);
    expect(await env.AUTH_KV.get(`deny:sid:${viaKey}`)).toBe("1");
    expect(await rawSql("SELECT revoked_at FROM sessions WHERE id = $1", [session.sessionId])).toEqual([{ revoked_at: null }]);
    expect(await userFootprint(userId)).toMatchObject({ accounts: 1 });
  });

  it("another user's passkey, a malformed id, another origin or no session: refused, nothing removed", async () => {
    const ada = await withPasskeys(2);
    const bob = await withPasskeys(2);
    expectRefused(await postForm(`/account/passkeys/${bob.keys[0]!.id}/remove`, ada.session.cookieHeader), 404);
    expectRefused(await postForm("/account/passkeys/not-a-uuid/remove", ada.session.cookieHeader), 404);
    expectRefused(await postForm(`/account/passkeys/${ada.keys[0]!.id}/remove`, ada.session.cookieHeader, {}, "https://app.example.com"), 403);
    expectRefused(await postForm(`/account/passkeys/${ada.keys[0]!.id}/remove`, null), 401);
    expect(await passkeysOf(ada.userId)).toHaveLength(2);
    expect(await passkeysOf(bob.userId)).toHaveLength(2);
  });
});
