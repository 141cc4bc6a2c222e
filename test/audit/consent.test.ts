/**
 * `oauth_grant.create`: the consent the user gives on the consent page is
 * audited by the statement that stores the grant and the code (one round
 * trip); a remembered consent or a denial writes no such row.
 */
import { describe, expect, it } from "vitest";
import { createTestUser, resetRoundTrips, roundTrips, signInAs } from "../helpers/sessions";
import { authorizationUrl, authorizeInBrowser, consentForm, createClient, discover, postConsent } from "../oauth/helpers";
import { callWorker } from "../helpers/sessions";
import { rowsOfUser } from "./helpers";

describe("consent audit events", () => {
  it("Allow writes oauth_grant.create (client, scopes, resource) with the grant, in its one round trip; a remembered consent writes none", async () => {
    const as = await discover();
    const client = await createClient();
    const userId = await createTestUser();
    const { cookieHeader } = await signInAs(userId);
    const { url } = await authorizationUrl(as, client, { scope: "openid profile" });
    const page = await callWorker(url.pathname + url.search, { headers: { cookie: cookieHeader } });
    expect(page.status).toBe(200);
    const form = consentForm(await page.text());
    await resetRoundTrips();
    const allowed = await postConsent(cookieHeader, form, "allow");
    expect(allowed.status).toBe(303);
    expect(new URL(allowed.headers.get("location")!).searchParams.get("code")).toBeTruthy();
    expect(await roundTrips()).toBe(1);
    const rows = await rowsOfUser(userId, "oauth_grant.create");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_type: "user",
      actor_id: userId,
      subject_user_id: userId,
      target_type: "oauth_client",
      target_id: client.clientId,
      org_id: null,
      metadata: { scopes: ["openid", "profile"], resource: expect.any(String) },
    });
    // The code itself is never in the row.
    expect(JSON.stringify(rows)).not.toContain(new URL(allowed.headers.get("location")!).searchParams.get("code")!);

    // The same request again: consent is remembered, no new grant event.
    const again = await authorizationUrl(as, client, { scope: "openid profile" });
    const landed = await authorizeInBrowser(cookieHeader, again.url);
    expect(landed.searchParams.get("code")).toBeTruthy();
    expect(await rowsOfUser(userId, "oauth_grant.create")).toHaveLength(1);
  });

  it("Deny writes nothing", async () => {
    const as = await discover();
    const client = await createClient();
    const userId = await createTestUser();
    const { cookieHeader } = await signInAs(userId);
    const { url } = await authorizationUrl(as, client, { scope: "openid" });
    const page = await callWorker(url.pathname + url.search, { headers: { cookie: cookieHeader } });
    const denied = await postConsent(cookieHeader, consentForm(await page.text()), "deny");
    expect(denied.status).toBe(303);
    expect(await rowsOfUser(userId)).toEqual([]);
  });
});
