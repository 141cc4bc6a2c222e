/**
 * The authorization endpoint under attack: redirect_uri variants (never a
 * redirect), PKCE missing or plain, unknown resource, unsupported response
 * types and modes, prompt=none without a session or consent, consent CSRF
 * and clickjacking, disabled clients. Every refusal writes nothing.
 */
import type * as oauth from "oauth4webapi";
import { beforeAll, describe, expect, it } from "vitest";
import { rawSql } from "../helpers/neon-local";
import { callWorker, createTestUser, resetRoundTrips, roundTrips, signInAs, type TestSession } from "../helpers/sessions";
import { authorizationUrl, clientRows, consentForm, createClient, discover, ISSUER, postConsent, type TestClient } from "./helpers";

let as: oauth.AuthorizationServer;
let browser: TestSession;
let web: TestClient;
let native: TestClient;

beforeAll(async () => {
  as = await discover();
  browser = await signInAs(await createTestUser());
  web = await createClient({ redirectUris: ["https://app.example.org/cb"], scopes: ["openid", "email", "offline_access"] });
  native = await createClient({ applicationType: "native", redirectUris: ["http://127.0.0.1/callback"] });
});

function get(url: URL, cookie: string | null = browser.cookieHeader, accept = "text/html"): Promise<Response> {
  const headers: Record<string, string> = { accept };
  if (cookie) headers.cookie = cookie;
  return callWorker(url.pathname + url.search, { headers });
}

describe("redirect_uri", () => {
  const variants = [
    "https://app.example.org/c",
    "https://app.example.org/cb/extra",
    "https://app.example.org/cb/../cb",
    "https://app.example.org/x/../cb",
    "https://app.example.org/cb?x=1",
    "https://app.example.org/cb#frag",
    "https://APP.example.org/cb",
    "https://app.example.org/CB",
    "https://app.example.org/cb/",
    "https://user@app.example.org/cb",
    "https://app.example.org:8443/cb",
    "https://app.example.org.evil.example/cb",
    "http://app.example.org/cb",
    "https://app.example.org/%63b",
  ];
  it.each(variants)("%s is an error page, never a redirect, and writes nothing", async (redirectUri) => {
    const { url } = await authorizationUrl(as, web, { redirectUri });
    await resetRoundTrips();
    const res = await get(url);
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain("AuthorizationRequestInvalid");
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await clientRows(web.clientId)).toMatchObject({ codes: 0, grants: 0 });
    expect(await roundTrips()).toBeLessThanOrEqual(1);
  });

  it.each([
    "http://localhost:5000/callback",
    "http://127.0.0.1:5000/callback/",
    "http://127.0.0.1:5000/other",
    "http://127.0.0.2:5000/callback",
    "https://127.0.0.1:5000/callback",
    "http://127.0.0.1:99999/callback",
  ])("native %s is refused (only a loopback IP, any port, same path)", async (redirectUri) => {
    const { url } = await authorizationUrl(as, native, { redirectUri });
    const res = await get(url);
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
  });

  it("a loopback URI with a port is not accepted for a web client", async () => {
    const loop = await createClient({ redirectUris: ["http://127.0.0.1/callback"] });
    const { url } = await authorizationUrl(as, loop, { redirectUri: "http://127.0.0.1:5000/callback" });
    expect((await get(url)).status).toBe(400);
  });

  it("an unknown or disabled client is an error page", async () => {
    const disabled = await createClient({ disabled: true, redirectUris: ["https://dis.example.org/cb"] });
    for (const client of [{ ...web, clientId: crypto.randomUUID() }, disabled]) {
      const { url } = await authorizationUrl(as, client);
      const res = await get(url, browser.cookieHeader, "application/json");
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.json()).toMatchObject({ code: "AuthorizationRequestInvalid" });
    }
  });
});

