/**
 * The `/admin` page: only operators (a signed-out visitor goes to sign-in,
 * anyone else gets 403), search, detail, a confirmation page before each
 * action, POSTs with the Origin check; a disabled user cannot sign in.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { rawSql } from "../helpers/neon-local";
import { createAccount, createVerifiedUser } from "../helpers/orgs";
import { cookieHeader, resetRoundTrips, roundTrips, signInAs } from "../helpers/sessions";
import { askCode, postCode } from "../email/helpers";
import { adminEnv, auditCount, auditOf, expectRefused, page, postForm, signedInOperator } from "./helpers";

beforeEach(async () => {
  await resetRoundTrips();
});

async function disabledAt(userId: string): Promise<unknown> {
  const [row] = await rawSql<{ disabled_at: unknown }>("SELECT disabled_at FROM users WHERE id = $1", [userId]);
  return row?.disabled_at ?? null;
}

describe("/admin", () => {
  it("sends a signed-out visitor to sign in and refuses a signed-in non-operator (no cookie, nothing read)", async () => {
    const op = await signedInOperator();
    const user = await signedInOperator("plain");
    const e = adminEnv([op.id]);
    const out = await page("/admin", null, e);
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/auth/signin?redirect_to=%2Fadmin");
    await resetRoundTrips();
    expectRefused(await page("/admin", user.session.cookieHeader, e), 403);
    expectRefused(await page(`/admin/users/${op.id}`, user.session.cookieHeader, e), 403);
    expectRefused(await page("/admin", op.session.cookieHeader, adminEnv(null)), 403);
    expect(await roundTrips()).toBe(0);
  });

  it("searches, shows a user, and asks for confirmation before acting", async () => {
    const op = await signedInOperator();
    const e = adminEnv([op.id]);
    const ada = await createVerifiedUser("ada");
    const account = await createAccount(ada.id, "github");
    const s = await signInAs(ada.id);
    const [key] = await rawSql<{ id: string }>(
      "INSERT INTO passkeys (user_id, credential_id, public_key, device_type, backed_up, name) VALUES ($1, $2, '\\x00'::bytea, 'singleDevice', false, 'YubiKey') RETURNING id",
      [ada.id, `cred${crypto.randomUUID().replaceAll("-", "")}`],
    );
    const search = await page(`/admin?q=${encodeURIComponent(ada.email)}`, op.session.cookieHeader, e);
    expect(search.status).toBe(200);
    expect(search.headers.get("content-security-policy")).toContain("script-src 'none'");
    const html = await search.text();
    expect(html).toContain(`href="/admin/users/${ada.id}"`);
    expect(html).not.toContain("<script");
    const detail = await (await page(`/admin/users/${ada.id}`, op.session.cookieHeader, e)).text();
    expect(detail).toContain(ada.email);
    expect(detail).toContain(account.subject);
    expect(detail).toContain(`data-session="${s.sessionId}"`);
    expect(detail).toContain(`data-passkey-id="${key!.id}"`);
    expect(detail).toContain("YubiKey");
    expect(detail).toContain(`href="/admin/users/${ada.id}/confirm/disable"`);
    const confirm = await (await page(`/admin/users/${ada.id}/confirm/disable`, op.session.cookieHeader, e)).text();
    expect(confirm).toContain(`action="/admin/users/${ada.id}/disable"`);
    expect(confirm).toContain('name="confirm" value="yes"');
    expect((await page(`/admin/users/${ada.id}/confirm/explode`, op.session.cookieHeader, e)).status).toBe(404);
  });

  it("refuses an unconfirmed, a cross-origin and a non-operator's POST: nothing written, no cookie", async () => {
    const op = await signedInOperator();
    const user = await signedInOperator("plain");
    const e = adminEnv([op.id]);
    const ada = await createVerifiedUser("ada");
    await resetRoundTrips();
    expectRefused(await postForm(`/admin/users/${ada.id}/disable`, op.session.cookieHeader, {}, e), 400);
    expectRefused(await postForm(`/admin/users/${ada.id}/disable`, op.session.cookieHeader, { confirm: "yes" }, e, "https://evil.example"), 403);
    expectRefused(await postForm(`/admin/users/${ada.id}/disable`, op.session.cookieHeader, { confirm: "yes" }, e, null), 403);
    expectRefused(await postForm(`/admin/users/${ada.id}/delete`, user.session.cookieHeader, { confirm: "yes" }, e), 403);
    expectRefused(await postForm(`/admin/users/${ada.id}/disable`, null, { confirm: "yes" }, e), 401);
    expect(await roundTrips()).toBe(0);
    expect(await disabledAt(ada.id)).toBeNull();
    expect(await auditCount(ada.id)).toBe(0);
  });

  it("disables in one round trip (sessions end at once), enables, revokes and deletes through the forms", async () => {
    const op = await signedInOperator();
    const e = adminEnv([op.id]);
    const ada = await createVerifiedUser("ada");
    const s = await signInAs(ada.id);
    await resetRoundTrips();
    const res = await postForm(`/admin/users/${ada.id}/disable`, op.session.cookieHeader, { confirm: "yes" }, e);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/admin/users/${ada.id}?notice=disabled`);
    expect(await roundTrips()).toBe(1);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await disabledAt(ada.id)).not.toBeNull();
    expect((await page("/auth/session", cookieHeader({ session: s.sessionJwt }), e)).status).toBe(401);
    expect(await (await page(`/admin/users/${ada.id}?notice=disabled`, op.session.cookieHeader, e)).text()).toContain("disabled and signed out");

    expect((await postForm(`/admin/users/${ada.id}/enable`, op.session.cookieHeader, { confirm: "yes" }, e)).status).toBe(303);
    expect(await disabledAt(ada.id)).toBeNull();
    const again = await signInAs(ada.id);
    const revoke = await postForm(`/admin/users/${ada.id}/revoke`, op.session.cookieHeader, { confirm: "yes", session: again.sessionId }, e);
    expect(revoke.headers.get("location")).toBe(`/admin/users/${ada.id}?notice=revoked`);
    expect((await page("/auth/session", cookieHeader({ session: again.sessionJwt }), e)).status).toBe(401);
    const del = await postForm(`/admin/users/${ada.id}/delete`, op.session.cookieHeader, { confirm: "yes" }, e);
    expect(del.headers.get("location")).toBe("/admin?notice=deleted");
    expect(await rawSql("SELECT id FROM users WHERE id = $1", [ada.id])).toEqual([]);
    expect((await auditOf(ada.id)).map((r) => r.action)).toEqual(["user.delete"]);
  });

  it("a disabled user cannot sign in: UserDisabled, no session created", async () => {
    const op = await signedInOperator();
    const e = adminEnv([op.id]);
    const ada = await createVerifiedUser("ada");
    await postForm(`/admin/users/${ada.id}/disable`, op.session.cookieHeader, { confirm: "yes" }, e);
    const asked = await askCode(ada.email, e);
    const res = await postCode(asked.challenge, asked.code, asked.cookie, e);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("UserDisabled");
    expect(res.headers.getSetCookie().some((c) => c.startsWith("__Host-gh_session=") && !c.includes("Max-Age=0"))).toBe(false);
    expect(await rawSql("SELECT id FROM sessions WHERE user_id = $1", [ada.id])).toEqual([]);
  });
});
