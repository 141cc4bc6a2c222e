/**
 * RFC 7591 dynamic client registration at `POST /oauth/register`: off by
 * default (404, not advertised), open with OAUTH_DYNAMIC_REGISTRATION=open;
 * public clients only; a registered client runs the code flow with PKCE;
 * hostile registrations write nothing; a flood from one address gets 429
 * (the budget filled through the real binding, speed-independent); the cron
 * deletes registrations nobody used.
 */
import { env } from "cloudflare:workers";
import * as oauth from "oauth4webapi";
import { beforeAll, describe, expect, it } from "vitest";
import { runHousekeeping } from "../../src/housekeeping";
import { rateLimitKey } from "../../src/lib/rate-limit";
import { call, scopedEnv } from "../helpers/app";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { callWorker, createTestUser, signInAs, type TestSession } from "../helpers/sessions";
import { authorizationUrl, clientRows, codeExchange, codeFor, discover, ISSUER, tokenRequest } from "./helpers";

const SCOPE = "oauth-register";
const open = scopedEnv(SCOPE, { OAUTH_DYNAMIC_REGISTRATION: "open" });
/** wrangler.toml AUTH_RATE_LIMITER: 60 a minute per address. */
const LIMIT = 60;
const PERIOD_MS = 60_000;
let nextAddress = Math.floor(Math.random() * 200);
const freshIp = () => `203.0.113.${(nextAddress++ % 250) + 1}`;

function register(body: unknown, options: { env?: Env; ip?: string; contentType?: string } = {}): Promise<Response> {
  return call(
    "/oauth/register",
    {
      method: "POST",
      headers: { "content-type": options.contentType ?? "application/json", "cf-connecting-ip": options.ip ?? freshIp() },
      body: typeof body === "string" ? body : JSON.stringify(body),
    },
    { env: options.env ?? open },
  );
}

/** How many dynamic clients carry this name (each test uses its own marker). */
async function registered(name: string): Promise<number> {
  const [row] = await rawSql<{ n: number }>("SELECT count(*)::int AS n FROM oauth_clients WHERE dynamic AND name = $1", [name]);
  return row!.n;
}

let as: oauth.AuthorizationServer;
let browser: TestSession;

beforeAll(async () => {
  as = await discover();
  browser = await signInAs(await createTestUser({ email: `dcr-${crypto.randomUUID()}@example.com` }));
});

