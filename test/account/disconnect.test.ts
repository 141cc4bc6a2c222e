/**
 * POST /account/orgs/:org/providers/facebook/disconnect: the account page's
 * form for what the Bearer API offers backends. One statement proves the
 * caller (JWT or refresh cookie), checks owner/admin, soft-deletes the
 * caller's Facebook tokens of that organization and writes the audit row.
 * Every refusal: its status, nothing written, no Set-Cookie.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { rawSql } from "../helpers/neon-local";
import { addMembership } from "../helpers/orgs";
import { cookieHeader, resetRoundTrips, roundTrips } from "../helpers/sessions";
import { expectRefused, getPage, postForm, signedInUser, type SignedInUser } from "./helpers";

async function orgWithFacebook(admin: SignedInUser, role: "owner" | "admin" | "member") {
  const slug = `fb-${crypto.randomUUID().slice(0, 8)}`;
  const [org] = await rawSql<{ id: string }>("INSERT INTO organizations (slug, name) VALUES ($1, 'Shop') RETURNING id", [slug]);
  await addMembership(org!.id, admin.userId, role);
  const [page] = await rawSql<{ id: string }>(
    "INSERT INTO provider_pages (org_id, provider, external_page_id, name) VALUES ($1, 'facebook', $2, 'Shop Page') RETURNING id",
    [org!.id, `page-${slug}`],
  );
  const accountId = admin.accounts.facebook!;
  await rawSql(
    `INSERT INTO provider_tokens (org_id, user_id, account_id, page_id, provider, token_type, ciphertext, key_version)
     VALUES ($1, $2, $3, NULL, 'facebook', 'user', '\\x00'::bytea, 1), ($1, $2, $3, $4, 'facebook', 'page', '\\x00'::bytea, 1)`,
    [org!.id, admin.userId, accountId, page!.id],
  );
  return { id: org!.id, slug };
}

const activeTokens = async (orgId: string) =>
  (await rawSql<{ n: number }>("SELECT count(*)::int AS n FROM provider_tokens WHERE org_id = $1 AND deleted_at IS NULL", [orgId]))[0]!.n;
const path = (slug: string) => `/account/orgs/${slug}/providers/facebook/disconnect`;

describe("disconnecting Facebook Pages from the account page", () => {
  beforeEach(async () => {
    await resetRoundTrips();
  });

  it("shows the form to an admin with active pages, and the POST retires their tokens in one round trip, audited", async () => {
    const ada = await signedInUser(["github", "facebook"]);
    const org = await orgWithFacebook(ada, "admin");
    const page = await (await getPage("/account", ada.session.cookieHeader)).text();
    expect(page).toContain(`action="${path(org.slug)}"`);

    await resetRoundTrips();
    const res = await postForm(path(org.slug), ada.session.cookieHeader);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/account?notice=disconnected");
    expect(await roundTrips()).toBe(1);
    expect(await activeTokens(org.id)).toBe(0);
    const audit = await rawSql<{ metadata: unknown }>("SELECT metadata FROM audit_events WHERE org_id = $1 AND action = 'provider.disconnect'", [org.id]);
    expect(audit).toEqual([{ metadata: { provider: "facebook", userTokens: 1, pageTokens: 1 } }]);
  });

  it("works with only the refresh cookie, still in one round trip and without rotating it", async () => {
    const ada = await signedInUser(["github", "facebook"]);
    const org = await orgWithFacebook(ada, "owner");
    await resetRoundTrips();
    const res = await postForm(path(org.slug), cookieHeader({ refresh: ada.session.refreshToken }));
    expect(res.status).toBe(303);
    expect(await roundTrips()).toBe(1);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await activeTokens(org.id)).toBe(0);
  });

  it("refuses a plain member (403), a non-member or unknown org (404), another origin and no session, writing nothing", async () => {
    const ada = await signedInUser(["github", "facebook"]);
    const org = await orgWithFacebook(ada, "member");
    expectRefused(await postForm(path(org.slug), ada.session.cookieHeader), 403);
    const eve = await signedInUser(["github"]);
    expectRefused(await postForm(path(org.slug), eve.session.cookieHeader), 404);
    expectRefused(await postForm(path("no-such-org"), ada.session.cookieHeader), 404);
    expectRefused(await postForm(path("Not_A_Slug"), ada.session.cookieHeader), 404);
    expectRefused(await postForm(path(org.slug), ada.session.cookieHeader, {}, "https://evil.example"), 403);
    expectRefused(await postForm(path(org.slug), null), 401);
    expect(await activeTokens(org.id)).toBe(2);
    expect((await getPage("/account", ada.session.cookieHeader).then((r) => r.text())).includes(path(org.slug))).toBe(false);
  });
});