describe("errors sent back to the client (RFC 6749 §4.1.2.1) with state and iss", () => {
  async function errorFor(mutate: (u: URL) => void, client: TestClient = web): Promise<URLSearchParams> {
    const { url, state } = await authorizationUrl(as, client, { scope: "openid email" });
    mutate(url);
    const res = await get(url);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(location.origin + location.pathname).toBe(client.redirectUri);
    expect(location.searchParams.get("iss")).toBe(ISSUER);
    expect(location.searchParams.get("code")).toBeNull();
    if (url.searchParams.get("state") === state) expect(location.searchParams.get("state")).toBe(state);
    expect(await clientRows(client.clientId)).toMatchObject({ codes: 0, grants: 0 });
    return location.searchParams;
  }

  it.each([
    ["PKCE missing", (u: URL) => { u.searchParams.delete("code_challenge"); u.searchParams.delete("code_challenge_method"); }, "invalid_request"],
    ["PKCE method missing (plain by default)", (u: URL) => u.searchParams.delete("code_challenge_method"), "invalid_request"],
    ["PKCE plain", (u: URL) => u.searchParams.set("code_challenge_method", "plain"), "invalid_request"],
    ["a malformed challenge", (u: URL) => u.searchParams.set("code_challenge", "abc"), "invalid_request"],
    ["response_type=token (implicit)", (u: URL) => u.searchParams.set("response_type", "token"), "unsupported_response_type"],
    ["response_type=code id_token", (u: URL) => u.searchParams.set("response_type", "code id_token"), "unsupported_response_type"],
    ["response_mode=form_post", (u: URL) => u.searchParams.set("response_mode", "form_post"), "invalid_request"],
    ["openid without nonce", (u: URL) => u.searchParams.delete("nonce"), "invalid_request"],
    ["a scope the client may not ask for", (u: URL) => u.searchParams.set("scope", "openid profile"), "invalid_scope"],
    ["no scope", (u: URL) => u.searchParams.delete("scope"), "invalid_scope"],
    ["an unknown resource", (u: URL) => u.searchParams.set("resource", "https://unknown.example.com"), "invalid_target"],
    ["two resources", (u: URL) => { u.searchParams.append("resource", "https://api.example.com"); u.searchParams.append("resource", "https://api.example.com"); }, "invalid_target"],
    ["a repeated scope parameter", (u: URL) => u.searchParams.append("scope", "openid"), "invalid_request"],
    ["an unknown prompt", (u: URL) => u.searchParams.set("prompt", "select_account"), "invalid_request"],
    ["a request object", (u: URL) => u.searchParams.set("request", "eyJ.e30."), "request_not_supported"],
  ])("%s", async (_, mutate, error) => {
    expect((await errorFor(mutate)).get("error")).toBe(error);
  });

  it("prompt=none without a session is login_required", async () => {
    const { url, state } = await authorizationUrl(as, web, { scope: "openid email", extra: { prompt: "none" } });
    const res = await get(url, null);
    const location = new URL(res.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("login_required");
    expect(location.searchParams.get("state")).toBe(state);
    expect(location.searchParams.get("iss")).toBe(ISSUER);
  });

  it("prompt=none with a session but no consent is consent_required", async () => {
    const { url } = await authorizationUrl(as, web, { scope: "openid email", extra: { prompt: "none" } });
    const res = await get(url);
    expect(new URL(res.headers.get("location")!).searchParams.get("error")).toBe("consent_required");
    expect(await clientRows(web.clientId)).toMatchObject({ codes: 0, grants: 0 });
  });
});

describe("sign-in and consent", () => {
  it("without a session, sends the browser to the sign-in page, which returns to the authorization request", async () => {
    const { url } = await authorizationUrl(as, web, { scope: "openid email" });
    const res = await get(url, null);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!, ISSUER);
    expect(location.pathname).toBe("/auth/signin");
    const back = new URL(location.searchParams.get("redirect_to")!, ISSUER);
    expect(back.pathname).toBe("/oauth/authorize");
    expect(back.searchParams.get("client_id")).toBe(web.clientId);
    // The sign-in page accepts that return address.
    expect((await callWorker(location.pathname + location.search)).status).toBe(200);
  });

  it("prompt=login sends a signed-in browser to sign in again, returning with a freshness demand", async () => {
    const { url } = await authorizationUrl(as, web, { scope: "openid email", extra: { prompt: "login" } });
    const res = await get(url);
    const location = new URL(res.headers.get("location")!, ISSUER);
    expect(location.pathname).toBe("/auth/signin");
    const back = new URL(location.searchParams.get("redirect_to")!, ISSUER);
    expect(back.searchParams.get("prompt")).toBeNull();
    expect(back.searchParams.get("max_age")).toBe("300");
  });

  it("the consent page names the client, its redirect host and the scopes in plain words, and cannot be framed", async () => {
    const named = await createClient({ name: "Notes <Pro>", redirectUris: ["https://notes.example.net/cb"] });
    const { url } = await authorizationUrl(as, named, { scope: "openid email notes:read", resource: "https://api.example.com" });
    const res = await get(url);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Notes &lt;Pro&gt;");
    expect(html).toContain("notes.example.net");
    expect(html).toContain("See your email address");
    expect(html).toContain("api.example.com");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await clientRows(named.clientId)).toMatchObject({ codes: 0, grants: 0 });
  });

  it("Deny goes back with access_denied and writes nothing", async () => {
    const { url, state } = await authorizationUrl(as, web, { scope: "openid email" });
    const form = consentForm(await (await get(url)).text());
    const res = await postConsent(browser.cookieHeader, form, "deny");
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe(state);
    expect(location.searchParams.get("iss")).toBe(ISSUER);
    expect(await clientRows(web.clientId)).toMatchObject({ codes: 0, grants: 0 });
  });

  it("consent CSRF: another Origin, no Origin, a forged or foreign token, or a tampered request is 403 and writes nothing", async () => {
    const client = await createClient({ redirectUris: ["https://csrf.example.org/cb"] });
    const { url } = await authorizationUrl(as, client, { scope: "openid email" });
    const form = consentForm(await (await get(url)).text());
    const other = await signInAs(await createTestUser());
    const cases: { cookie: string; form: { request: string; consent_token: string }; origin: string }[] = [
      { cookie: browser.cookieHeader, form, origin: "https://evil.example" },
      { cookie: browser.cookieHeader, form, origin: "null" },
      { cookie: browser.cookieHeader, form: { ...form, consent_token: "x.y.z" }, origin: ISSUER },
      { cookie: other.cookieHeader, form, origin: ISSUER },
      { cookie: browser.cookieHeader, form: { ...form, request: form.request.replace("scope=openid+email", "scope=openid+email+offline_access") }, origin: ISSUER },
      { cookie: browser.cookieHeader, form: { ...form, request: form.request + "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb" }, origin: ISSUER },
    ];
    for (const attempt of cases) {
      await resetRoundTrips();
      const res = await postConsent(attempt.cookie, attempt.form, "allow", attempt.origin);
      expect(res.status).toBe(403);
      expect(res.headers.get("location")).toBeNull();
      expect(await roundTrips()).toBe(0);
    }
    expect(await clientRows(client.clientId)).toMatchObject({ codes: 0, grants: 0 });
    // The genuine form still works: the grant is remembered and the code stored in one round trip.
    await resetRoundTrips();
    const ok = await postConsent(browser.cookieHeader, form, "allow");
    expect(ok.status).toBe(303);
    expect(await roundTrips()).toBe(1);
    expect(new URL(ok.headers.get("location")!).searchParams.get("code")).toBeTruthy();
    expect(await clientRows(client.clientId)).toMatchObject({ codes: 1, grants: 1 });
  });

  it("max_age: a sign-in older than it sends the browser to sign in again (prompt=none: login_required); a fresh one answers", async () => {
    const first = await createClient({ firstParty: true, redirectUris: ["https://maxage.example.org/cb"] });
    const userId = await createTestUser();
    const old = await signInAs(userId, { now: new Date(Date.now() - 3600_000) });
    const stale = await authorizationUrl(as, first, { scope: "openid", extra: { max_age: "600" } });
    const res = await get(stale.url, old.cookieHeader);
    expect(new URL(res.headers.get("location")!, ISSUER).pathname).toBe("/auth/signin");
    const none = await authorizationUrl(as, first, { scope: "openid", extra: { max_age: "600", prompt: "none" } });
    expect(new URL((await get(none.url, old.cookieHeader)).headers.get("location")!).searchParams.get("error")).toBe("login_required");
    expect(await clientRows(first.clientId)).toMatchObject({ codes: 0 });
    const fresh = await signInAs(userId);
    const ok = await get(stale.url, fresh.cookieHeader);
    expect(new URL(ok.headers.get("location")!).searchParams.get("code")).toBeTruthy();
  });

  it("max_age=0 is a new sign-in, returning with a positive freshness bound (no endless loop)", async () => {
    const { url } = await authorizationUrl(as, web, { scope: "openid email", extra: { max_age: "0" } });
    const location = new URL((await get(url)).headers.get("location")!, ISSUER);
    expect(location.pathname).toBe("/auth/signin");
    const back = new URL(location.searchParams.get("redirect_to")!, ISSUER);
    expect(back.searchParams.get("max_age")).toBe("300");
    expect(back.searchParams.get("prompt")).toBeNull();
  });

  it("the consent page names the client's organization", async () => {
    const [org] = await rawSql<{ id: string }>("INSERT INTO organizations (slug, name) VALUES ($1, 'Acme Widgets') RETURNING id", [`acme-${crypto.randomUUID().slice(0, 8)}`]);
    const orgClient = await createClient({ orgId: org!.id, redirectUris: ["https://acme.example.org/cb"] });
    const { url } = await authorizationUrl(as, orgClient, { scope: "openid" });
    expect(await (await get(url)).text()).toContain("An application of the organization Acme Widgets.");
  });

  it("a first-party client is pre-approved: no consent page", async () => {
    const first = await createClient({ firstParty: true, redirectUris: ["https://first.example.org/cb"] });
    const { url } = await authorizationUrl(as, first, { scope: "openid email" });
    const res = await get(url);
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get("location")!).searchParams.get("code")).toBeTruthy();
  });

  it("remembered consent covers only the scopes and resource granted", async () => {
    const client = await createClient({ redirectUris: ["https://remember.example.org/cb"] });
    const { url } = await authorizationUrl(as, client, { scope: "openid email" });
    await postConsent(browser.cookieHeader, consentForm(await (await get(url)).text()), "allow");
    const wider = await authorizationUrl(as, client, { scope: "openid email offline_access" });
    expect((await get(wider.url)).status).toBe(200);
    const otherResource = await authorizationUrl(as, client, { scope: "openid email", resource: "https://api.example.com" });
    expect((await get(otherResource.url)).status).toBe(200);
    const same = await authorizationUrl(as, client, { scope: "email openid" });
    expect((await get(same.url)).status).toBe(302);
    // prompt=none is answered silently with a code when consent is remembered.
    const silent = await authorizationUrl(as, client, { scope: "openid", extra: { prompt: "none" } });
    const res = await get(silent.url);
    expect(new URL(res.headers.get("location")!).searchParams.get("code")).toBeTruthy();
    // prompt=consent shows the page even so.
    const again = await authorizationUrl(as, client, { scope: "openid", extra: { prompt: "consent" } });
    expect((await get(again.url)).status).toBe(200);
  });
});