describe("dynamic client registration", () => {
  it("is off by default: 404, nothing written, and the metadata lists no registration_endpoint", async () => {
    const name = `off-${crypto.randomUUID()}`;
    const res = await register({ client_name: name, redirect_uris: ["https://mcp-client.example.org/cb"] }, { env: env });
    expect(res.status).toBe(404);
    expect(await registered(name)).toBe(0);
    expect(as.registration_endpoint).toBeUndefined();
  });

  it("when open: advertised, one INSERT, a public client that runs the code flow with PKCE", async () => {
    const metadata = (await (await call("/.well-known/oauth-authorization-server", {}, { env: open })).json()) as Record<string, unknown>;
    expect(metadata.registration_endpoint).toBe(`${ISSUER}/oauth/register`);
    const name = `Inspector ${crypto.randomUUID()}`;
    await resetStats(SCOPE);
    const res = await register({ client_name: name, redirect_uris: ["http://localhost:6274/oauth/callback"], scope: "openid offline_access notes:read", logo_uri: "https://x.example/l.png" });
    expect((await stats(SCOPE)).requests).toBe(1);
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      client_name: name,
      redirect_uris: ["http://localhost:6274/oauth/callback"],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      scope: "openid offline_access notes:read",
    });
    expect(body).not.toHaveProperty("client_secret");
    expect(body).not.toHaveProperty("logo_uri");
    expect(typeof body.client_id_issued_at).toBe("number");
    const [row] = await rawSql<Record<string, unknown>>("SELECT type, org_id, first_party, dynamic, resources FROM oauth_clients WHERE id = $1", [body.client_id]);
    expect(row).toMatchObject({ type: "public", org_id: null, first_party: false, dynamic: true, resources: ["https://api.example.com", "https://other-api.example.com"] });

    const client = { clientId: String(body.client_id), secret: null, redirectUri: "http://localhost:6274/oauth/callback" };
    const got = await codeFor(as, browser.cookieHeader, client, { scope: "openid offline_access notes:read", resource: "https://api.example.com" });
    const tokens = await tokenRequest(codeExchange(client, got));
    expect(tokens.status).toBe(200);
    expect(await tokens.json()).toMatchObject({ scope: "openid offline_access notes:read", refresh_token: expect.any(String) });

    // Step-up beyond the declared scopes (an MCP server's 403 insufficient_scope asks for notes:write): a
    // self-declared scope list bounds nothing, so the request reaches the consent page, which names the new scope.
    const { url } = await authorizationUrl(as, client, { scope: "openid offline_access notes:read notes:write", resource: "https://api.example.com" });
    const page = await callWorker(url.pathname + url.search, { headers: { cookie: browser.cookieHeader } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("notes:write");
    const stepped = await codeFor(as, browser.cookieHeader, client, { scope: "openid offline_access notes:read notes:write", resource: "https://api.example.com" });
    const wider = await tokenRequest(codeExchange(client, stepped));
    expect(await wider.json()).toMatchObject({ scope: "openid offline_access notes:read notes:write" });
  });

  it("defaults: no scope means the identity scopes, no name means the redirect host", async () => {
    const res = await register({ redirect_uris: ["https://nameless.example.org/cb"] });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ client_name: "nameless.example.org", scope: "openid profile email offline_access" });
  });

  it.each([
    ["a confidential client", { token_endpoint_auth_method: "client_secret_basic" }, "invalid_client_metadata"],
    ["keys", { jwks_uri: "https://x.example/jwks" }, "invalid_client_metadata"],
    ["the client_credentials grant", { grant_types: ["client_credentials"] }, "invalid_client_metadata"],
    ["the implicit flow", { response_types: ["token"] }, "invalid_client_metadata"],
    ["a malformed scope", { scope: "Admin!" }, "invalid_client_metadata"],
    ["a control character in the name", { client_name: "a\u0000b" }, "invalid_client_metadata"],
    ["http on another host", { redirect_uris: ["http://evil.example/cb"] }, "invalid_redirect_uri"],
    ["a javascript: URI", { redirect_uris: ["javascript:alert(1)"] }, "invalid_redirect_uri"],
    ["a fragment", { redirect_uris: ["https://app.example.org/cb#x"] }, "invalid_redirect_uri"],
    ["no redirect URI", { redirect_uris: [] }, "invalid_redirect_uri"],
    ["eleven redirect URIs", { redirect_uris: Array.from({ length: 11 }, (_, i) => `https://app.example.org/${i}`) }, "invalid_redirect_uri"],
  ])("refuses %s with 400 %s and writes nothing", async (_label, fields, error) => {
    const name = `hostile-${crypto.randomUUID()}`;
    const res = await register({ client_name: name, redirect_uris: ["https://app.example.org/cb"], ...fields });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error });
    expect(await registered(name)).toBe(0);
  });

  it("refuses a body that is not JSON, the wrong content type and an oversized body, writing nothing", async () => {
    expect((await register("{not json")).status).toBe(400);
    expect((await register({ redirect_uris: ["https://app.example.org/cb"] }, { contentType: "text/plain" })).status).toBe(400);
    const name = `big-${crypto.randomUUID()}`;
    const big = await register({ client_name: name, redirect_uris: ["https://app.example.org/cb"], padding: "x".repeat(9000) });
    expect(big.status).toBe(400);
    expect(await big.json()).toMatchObject({ code: "InvalidRequest" });
    expect(await registered(name)).toBe(0);
  });

  it("a flood from one address: the 60th registration of the minute is served, the 61st answers 429", async () => {
    const name = `flood-${crypto.randomUUID()}`;
    for (let tries = 0; ; tries++) {
      const ip = freshIp();
      const window = Math.floor(Date.now() / PERIOD_MS);
      for (let i = 0; i < LIMIT - 1; i++) await env.AUTH_RATE_LIMITER.limit({ key: `oauth-register:${rateLimitKey(ip)}` });
      const before = await registered(name);
      const last = await register({ client_name: name, redirect_uris: ["https://app.example.org/cb"] }, { ip });
      const limited = await register({ client_name: name, redirect_uris: ["https://app.example.org/cb"] }, { ip });
      const other = await register({ client_name: name, redirect_uris: ["https://app.example.org/cb"] }, { ip: freshIp() });
      if (Math.floor(Date.now() / PERIOD_MS) !== window && tries < 4) continue;
      expect(last.status).toBe(201);
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBe("60");
      expect(other.status).toBe(201);
      // The refused one wrote nothing: only `last` and `other` were stored.
      expect((await registered(name)) - before).toBe(2);
      break;
    }
  });

  it("the cron deletes registrations unused for a day, and keeps used and recent ones", async () => {
    const id = async (name: string) => String(((await (await register({ client_name: name, redirect_uris: ["https://hk-dcr.example.org/cb"] })).json()) as { client_id: string }).client_id);
    const unused = await id(`unused-${crypto.randomUUID()}`);
    const used = await id(`used-${crypto.randomUUID()}`);
    const recent = await id(`recent-${crypto.randomUUID()}`);
    await codeFor(as, browser.cookieHeader, { clientId: used, secret: null, redirectUri: "https://hk-dcr.example.org/cb" }, { scope: "openid" });
    await rawSql("UPDATE oauth_clients SET created_at = now() - interval '2 days' WHERE id = ANY($1::uuid[])", [[unused, used]]);
    const counts = await runHousekeeping(scopedEnv("oauth-register-hk"), new Date());
    expect(counts!.registrations).toBeGreaterThanOrEqual(1);
    const left = await rawSql<{ id: string }>("SELECT id FROM oauth_clients WHERE id = ANY($1::uuid[])", [[unused, used, recent]]);
    expect(left.map((r) => r.id).sort()).toEqual([used, recent].sort());
    expect(await clientRows(used)).toMatchObject({ grants: 1 });
    // A client nobody registered dynamically is never touched, however old and unused.
    const [staticClient] = await rawSql<{ id: string }>(
      `INSERT INTO oauth_clients (name, type, application_type, redirect_uris, scopes, created_at) VALUES ('old static', 'public', 'web', ARRAY['https://s.example.org/cb'], ARRAY['openid'], now() - interval '30 days') RETURNING id`,
    );
    await runHousekeeping(scopedEnv("oauth-register-hk"), new Date());
    expect(await rawSql("SELECT 1 FROM oauth_clients WHERE id = $1", [staticClient!.id])).toHaveLength(1);
  });
});

describe("callWorker default env", () => {
  it("a registration endpoint that is off is not reachable through the app's default environment either", async () => {
    expect((await callWorker("/oauth/register", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(404);
  });
});
