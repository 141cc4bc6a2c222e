/**
 * Registering and managing OAuth clients through the org API (owners and
 * admins only, one audited statement per change), and the user's side:
 * "Apps with access to your account" on the account page, revoke, and
 * sign-out-everywhere leaving app grants alone.
 */
import type * as oauth from "oauth4webapi";
import { beforeAll, describe, expect, it } from "vitest";
import { stats } from "../helpers/neon-local";
import { accessTokenFor, addMembership, api, auditRows, countRows, createOrgAs, createVerifiedUser } from "../helpers/orgs";
import { callWorker, signInAs, type TestSession } from "../helpers/sessions";
import { clientRows, codeExchange, codeFor, discover, ISSUER, tokenRequest, type TestClient } from "./helpers";

let as: oauth.AuthorizationServer;

beforeAll(async () => {
  as = await discover();
});

const registration = {
  name: "Team Notes",
  type: "confidential",
  applicationType: "web",
  redirectUris: ["https://notes.example.net/callback"],
  scopes: ["openid", "email", "offline_access"],
  resources: ["https://api.example.com"],
};

describe("org API for clients", () => {
  it("an owner registers a confidential client (secret shown once, hash stored), in one audited statement; it works end to end", async () => {
    const owner = await createVerifiedUser("owner");
    const token = await accessTokenFor(owner.id);
    const org = await createOrgAs(token, "Notes Co");
    const before = (await stats("oauth-clients-create")).requests;
    const res = await api(token, "POST", `/api/orgs/${org.slug}/clients`, registration, { scope: "oauth-clients-create" });
    expect(res.status).toBe(201);
    expect((await stats("oauth-clients-create")).requests - before).toBe(1);
    const body = (await res.json()) as { client: { clientId: string; type: string }; clientSecret: string };
    expect(body.client.type).toBe("confidential");
    expect(body.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await countRows("oauth_clients", "id = $1 AND secret_hash <> $2 AND org_id = $3", [body.client.clientId, body.clientSecret, org.id])).toBe(1);
    const audit = await auditRows(org.id);
    expect(audit.at(-1)).toMatchObject({ actor_id: owner.id, action: "oauth_client.create", target_type: "oauth_client", target_id: body.client.clientId });

    // The registered client signs a user in.
    const client: TestClient = { clientId: body.client.clientId, secret: body.clientSecret, redirectUri: registration.redirectUris[0]! };
    const user = await signInAs((await createVerifiedUser("reader")).id);
    const got = await codeFor(as, user.cookieHeader, client, { scope: "openid email" });
    const { client_id: _, ...fields } = codeExchange(client, got);
    const exchanged = await tokenRequest(fields, { id: client.clientId, secret: client.secret! });
    expect(exchanged.status).toBe(200);

    // Rotating the secret: the old one stops working.
    const rotated = await api(token, "POST", `/api/orgs/${org.slug}/clients/${client.clientId}/secret`);
    expect(rotated.status).toBe(200);
    const { clientSecret } = (await rotated.json()) as { clientSecret: string };
    const got2 = await codeFor(as, user.cookieHeader, client, { scope: "openid email" });
    const { client_id: __, ...fields2 } = codeExchange(client, got2);
    expect((await tokenRequest(fields2, { id: client.clientId, secret: client.secret! })).status).toBe(401);
    expect((await tokenRequest(fields2, { id: client.clientId, secret: clientSecret })).status).toBe(200);
    expect((await auditRows(org.id)).at(-1)).toMatchObject({ action: "oauth_client.secret_rotate" });
  });

  it("refuses bad registrations with the field named, writing nothing", async () => {
    const owner = await createVerifiedUser("owner");
    const token = await accessTokenFor(owner.id);
    const org = await createOrgAs(token);
    const bad: [Record<string, unknown>, string][] = [
      [{ ...registration, redirectUris: ["http://notes.example.net/cb"] }, "redirectUris"],
      [{ ...registration, redirectUris: ["https://notes.example.net/cb#x"] }, "redirectUris"],
      [{ ...registration, resources: ["https://unknown.example.com"] }, "resources"],
      [{ ...registration, type: "confidential", applicationType: "native", redirectUris: ["http://127.0.0.1/cb"] }, "type"],
      [{ ...registration, type: "public", applicationType: "native", redirectUris: ["http://127.0.0.1:8080/cb"] }, "redirectUris"],
      [{ ...registration, scopes: ["Bad Scope"] }, "scopes"],
      [{ ...registration, firstParty: true }, "firstParty"],
    ];
    for (const [body, field] of bad) {
      const res = await api(token, "POST", `/api/orgs/${org.slug}/clients`, body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "InvalidRequest", field });
    }
    expect(await countRows("oauth_clients", "org_id = $1", [org.id])).toBe(0);
  });

  it("members cannot manage clients (403), non-members see 404; admins can; disabling stops refresh at once", async () => {
    const owner = await createVerifiedUser("owner");
    const admin = await createVerifiedUser("admin");
    const member = await createVerifiedUser("member");
    const outsider = await createVerifiedUser("outsider");
    const ownerToken = await accessTokenFor(owner.id);
    const org = await createOrgAs(ownerToken);
    await addMembership(org.id, admin.id, "admin");
    await addMembership(org.id, member.id, "member");
    const publicReg = { ...registration, type: "public" };
    expect((await api(await accessTokenFor(member.id), "POST", `/api/orgs/${org.slug}/clients`, publicReg)).status).toBe(403);
    expect((await api(await accessTokenFor(outsider.id), "POST", `/api/orgs/${org.slug}/clients`, publicReg)).status).toBe(404);
    expect((await api(await accessTokenFor(member.id), "GET", `/api/orgs/${org.slug}/clients`)).status).toBe(403);
    expect(await countRows("oauth_clients", "org_id = $1", [org.id])).toBe(0);

    const adminToken = await accessTokenFor(admin.id);
    const created = await api(adminToken, "POST", `/api/orgs/${org.slug}/clients`, publicReg);
    expect(created.status).toBe(201);
    const { client } = (await created.json()) as { client: { clientId: string } };
    const list = (await (await api(adminToken, "GET", `/api/orgs/${org.slug}/clients`)).json()) as { clients: { clientId: string }[] };
    expect(list.clients.map((c) => c.clientId)).toEqual([client.clientId]);

    const app: TestClient = { clientId: client.clientId, secret: null, redirectUri: registration.redirectUris[0]! };
    const user = await signInAs((await createVerifiedUser("u")).id);
    const got = await codeFor(as, user.cookieHeader, app, { scope: "openid offline_access" });
    const { refresh_token } = (await (await tokenRequest(codeExchange(app, got))).json()) as { refresh_token: string };

    expect((await api(await accessTokenFor(member.id), "PATCH", `/api/orgs/${org.slug}/clients/${client.clientId}`, { disabled: true })).status).toBe(403);
    const disabled = await api(adminToken, "PATCH", `/api/orgs/${org.slug}/clients/${client.clientId}`, { disabled: true });
    expect(disabled.status).toBe(200);
    expect(await disabled.json()).toMatchObject({ client: { disabled: true } });
    expect((await auditRows(org.id)).at(-1)).toMatchObject({ actor_id: admin.id, action: "oauth_client.update", metadata: { fields: ["disabled"] } });
    const refresh = await tokenRequest({ grant_type: "refresh_token", client_id: app.clientId, refresh_token });
    expect(refresh.status).toBe(401);

    const deleted = await api(ownerToken, "DELETE", `/api/orgs/${org.slug}/clients/${client.clientId}`);
    expect(deleted.status).toBe(200);
    expect(await clientRows(app.clientId)).toMatchObject({ codes: 0, families: 0, sessions: 0 });
    expect((await auditRows(org.id)).at(-1)).toMatchObject({ action: "oauth_client.delete", target_id: client.clientId });
  });
});

