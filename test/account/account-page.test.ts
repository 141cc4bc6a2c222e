/**
 * GET /account: requires a session; shows profile, sign-in methods with
 * link/unlink forms, sessions with "this device", organizations and the
 * connected pages of the ones the user administers. One round trip to read.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { rawSql } from "../helpers/neon-local";
import { addMembership, createPersonalOrg } from "../helpers/orgs";
import { createTestUser, resetRoundTrips, roundTrips, signInAs } from "../helpers/sessions";
import { getPage, signedInUser } from "./helpers";

describe("GET /account", () => {
  beforeEach(async () => {
    await resetRoundTrips();
  });

  it("sends an anonymous visitor to sign in, and back here afterwards (303, no query, no cookie)", async () => {
    const res = await getPage("/account");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/auth/signin?redirect_to=%2Faccount");
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await roundTrips()).toBe(0);
  });

  it("treats garbage cookies as no session", async () => {
    const res = await getPage("/account", "__Host-gh_session=garbage; __Host-gh_refresh=also.garbage");
    expect(res.status).toBe(303);
  });

  it("shows profile, methods, sessions (this device marked) and forms, read in one round trip", async () => {
    const userId = await createTestUser({ name: "Ada Lovelace", email: "ada@example.com" });
    await rawSql("INSERT INTO accounts (user_id, provider, provider_subject, email) VALUES ($1, 'github', $2, 'ada@github.test')", [userId, crypto.randomUUID()]);
    const phone = await signInAs(userId);
    await rawSql("UPDATE sessions SET user_agent = $2, ip = '198.51.100.9' WHERE id = $1", [
      phone.sessionId,
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    ]);
    const here = await signInAs(userId);
    await resetRoundTrips();

    const res = await getPage("/account", here.cookieHeader);

    expect(res.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    const html = await res.text();
    expect(html).toContain("Ada Lovelace");
    expect(html).toContain("ada@github.test");
    expect(html).toContain("only sign-in method");
    expect(html).toContain("Safari on iOS");
    expect(html).toContain("198.51.100.9");
    expect(html).toMatch(new RegExp(`data-session="${here.sessionId}"[^]*?this device`));
    expect(html).toContain(`action="/account/sessions/${phone.sessionId}/revoke"`);
    expect(html).toContain('action="/auth/signout?scope=all"');
    // Link forms for enabled providers not linked yet, coming back here.
    expect(html).toContain('action="/auth/link/google"');
    expect(html).not.toContain('action="/auth/link/github"');
    expect(html).toContain('value="https://auth.example.com/account"');
    // The only script is the passkey file (AUTH_PASSKEYS=true in tests; test/passkeys/page.test.ts).
    expect(html.match(/<script[^>]*>/gi)).toEqual([expect.stringMatching(/^<script type="module" src="https:\/\/auth\.example\.com\/assets\/passkey\.[0-9a-f]{16}\.js">$/)]);
  });

  it("offers unlink only when another method remains", async () => {
    const ada = await signedInUser(["github", "google"]);
    const html = await (await getPage("/account", ada.session.cookieHeader)).text();
    expect(html).toContain('action="/account/unlink/github"');
    expect(html).toContain(`value="${ada.accounts.github}"`);
    expect(html).not.toContain("only sign-in method");
  });

  it("lists organizations; owners and admins see connected pages (gone or active, or none connected)", async () => {
    const ada = await signedInUser(["facebook"]);
    const personal = await createPersonalOrg(ada.userId);
    const [shared] = await rawSql<{ id: string }>("INSERT INTO organizations (slug, name) VALUES ($1, 'Acme Shop') RETURNING id", [`acme-${crypto.randomUUID().slice(0, 8)}`]);
    await addMembership(shared!.id, ada.userId, "admin");
    await rawSql("INSERT INTO provider_pages (org_id, provider, external_page_id, name) VALUES ($1, 'facebook', 'p1', 'Acme Page')", [shared!.id]);
    await rawSql("INSERT INTO provider_pages (org_id, provider, external_page_id, name, gone_at) VALUES ($1, 'facebook', 'p2', 'Old Page', now())", [shared!.id]);
    const [club] = await rawSql<{ id: string }>("INSERT INTO organizations (slug, name) VALUES ($1, 'Book Club') RETURNING id", [`club-${crypto.randomUUID().slice(0, 8)}`]);
    await addMembership(club!.id, ada.userId, "member");
    await rawSql("INSERT INTO provider_pages (org_id, provider, external_page_id, name) VALUES ($1, 'facebook', 'p3', 'Secret Club Page')", [club!.id]);

    const html = await (await getPage("/account", ada.session.cookieHeader)).text();

    expect(html).toContain(personal.slug);
    expect(html).toContain("none connected");
    expect(html).toContain("Acme Page");
    expect(html).toMatch(/Old Page[^]*?gone since/);
    expect(html).toContain("Book Club");
    // A plain member does not see the org's pages.
    expect(html).not.toContain("Secret Club Page");
    // Owners and admins get a Pages connect form per organization (a POST to the link route, with the org);
    // a plain member does not.
    const slugOf = async (id: string) => (await rawSql<{ slug: string }>("SELECT slug FROM organizations WHERE id = $1", [id]))[0]!.slug;
    const connectForm = (slug: string) =>
      `<form method="post" action="/auth/link/facebook"><input type="hidden" name="org" value="${slug}"/>`;
    expect(html).toContain(connectForm(personal.slug));
    expect(html).toContain('aria-label="Connect Facebook Pages to Personal"');
    expect(html).toContain(connectForm(await slugOf(shared!.id)));
    expect(html).toContain('aria-label="Reconnect Facebook Pages to Acme Shop"');
    expect(html).not.toContain(connectForm(await slugOf(club!.id)));
    expect(html).not.toContain("Facebook Pages to Book Club");
  });

  it("escapes what users and providers control", async () => {
    const userId = await createTestUser({ name: '<img src=x onerror="alert(1)">' });
    await rawSql("INSERT INTO accounts (user_id, provider, provider_subject) VALUES ($1, 'github', $2)", [userId, crypto.randomUUID()]);
    const session = await signInAs(userId);
    const html = await (await getPage("/account", session.cookieHeader)).text();
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;img src=x");
  });
});
