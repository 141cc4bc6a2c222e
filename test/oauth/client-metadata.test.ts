/**
 * Client ID Metadata Documents: a client_id that is an https URL is fetched
 * (from the faithful fake host in test/fakes/client-metadata.ts, through
 * miniflare's outboundService), validated, cached by its Cache-Control, and
 * its row refreshed in the authorization statement. Hostile documents
 * (http, redirects, too large, slow, another client_id, keys) are an error
 * page, write nothing and set no cookie. The whole flow then works with the
 * URL as client_id: consent shows the document's host (and warns when the
 * redirect host differs), code exchange and refresh are one round trip each,
 * and another client cannot use the refresh token.
 */
import * as oauth from "oauth4webapi";
import { beforeAll, describe, expect, it } from "vitest";
import { isOAuthClientToken } from "../../src/oauth/resources";
import { cacheSeconds, isClientMetadataUrl } from "../../src/oauth/client-metadata";
import { call, scopedEnv } from "../helpers/app";
import { rawSql } from "../helpers/neon-local";
import { callWorker, createTestUser, resetRoundTrips, roundTrips, signInAs, type TestSession } from "../helpers/sessions";
import { authorizationUrl, codeExchange, codeFor, consentForm, createClient, discover, ISSUER, postConsent, tokenRequest, type TestClient } from "./helpers";

const CONTROL = "http://fakes.test/__control/client-metadata";

async function publish(url: string, body: unknown, options: { status?: number; headers?: Record<string, string>; delayMs?: number } = {}): Promise<void> {
  const res = await fetch(CONTROL, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url, body, ...options }) });
  expect(res.status).toBe(200);
}

async function fetchesOf(url: string): Promise<{ calls: number; lastHeaders: Record<string, string> | null }> {
  return (await (await fetch(`${CONTROL}?url=${encodeURIComponent(url)}`)).json()) as { calls: number; lastHeaders: Record<string, string> | null };
}

/** A fresh document URL on the fake host, and a client pointing at it. */
function documentClient(redirectUri = "https://cimd.test/callback"): TestClient & { doc: Record<string, unknown> } {
  const url = `https://cimd.test/clients/${crypto.randomUUID()}.json`;
  return {
    clientId: url,
    secret: null,
    redirectUri,
    doc: { client_id: url, client_name: "Notes MCP Client", redirect_uris: [redirectUri], grant_types: ["authorization_code", "refresh_token"], token_endpoint_auth_method: "none" },
  };
}

async function rowsFor(url: string): Promise<number> {
  const [row] = await rawSql<{ n: number }>("SELECT count(*)::int AS n FROM oauth_clients WHERE metadata_url = $1", [url]);
  return row!.n;
}

/** Everything a refresh could write for this user: the sessions rows (a fingerprint) and the audit rows (a count). */
async function userRows(userId: string): Promise<{ sessions: string; audit: number }> {
  const [row] = await rawSql<{ sessions: string; audit: number }>(
    "SELECT (SELECT md5(coalesce(string_agg(s::text, '|' ORDER BY s.id), '')) FROM sessions s WHERE s.user_id = $1) AS sessions, (SELECT count(*)::int FROM audit_events WHERE actor_id = $1::text) AS audit",
    [userId],
  );
  return row!;
}

let as: oauth.AuthorizationServer;
let browser: TestSession;

beforeAll(async () => {
  as = await discover();
  browser = await signInAs(await createTestUser({ email: `cimd-${crypto.randomUUID()}@example.com`, name: "Ada" }));
});