describe("Apps with access to your account", () => {
  async function appWithAccess(user: TestSession): Promise<{ app: TestClient; tokens: { access_token: string; refresh_token: string } }> {
    const owner = await createVerifiedUser("owner");
    const ownerToken = await accessTokenFor(owner.id);
    const org = await createOrgAs(ownerToken, "Calendar Corp");
    const res = await api(ownerToken, "POST", `/api/orgs/${org.slug}/clients`, { ...registration, name: "Calendar Sync", type: "public" });
    const { client } = (await res.json()) as { client: { clientId: string } };
    const app: TestClient = { clientId: client.clientId, secret: null, redirectUri: registration.redirectUris[0]! };
    const got = await codeFor(as, user.cookieHeader, app, { scope: "openid email offline_access" });
    const tokens = (await (await tokenRequest(codeExchange(app, got))).json()) as { access_token: string; refresh_token: string };
    return { app, tokens };
  }

  it("lists the app; sign-out-everywhere keeps it; Revoke ends its refresh and access tokens, audited", async () => {
    const me = await createVerifiedUser("me");
    const user = await signInAs(me.id);
    const { app, tokens } = await appWithAccess(user);
    const page = await callWorker("/account", { headers: { cookie: user.cookieHeader } });
    const html = await page.text();
    expect(html).toContain("Apps with access to your account");
    expect(html).toContain("Calendar Sync");
    expect(html).toContain("Calendar Corp");
    expect(html).toContain(`/account/apps/${app.clientId}/revoke`);

    const everywhere = await callWorker("/auth/signout?scope=all", { method: "POST", headers: { cookie: user.cookieHeader, origin: ISSUER, accept: "application/json" } });
    expect(everywhere.status).toBe(200);
    const stillWorks = await tokenRequest({ grant_type: "refresh_token", client_id: app.clientId, refresh_token: tokens.refresh_token });
    expect(stillWorks.status).toBe(200);
    const { refresh_token, access_token } = (await stillWorks.json()) as { refresh_token: string; access_token: string };

    const again = await signInAs(me.id);
    const foreign = await callWorker(`/account/apps/${app.clientId}/revoke`, { method: "POST", headers: { cookie: again.cookieHeader, origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    const revoke = await callWorker(`/account/apps/${app.clientId}/revoke`, { method: "POST", headers: { cookie: again.cookieHeader, origin: ISSUER } });
    expect(revoke.status).toBe(303);
    expect(revoke.headers.get("location")).toBe("/account?notice=app_revoked");
    expect(await clientRows(app.clientId)).toMatchObject({ revoked: 1 });
    expect(await countRows("oauth_grants", "client_id = $1 AND revoked_at IS NULL", [app.clientId])).toBe(0);
    expect(await countRows("audit_events", "action = 'oauth_grant.revoke' AND actor_id = $1 AND target_id = $2", [me.id, app.clientId])).toBe(1);
    expect((await tokenRequest({ grant_type: "refresh_token", client_id: app.clientId, refresh_token })).status).toBe(400);
    expect((await callWorker("/oauth/userinfo", { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(401);
    // Consent is asked again next time.
    const page2 = await (await callWorker("/account", { headers: { cookie: again.cookieHeader } })).text();
    expect(page2).not.toContain("Calendar Sync");
    // Another user cannot revoke it, and a second revoke finds nothing.
    const second = await callWorker(`/account/apps/${app.clientId}/revoke`, { method: "POST", headers: { cookie: again.cookieHeader, origin: ISSUER } });
    expect(second.status).toBe(404);
  });
});
