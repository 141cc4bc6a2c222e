/**
 * POST /account/unlink/:provider: one statement that checks ownership,
 * refuses the last sign-in method and retires the account's provider
 * tokens. Every refusal: its status, nothing written, no Set-Cookie.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { rawSql } from "../helpers/neon-local";
import { createPersonalOrg } from "../helpers/orgs";
import { cookieHeader, resetRoundTrips, roundTrips, signInAs } from "../helpers/sessions";
import { expectRefused, getPage, linkAccount, postForm, signedInUser, userFootprint } from "./helpers";

const onPostgres = env.DATABASE_BACKEND === "pg";

async function addUserToken(userId: string, accountId: string, provider: string): Promise<void> {
  const org = await createPersonalOrg(userId);
  await rawSql(
    `INSERT INTO provider_tokens (org_id, user_id, account_id, provider, token_type, ciphertext, key_version)
     VALUES ($1, $2, $3, $4, 'user', '\\x00'::bytea, 1)`,
    [org.id, userId, accountId, provider],
  );
}

describe("POST /account/unlink/:provider", () => {
  beforeEach(async () => {
    await resetRoundTrips();
  });

  it("unlinks one of two methods in one round trip and retires its provider tokens", async () => {
    const ada = await signedInUser(["github", "google"]);
    await addUserToken(ada.userId, ada.accounts.github!, "github");
    expect(await userFootprint(ada.userId)).toMatchObject({ accounts: 2, activeTokens: 1 });
    await resetRoundTrips();

    const res = await postForm("/account/unlink/github", ada.session.cookieHeader, { account: ada.accounts.github! });

    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/account?notice=unlinked");
    expect(await roundTrips()).toBe(1);
    expect(await userFootprint(ada.userId)).toMatchObject({ accounts: 1, activeTokens: 0 });
    const audit = await rawSql<{ actor_id: string; target_type: string; target_id: string; metadata: unknown; org_id: string | null }>(
      "SELECT actor_id, target_type, target_id, metadata, org_id FROM audit_events WHERE action = 'account.unlink' AND actor_id = $1",
      [ada.userId],
    );
    expect(audit).toEqual([{ actor_id: ada.userId, target_type: "account", target_id: ada.accounts.github!, metadata: { provider: "github" }, org_id: null }]);
    const left = await rawSql<{ provider: string }>("SELECT provider FROM accounts WHERE user_id = $1", [ada.userId]);
    expect(left.map((r) => r.provider)).toEqual(["google"]);
  });

  it("revokes and denylists the sessions that were created through the unlinked identity, in the same round trip", async () => {
    const ada = await signedInUser(["github", "google"]);
    const viaGithub = await signInAs(ada.userId);
    await rawSql("UPDATE sessions SET account_id = $2 WHERE id = $1", [viaGithub.sessionId, ada.accounts.github!]);
    await resetRoundTrips();
    const res = await postForm("/account/unlink/github", ada.session.cookieHeader, { account: ada.accounts.github! });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/account?notice=unlinked");
    expect(await roundTrips()).toBe(1);
    expect(await rawSql("SELECT revoked_at IS NOT NULL AS revoked FROM sessions WHERE id = $1", [viaGithub.sessionId])).toEqual([{ revoked: true }]);
    expect(await env.AUTH_KV.get(`deny:sid:${viaGithub.sessionId}`)).toBe("1");
    expect((await getPage("/account", cookieHeader({ session: viaGithub.sessionJwt }))).status).toBe(303);
    // The session that did the unlinking came through another method: it stays.
    expect(await rawSql("SELECT revoked_at FROM sessions WHERE id = $1", [ada.session.sessionId])).toEqual([{ revoked_at: null }]);
  });

  it("signs the browser out when its own session came through the identity it unlinks", async () => {
    const ada = await signedInUser(["github", "google"]);
    await rawSql("UPDATE sessions SET account_id = $2 WHERE id = $1", [ada.session.sessionId, ada.accounts.google!]);
    const res = await postForm("/account/unlink/google", ada.session.cookieHeader);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/auth/signin");
    expect(res.headers.getSetCookie().some((c) => c.startsWith("__Host-gh_refresh=;"))).toBe(true);
    expect(await env.AUTH_KV.get(`deny:sid:${ada.session.sessionId}`)).toBe("1");
  });

  it("unlinks by provider alone when no account id is sent", async () => {
    const ada = await signedInUser(["github", "google"]);
    const res = await postForm("/account/unlink/google", ada.session.cookieHeader);
    expect(res.status).toBe(303);
    expect(await userFootprint(ada.userId)).toMatchObject({ accounts: 1 });
  });

  it("refuses to unlink the last sign-in method (409 LastSignInMethod), nothing written", async () => {
    const ada = await signedInUser(["github"]);
    const res = await postForm("/account/unlink/github", ada.session.cookieHeader, { account: ada.accounts.github! });
    expectRefused(res, 409);
    expect(await res.text()).toContain("LastSignInMethod");
    expect(await roundTrips()).toBe(1);
    expect(await userFootprint(ada.userId)).toMatchObject({ accounts: 1 });
  });

  it("refuses when every remaining method is of the provider being unlinked (two GitHub accounts)", async () => {
    const ada = await signedInUser(["github"]);
    await linkAccount(ada.userId, "github");
    const res = await postForm("/account/unlink/github", ada.session.cookieHeader);
    expectRefused(res, 409);
    expect(await userFootprint(ada.userId)).toMatchObject({ accounts: 2 });
  });

  it("answers 404 for a provider only another user has linked, and leaves that user's account alone", async () => {
    const ada = await signedInUser(["github", "google"]);
    const bob = await signedInUser(["facebook", "github"]);
    const byProvider = await postForm("/account/unlink/facebook", ada.session.cookieHeader);
    expectRefused(byProvider, 404);
    // Bob's GitHub account id, sent by Ada for her own GitHub provider.
    const byId = await postForm("/account/unlink/github", ada.session.cookieHeader, { account: bob.accounts.github! });
    expectRefused(byId, 404);
    expect(await userFootprint(bob.userId)).toMatchObject({ accounts: 2 });
    expect(await userFootprint(ada.userId)).toMatchObject({ accounts: 2 });
  });

  it.each([
    ["another site", "https://evil.example"],
    ["an allowed SPA origin (account changes are not an SPA API)", "https://app.example.com"],
    ["the opaque origin `null`", "null"],
    ["no Origin at all", null],
  ])("refuses a POST from %s with 403 before touching the database", async (_label, origin) => {
    const ada = await signedInUser(["github", "google"]);
    await resetRoundTrips();
    const res = await postForm("/account/unlink/github", ada.session.cookieHeader, { account: ada.accounts.github! }, origin);
    expectRefused(res, 403);
    expect(await roundTrips()).toBe(0);
    expect(await userFootprint(ada.userId)).toMatchObject({ accounts: 2 });
  });

  it("answers 401 without a session and 401 for a revoked refresh token, nothing written", async () => {
    const ada = await signedInUser(["github", "google"]);
    expectRefused(await postForm("/account/unlink/github", null), 401);
    await rawSql("UPDATE sessions SET revoked_at = now() WHERE id = $1", [ada.session.sessionId]);
    const res = await postForm("/account/unlink/github", `__Host-gh_refresh=${ada.session.refreshToken}`);
    expectRefused(res, 401);
    expect(await userFootprint(ada.userId)).toMatchObject({ accounts: 2 });
  });

  it("answers 401 to a disabled user whose session JWT is still valid, nothing written", async () => {
    const ada = await signedInUser(["github", "google"]);
    await rawSql("UPDATE users SET disabled_at = now() WHERE id = $1", [ada.userId]);
    expectRefused(await postForm("/account/unlink/github", ada.session.cookieHeader), 401);
    expect(await userFootprint(ada.userId)).toMatchObject({ accounts: 2 });
  });

  it("answers 400 for a malformed account id and 405 for a GET, nothing written", async () => {
    const ada = await signedInUser(["github", "google"]);
    expectRefused(await postForm("/account/unlink/github", ada.session.cookieHeader, { account: "1 OR 1=1" }), 400);
    expectRefused(await getPage("/account/unlink/github", ada.session.cookieHeader), 405);
    expect(await userFootprint(ada.userId)).toMatchObject({ accounts: 2 });
  });

  it.skipIf(!onPostgres)("two concurrent unlinks of a user's two methods leave exactly one (needs real Postgres: TEST_DATABASE_URL)", async () => {
    for (let round = 0; round < 6; round++) {
      const ada = await signedInUser(["github", "google"]);
      const results = await Promise.all([
        postForm("/account/unlink/github", ada.session.cookieHeader),
        postForm("/account/unlink/google", ada.session.cookieHeader),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([303, 409]);
      expect(await userFootprint(ada.userId)).toMatchObject({ accounts: 1 });
    }
  });
});