describe("Client ID Metadata Documents", () => {
  it("the server metadata advertises them", () => {
    expect((as as Record<string, unknown>).client_id_metadata_document_supported).toBe(true);
  });

  it("which client_ids are document URLs, and how long documents are cached", () => {
    expect(isClientMetadataUrl("https://app.example.com/oauth/client.json")).toBe(true);
    for (const no of ["http://app.example.com/client.json", "https://app.example.com", "https://app.example.com/", "https://u:p@app.example.com/c", "https://app.example.com/c#x", "https://127.0.0.1/c", "https://localhost/c", "https://app.example.com/a/../c", "0b5c2f6e-8a1d-4c1e-9f00-6d2b1f0e9a11"]) {
      expect(isClientMetadataUrl(no)).toBe(false);
    }
    expect(cacheSeconds(null)).toBe(300);
    expect(cacheSeconds("public, max-age=3600")).toBe(3600);
    expect(cacheSeconds("max-age=5")).toBe(60);
    expect(cacheSeconds("max-age=999999999")).toBe(86400);
    expect(cacheSeconds("no-store")).toBe(0);
    expect(cacheSeconds("max-age=0")).toBe(0);
    // A metadata-document client's token is an OAuth client's token (never mistaken for an SPA's origin).
    expect(isOAuthClientToken({ client_id: "https://app.example.com/client.json" })).toBe(true);
    expect(isOAuthClientToken({ client_id: "https://app.example.com" })).toBe(false);
  });

  it("http documents on a loopback host only with GATEHOUSE_DEVELOPMENT (local MCP clients), never elsewhere", () => {
    for (const yes of ["http://127.0.0.1:4000/client.json", "http://localhost:4000/oauth/client", "http://[::1]:4000/c"]) {
      expect(isClientMetadataUrl(yes)).toBe(false);
      expect(isClientMetadataUrl(yes, { httpLoopback: true })).toBe(true);
    }
    for (const no of ["http://app.example.com/client.json", "http://127.0.0.2/c", "http://app.localhost/c", "http://127.0.0.1:4000/", "http://u:p@127.0.0.1/c", "http://127.0.0.1/a/../c", "http://10.0.0.1/c"]) {
      expect(isClientMetadataUrl(no, { httpLoopback: true })).toBe(false);
    }
    // Recognized as an OAuth client's token whatever the configuration (stricter at gatehouse's own API).
    expect(isOAuthClientToken({ client_id: "http://127.0.0.1:4000/client.json" })).toBe(true);
  });

  it("runs the whole flow with the URL as client_id: consent shows the document's host, exchange and refresh are one round trip each", async () => {
    const client = documentClient();
    await publish(client.clientId, client.doc, { headers: { "cache-control": "public, max-age=600" } });
    const { url, verifier } = await authorizationUrl(as, client, { scope: "openid offline_access notes:read", resource: "https://api.example.com" });
    await resetRoundTrips();
    const page = await callWorker(url.pathname + url.search, { headers: { cookie: browser.cookieHeader } });
    expect(page.status).toBe(200);
    // The authorization statement (which also upserts the client row) is the one round trip: fetching the document is none.
    expect(await roundTrips()).toBe(1);
    expect((await fetchesOf(client.clientId)).calls).toBe(1);
    const html = await page.text();
    expect(html).toContain("Notes MCP Client");
    expect(html).toMatch(/data-document-host[^>]*>cimd\.test</);
    expect(html).not.toContain("data-redirect-warning");
    const allowed = await postConsent(browser.cookieHeader, consentForm(html), "allow");
    expect(allowed.status).toBe(303);
    const code = new URL(allowed.headers.get("location")!).searchParams.get("code")!;
    // One fetch for the page and the consent: the second came from the cache.
    const fetched = await fetchesOf(client.clientId);
    expect(fetched.calls).toBe(1);
    // Fetched without credentials.
    expect(Object.keys(fetched.lastHeaders ?? {}).filter((h) => ["cookie", "authorization"].includes(h))).toEqual([]);

    await resetRoundTrips();
    const exchanged = await tokenRequest(codeExchange(client, { code, verifier, redirectUri: client.redirectUri }));
    expect(await roundTrips()).toBe(1);
    expect(exchanged.status).toBe(200);
    const tokens = (await exchanged.json()) as { access_token: string; refresh_token: string; id_token: string };
    const claims = JSON.parse(atob(tokens.access_token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;
    expect(claims).toMatchObject({ client_id: client.clientId, aud: "https://api.example.com", scope: "openid offline_access notes:read" });

    // Another client cannot use the refresh token: neither a registered one nor another document URL.
    const other = await createClient({ type: "public" });
    const before = await userRows(claims.sub as string);
    for (const clientId of [other.clientId, `https://cimd.test/clients/${crypto.randomUUID()}.json`]) {
      const stolen = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: clientId });
      expect(stolen.status).toBeGreaterThanOrEqual(400);
      expect(((await stolen.json()) as { error: string }).error).toMatch(/invalid_grant|invalid_client/);
      expect(stolen.headers.get("set-cookie")).toBeNull();
    }
    // Nothing written: the family's session rows (not rotated, not revoked) and the audit trail are as they were.
    expect(await userRows(claims.sub as string)).toEqual(before);
    await resetRoundTrips();
    const refreshed = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: client.clientId });
    expect(await roundTrips()).toBe(1);
    expect(refreshed.status).toBe(200);
    expect(await refreshed.json()).toMatchObject({ refresh_token: expect.any(String), scope: "openid offline_access notes:read" });
  });

  it("warns on the consent page when the redirect URI's host differs from the document's", async () => {
    const client = documentClient("http://localhost:6274/oauth/callback");
    await publish(client.clientId, client.doc);
    const { url } = await authorizationUrl(as, client, { scope: "openid" });
    const page = await callWorker(url.pathname + url.search, { headers: { cookie: browser.cookieHeader } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("data-redirect-warning");
    expect(html).toMatch(/you will be sent back to <strong>localhost:6274<\/strong>, not to cimd\.test/);
  });

  it("refetches a document served with no-store, and follows its changes (a redirect URI removed stops working)", async () => {
    const client = documentClient();
    await publish(client.clientId, client.doc, { headers: { "cache-control": "no-store" } });
    const got = await codeFor(as, browser.cookieHeader, client, { scope: "openid" });
    expect(got.code).toBeTruthy();
    await publish(client.clientId, { ...client.doc, redirect_uris: ["https://cimd.test/elsewhere"] }, { headers: { "cache-control": "no-store" } });
    const { url } = await authorizationUrl(as, client, { scope: "openid" });
    const res = await callWorker(url.pathname + url.search, { headers: { cookie: browser.cookieHeader } });
    expect(res.status).toBe(400);
    // Fetched again since it was republished (publishing resets the fake's count): no-store was not cached.
    expect((await fetchesOf(client.clientId)).calls).toBe(1);
  });

  const hostile: [string, (c: ReturnType<typeof documentClient>) => Promise<string>][] = [
    ["http instead of https", async (c) => c.clientId.replace("https:", "http:")],
    ["a redirect to another host", async (c) => (await publish(c.clientId, "", { status: 302, headers: { location: "https://cimd-other.test/doc.json" } }), c.clientId)],
    ["a redirect on the same host", async (c) => (await publish(c.clientId, "", { status: 301, headers: { location: `${c.clientId}?v=2` } }), c.clientId)],
    ["a document over 5 KiB", async (c) => (await publish(c.clientId, { ...c.doc, padding: "x".repeat(6000) }), c.clientId)],
    ["a slow host (over the 5 s timeout)", async (c) => (await publish(c.clientId, c.doc, { delayMs: 8000 }), c.clientId)],
    ["the client_id of another URL", async (c) => (await publish(c.clientId, { ...c.doc, client_id: "https://cimd.test/clients/someone-else.json" }), c.clientId)],
    ["a confidential client with keys", async (c) => (await publish(c.clientId, { ...c.doc, token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://cimd.test/jwks" }), c.clientId)],
    ["a client secret inside", async (c) => (await publish(c.clientId, { ...c.doc, client_secret: "s3cret" }), c.clientId)],
    ["a redirect URI gatehouse refuses", async (c) => (await publish(c.clientId, { ...c.doc, redirect_uris: ["http://evil.example/cb"] }), c.clientId)],
    ["a 404", async (c) => c.clientId],
    ["a body that is not JSON", async (c) => (await publish(c.clientId, "<html>hi</html>", { headers: { "content-type": "text/html" } }), c.clientId)],
  ];
  it.each(hostile)("refuses %s: an error page, nothing written, no cookie", { timeout: 30_000 }, async (_label, arrange) => {
    const client = documentClient();
    const clientId = await arrange(client);
    const { url } = await authorizationUrl(as, { ...client, clientId }, { scope: "openid" });
    const res = await callWorker(url.pathname + url.search, { headers: { cookie: browser.cookieHeader, accept: "application/json" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("AuthorizationRequestInvalid");
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await rowsFor(clientId)).toBe(0);
    expect(await rowsFor(client.clientId)).toBe(0);
  });

  it("an http loopback document works with GATEHOUSE_DEVELOPMENT; without it, it is refused as before: not fetched, nothing written", async () => {
    const production = scopedEnv("cimd-production", {
      GATEHOUSE_DEVELOPMENT: undefined,
      NEON_FETCH_ENDPOINT: undefined,
      ALLOWED_ORIGINS: "https://app.example.com",
      ALLOWED_REDIRECT_ORIGINS: "https://app.example.com",
      OIDC_PROVIDERS: undefined,
    });
    // http://127.0.0.1:1 is served by the fake (test/outbound.ts), as a local MCP client would serve its document.
    const clientId = `http://127.0.0.1:1/clients/${crypto.randomUUID()}.json`;
    const client = { clientId, secret: null, redirectUri: "http://127.0.0.1:1/callback" };
    await publish(clientId, { client_id: clientId, client_name: "Local MCP Client", redirect_uris: [client.redirectUri], token_endpoint_auth_method: "none" });
    const { url } = await authorizationUrl(as, client, { scope: "openid" });

    const refused = await call(url.pathname + url.search, { headers: { accept: "application/json" } }, { env: production });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { code: string }).code).toBe("AuthorizationRequestInvalid");
    expect(refused.headers.get("location")).toBeNull();
    expect(refused.headers.get("set-cookie")).toBeNull();
    expect((await fetchesOf(clientId)).calls).toBe(0);
    expect(await rowsFor(clientId)).toBe(0);
    const token = await call("/oauth/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: "x".repeat(43), client_id: clientId }) }, { env: production });
    expect(token.status).toBe(401);
    expect(((await token.json()) as { error: string }).error).toBe("invalid_client");

    // The same request in development (the test default): fetched, the consent page shows its host.
    const page = await callWorker(url.pathname + url.search, { headers: { cookie: browser.cookieHeader } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/data-document-host[^>]*>127\.0\.0\.1:1</);
    expect((await fetchesOf(clientId)).calls).toBe(1);
  });

  it("the token endpoint refuses a document client_id with a secret, and one that never authorized", async () => {
    const unknown = `https://cimd.test/clients/${crypto.randomUUID()}.json`;
    const withSecret = await tokenRequest({ grant_type: "authorization_code", code: "x", code_verifier: "y".repeat(43), redirect_uri: "https://cimd.test/callback", client_id: unknown, client_secret: "s" });
    expect(withSecret.status).toBe(401);
    const never = await tokenRequest({ grant_type: "authorization_code", code: "x".repeat(43), code_verifier: "y".repeat(43), redirect_uri: "https://cimd.test/callback", client_id: unknown });
    expect(never.status).toBeGreaterThanOrEqual(400);
    expect(await rowsFor(unknown)).toBe(0);
    expect(ISSUER).toBe("https://auth.example.com");
  });
});
