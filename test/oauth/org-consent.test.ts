/**
 * Org-scoped consent: for an API scope the consent page lets the user grant
 * access for one of their organizations; the access token then carries
 * `org` and the user's current `roles` there (read in the exchange's and the
 * refresh's single round trip). Remembered consent keeps the organization;
 * an organization the user is not a member of is refused with nothing
 * written; identity-only requests offer no choice.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { rawSql } from "../helpers/neon-local";
import { callWorker, createTestUser, resetRoundTrips, roundTrips, signInAs, type TestSession } from "../helpers/sessions";
import { authorizationUrl, clientRows, codeExchange, consentForm, createClient, discover, postConsent, tokenRequest } from "./helpers";
import type * as oauth from "oauth4webapi";

let as: oauth.AuthorizationServer;
let userId: string;
let browser: TestSession;
let acme: string;
let other: string;

async function org(name: string): Promise<string> {
  const [row] = await rawSql<{ id: string }>("INSERT INTO organizations (slug, name) VALUES ($1, $2) RETURNING id", [`o-${crypto.randomUUID().slice(0, 12)}`, name]);
  return row!.id;
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(atob(token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;
}

beforeAll(async () => {
  as = await discover();
  userId = await createTestUser({ email: `orgc-${crypto.randomUUID()}@example.com` });
  browser = await signInAs(userId);
  acme = await org("Acme");
  other = await org("Someone Else's");
  await rawSql("INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'admin')", [acme, userId]);
});

async function consentPage(client: { clientId: string; secret: null; redirectUri: string }, scope: string) {
  const { url, verifier } = await authorizationUrl(as, client, { scope, resource: "https://api.example.com" });
  const res = await callWorker(url.pathname + url.search, { headers: { cookie: browser.cookieHeader } });
  return { res, verifier, url };
}

async function allow(form: { request: string; consent_token: string }, orgId: string) {
  return callWorker("/oauth/consent", {
    method: "POST",
    headers: { cookie: browser.cookieHeader, origin: "https://auth.example.com", "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...form, decision: "allow", org: orgId }).toString(),
  });
}

describe("org-scoped consent", () => {
  it("grants for an organization: the token carries org and roles, at exchange and refresh (current role), one round trip each; remembered consent keeps it", async () => {
    const app = await createClient({ type: "public", redirectUris: ["https://org-app.example.org/cb"] });
    const client = { clientId: app.clientId, secret: null, redirectUri: app.redirectUri };
    const { res, verifier } = await consentPage(client, "openid offline_access notes:read");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<select name="org">');
    expect(html).toContain(`<option value="${acme}">Acme (you are admin)</option>`);
    expect(html).not.toContain(other);

    await resetRoundTrips();
    const allowed = await allow(consentForm(html), acme);
    expect(await roundTrips()).toBe(1);
    expect(allowed.status).toBe(303);
    const code = new URL(allowed.headers.get("location")!).searchParams.get("code")!;
    await resetRoundTrips();
    const exchanged = await tokenRequest(codeExchange(app, { code, verifier, redirectUri: app.redirectUri }));
    expect(await roundTrips()).toBe(1);
    const tokens = (await exchanged.json()) as { access_token: string; refresh_token: string };
    expect(claimsOf(tokens.access_token)).toMatchObject({ org: acme, roles: ["admin"], aud: "https://api.example.com", sub: userId });

    // The role changes: the next refresh says so.
    await rawSql("UPDATE memberships SET role = 'member' WHERE org_id = $1 AND user_id = $2", [acme, userId]);
    await resetRoundTrips();
    const refreshed = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: app.clientId });
    expect(await roundTrips()).toBe(1);
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string };
    expect(claimsOf(next.access_token)).toMatchObject({ org: acme, roles: ["member"] });

    // Remembered consent answers at once and keeps the organization.
    const again = await consentPage(client, "openid offline_access notes:read");
    expect(again.res.status).toBe(302);
    const code2 = new URL(again.res.headers.get("location")!).searchParams.get("code")!;
    const tokens2 = (await (await tokenRequest(codeExchange(app, { code: code2, verifier: again.verifier, redirectUri: app.redirectUri }))).json()) as { access_token: string };
    expect(claimsOf(tokens2.access_token)).toMatchObject({ org: acme, roles: ["member"] });

    // Leaving the organization: tokens stop carrying it.
    await rawSql("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2", [acme, userId]);
    const later = (await (await tokenRequest({ grant_type: "refresh_token", refresh_token: next.refresh_token, client_id: app.clientId })).json()) as { access_token: string };
    expect(claimsOf(later.access_token)).not.toHaveProperty("org");
    expect(claimsOf(later.access_token)).not.toHaveProperty("roles");
    await rawSql("INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'admin')", [acme, userId]);
  });

  it("without an organization the token has no org claims", async () => {
    const app = await createClient({ type: "public", redirectUris: ["https://org-app2.example.org/cb"] });
    const client = { clientId: app.clientId, secret: null, redirectUri: app.redirectUri };
    const { res, verifier } = await consentPage(client, "openid notes:read");
    const allowed = await postConsent(browser.cookieHeader, consentForm(await res.text()), "allow");
    const code = new URL(allowed.headers.get("location")!).searchParams.get("code")!;
    const tokens = (await (await tokenRequest(codeExchange(app, { code, verifier, redirectUri: app.redirectUri }))).json()) as { access_token: string };
    expect(claimsOf(tokens.access_token)).not.toHaveProperty("org");
  });

  it("refuses an organization the user is not a member of, and a malformed one: 403/400, nothing written", async () => {
    const app = await createClient({ type: "public", redirectUris: ["https://org-app3.example.org/cb"] });
    const client = { clientId: app.clientId, secret: null, redirectUri: app.redirectUri };
    const { res } = await consentPage(client, "openid notes:read");
    const form = consentForm(await res.text());
    const foreign = await allow(form, other);
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("location")).toBeNull();
    const bad = await allow(form, "not-a-uuid");
    expect(bad.status).toBe(400);
    expect(await clientRows(app.clientId)).toMatchObject({ codes: 0, grants: 0 });
  });

  it("offers no organization choice for identity scopes only", async () => {
    const app = await createClient({ type: "public", redirectUris: ["https://org-app4.example.org/cb"] });
    const { res } = await consentPage({ clientId: app.clientId, secret: null, redirectUri: app.redirectUri }, "openid email");
    expect(await res.text()).not.toContain('name="org"');
  });
});
