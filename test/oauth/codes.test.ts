/**
 * Authorization codes under attack: PKCE, bindings (client, redirect_uri,
 * resource), expiry, replay (sequential, and 20 concurrent exchanges on
 * real Postgres: one token set, and the replay revokes it), cross-client
 * refresh tokens, disabled clients, and the boundary between OAuth refresh
 * tokens and browser session cookies.
 */
import { env } from "cloudflare:workers";
import type * as oauth from "oauth4webapi";
import { beforeAll, describe, expect, it } from "vitest";
import { call, scopedEnv } from "../helpers/app";
import { rawSql } from "../helpers/neon-local";
import { callWorker, cookieHeader, createTestUser, resetRoundTrips, roundTrips, signInAs, type TestSession } from "../helpers/sessions";
import { wrapKv } from "../signin/helpers";
import { clientRows, codeExchange, codeFor, createClient, discover, tokenRequest } from "./helpers";

let as: oauth.AuthorizationServer;
let browser: TestSession;

beforeAll(async () => {
  as = await discover();
  browser = await signInAs(await createTestUser());
});

async function userinfoStatus(accessToken: string): Promise<number> {
  return (await callWorker("/oauth/userinfo", { headers: { authorization: `Bearer ${accessToken}` } })).status;
}

describe("PKCE and bindings at the token endpoint", () => {
  it("refuses a wrong verifier, another redirect_uri, another resource and another client without consuming the code", async () => {
    const app = await createClient({ redirectUris: ["https://a.example.org/cb", "https://a.example.org/other"] });
    const other = await createClient({ redirectUris: ["https://a.example.org/cb"] });
    const got = await codeFor(as, browser.cookieHeader, app, { resource: "https://api.example.com" });
    const before = await clientRows(app.clientId);
    const base = codeExchange(app, got);
    const attempts: Record<string, string>[] = [
      { ...base, code_verifier: "x".repeat(43) },
      { ...base, code_verifier: "short" },
      { ...base, redirect_uri: "https://a.example.org/other" },
      { ...base, resource: "https://other-api.example.com" },
      { ...base, client_id: other.clientId },
    ];
    for (const fields of attempts) {
      await resetRoundTrips();
      const res = await tokenRequest(fields);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_grant" });
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(await roundTrips()).toBeLessThanOrEqual(1);
    }
    expect(await clientRows(app.clientId)).toEqual(before);
    expect(await clientRows(other.clientId)).toMatchObject({ consumed: 0, sessions: 0 });
    // The legitimate client can still use it.
    const ok = await tokenRequest(base);
    expect(ok.status).toBe(200);
  });

  it("a client disabled between authorization and exchange gets invalid_client, and the code is not consumed", async () => {
    const app = await createClient({ redirectUris: ["https://late.example.org/cb"] });
    const got = await codeFor(as, browser.cookieHeader, app);
    await rawSql("UPDATE oauth_clients SET disabled_at = now() WHERE id = $1", [app.clientId]);
    const before = await clientRows(app.clientId);
    const res = await tokenRequest(codeExchange(app, got));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_client" });
    expect(await clientRows(app.clientId)).toEqual(before);
  });

  it("refuses an expired code (60 s lifetime) and writes nothing", async () => {
    const app = await createClient({ redirectUris: ["https://exp.example.org/cb"] });
    const got = await codeFor(as, browser.cookieHeader, app);
    await rawSql("UPDATE oauth_codes SET expires_at = now() - interval '1 second' WHERE client_id = $1", [app.clientId]);
    const before = await clientRows(app.clientId);
    const res = await tokenRequest(codeExchange(app, got));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_grant" });
    expect(await clientRows(app.clientId)).toEqual(before);
    const [row] = await rawSql<{ seconds: number }>("SELECT extract(epoch FROM expires_at - created_at)::int AS seconds FROM oauth_codes WHERE client_id = $1", [app.clientId]);
    expect(row?.seconds).toBeLessThanOrEqual(61);
  });

  it("a confidential client must authenticate: no secret or a wrong one is invalid_client (401) and the code survives", async () => {
    const web = await createClient({ type: "confidential", redirectUris: ["https://conf.example.net/cb"] });
    const got = await codeFor(as, browser.cookieHeader, web);
    const base = codeExchange(web, got);
    const none = await tokenRequest(base);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: "invalid_client" });
    const wrong = await tokenRequest(base, { id: web.clientId, secret: "not-the-secret" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect((await clientRows(web.clientId)).consumed).toBe(0);
    const { client_id: _, ...withoutId } = base;
    const ok = await tokenRequest(withoutId, { id: web.clientId, secret: web.secret! });
    expect(ok.status).toBe(200);
  });
});

describe("userinfo", () => {
  it("fails closed with 503 StorageUnavailable when the denylist cannot be read (never the claims)", async () => {
    const app = await createClient({ redirectUris: ["https://kv-down.example.org/cb"] });
    const got = await codeFor(as, browser.cookieHeader, app, { scope: "openid" });
    const tokens = (await (await tokenRequest(codeExchange(app, got))).json()) as { access_token: string };
    const { kv } = wrapKv(env.AUTH_KV, { failGet: true });
    const res = await call("/oauth/userinfo", { headers: { authorization: `Bearer ${tokens.access_token}` } }, { env: { ...scopedEnv("userinfo-kv"), AUTH_KV: kv } as Env });
    expect(res.status).toBe(503);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: "StorageUnavailable" });
    expect(body).not.toHaveProperty("sub");
    expect(await userinfoStatus(tokens.access_token)).toBe(200);
  });
});

describe("code replay", () => {
  it("a second use is refused and revokes the refresh token and access token issued from the code", async () => {
    const app = await createClient({ redirectUris: ["https://replay.example.org/cb"] });
    const got = await codeFor(as, browser.cookieHeader, app, { scope: "openid offline_access" });
    const first = await tokenRequest(codeExchange(app, got));
    expect(first.status).toBe(200);
    const tokens = (await first.json()) as { access_token: string; refresh_token: string };
    expect(await userinfoStatus(tokens.access_token)).toBe(200);

    await resetRoundTrips();
    const replay = await tokenRequest(codeExchange(app, got));
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: "invalid_grant" });
    expect(await roundTrips()).toBe(1);
    expect(await clientRows(app.clientId)).toMatchObject({ sessions: 1, revoked: 1, replayed: 1 });
    expect(await userinfoStatus(tokens.access_token)).toBe(401);
    const refresh = await tokenRequest({ grant_type: "refresh_token", client_id: app.clientId, refresh_token: tokens.refresh_token });
    expect(refresh.status).toBe(400);
  });

  it.runIf(env.DATABASE_BACKEND === "pg")("20 concurrent exchanges: exactly one token set, and the replays revoke it", async () => {
    const app = await createClient({ redirectUris: ["https://race.example.org/cb"] });
    const got = await codeFor(as, browser.cookieHeader, app, { scope: "openid offline_access" });
    const responses = await Promise.all(Array.from({ length: 20 }, () => tokenRequest(codeExchange(app, got))));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(responses.filter((r) => r.status === 400)).toHaveLength(19);
    const tokens = (await ok[0]!.json()) as { access_token: string; refresh_token: string };
    expect(await clientRows(app.clientId)).toMatchObject({ sessions: 1, families: 1, consumed: 1, replayed: 1 });
    // The replay revoked the winner's grant: its access token and refresh token are dead.
    expect(await userinfoStatus(tokens.access_token)).toBe(401);
    const refresh = await tokenRequest({ grant_type: "refresh_token", client_id: app.clientId, refresh_token: tokens.refresh_token });
    expect(refresh.status).toBe(400);
    expect(await clientRows(app.clientId)).toMatchObject({ revoked: 1 });
  });
});

describe("a replay racing the exchange", () => {
  it("only marks the code (the new family is not yet visible to it); the family's first refresh revokes it", async () => {
    const app = await createClient({ redirectUris: ["https://mark.example.org/cb"] });
    const got = await codeFor(as, browser.cookieHeader, app, { scope: "openid offline_access" });
    const tokens = (await (await tokenRequest(codeExchange(app, got))).json()) as { refresh_token: string };
    // What a concurrent replay leaves behind when its snapshot predates the exchange's commit.
    await rawSql("UPDATE oauth_codes SET replayed_at = now() WHERE client_id = $1", [app.clientId]);
    expect(await clientRows(app.clientId)).toMatchObject({ revoked: 0 });
    await resetRoundTrips();
    const refresh = await tokenRequest({ grant_type: "refresh_token", client_id: app.clientId, refresh_token: tokens.refresh_token });
    expect(refresh.status).toBe(400);
    expect(await roundTrips()).toBe(1);
    expect(await clientRows(app.clientId)).toMatchObject({ revoked: 1 });
  });
});

describe("refresh tokens", () => {
  async function refreshTokenFor(client: Awaited<ReturnType<typeof createClient>>) {
    const got = await codeFor(as, browser.cookieHeader, client, { scope: "openid offline_access" });
    const res = await tokenRequest(codeExchange(client, got));
    expect(res.status).toBe(200);
    return ((await res.json()) as { refresh_token: string }).refresh_token;
  }

  it("another client's refresh token is refused and does not rotate the family", async () => {
    const a = await createClient({ redirectUris: ["https://ra.example.org/cb"] });
    const b = await createClient({ redirectUris: ["https://rb.example.org/cb"] });
    const token = await refreshTokenFor(a);
    const [before] = await rawSql<{ secret_hash: string }>("SELECT secret_hash FROM sessions WHERE client_id = $1", [a.clientId]);
    const res = await tokenRequest({ grant_type: "refresh_token", client_id: b.clientId, refresh_token: token });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_grant" });
    const [after] = await rawSql<{ secret_hash: string }>("SELECT secret_hash FROM sessions WHERE client_id = $1", [a.clientId]);
    expect(after).toEqual(before);
    expect((await tokenRequest({ grant_type: "refresh_token", client_id: a.clientId, refresh_token: token })).status).toBe(200);
  });

  it("a refresh naming another resource is invalid_target and rotates nothing", async () => {
    const a = await createClient({ redirectUris: ["https://rt.example.org/cb"], resources: ["https://api.example.com", "https://other-api.example.com"] });
    const got = await codeFor(as, browser.cookieHeader, a, { scope: "openid offline_access", resource: "https://api.example.com" });
    const { refresh_token } = (await (await tokenRequest(codeExchange(a, got))).json()) as { refresh_token: string };
    const [before] = await rawSql("SELECT secret_hash FROM sessions WHERE client_id = $1", [a.clientId]);
    const res = await tokenRequest({ grant_type: "refresh_token", client_id: a.clientId, refresh_token, resource: "https://other-api.example.com" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_target" });
    expect(await rawSql("SELECT secret_hash FROM sessions WHERE client_id = $1", [a.clientId])).toEqual([before]);
    const same = await tokenRequest({ grant_type: "refresh_token", client_id: a.clientId, refresh_token, resource: "https://api.example.com" });
    expect(same.status).toBe(200);
  });

  it("rotation with reuse detection: the old token after the grace window revokes the family", async () => {
    const a = await createClient({ redirectUris: ["https://reuse.example.org/cb"] });
    const token = await refreshTokenFor(a);
    const first = await tokenRequest({ grant_type: "refresh_token", client_id: a.clientId, refresh_token: token });
    const next = ((await first.json()) as { refresh_token: string }).refresh_token;
    // Within the grace window the old token still answers, without a new refresh token.
    const grace = await tokenRequest({ grant_type: "refresh_token", client_id: a.clientId, refresh_token: token });
    expect(grace.status).toBe(200);
    expect((await grace.json()) as object).not.toHaveProperty("refresh_token");
    await rawSql("UPDATE sessions SET rotated_at = rotated_at - interval '1 hour' WHERE client_id = $1", [a.clientId]);
    const reuse = await tokenRequest({ grant_type: "refresh_token", client_id: a.clientId, refresh_token: token });
    expect(reuse.status).toBe(400);
    expect((await tokenRequest({ grant_type: "refresh_token", client_id: a.clientId, refresh_token: next })).status).toBe(400);
    expect(await clientRows(a.clientId)).toMatchObject({ revoked: 1 });
  });

  it("a disabled client's refresh tokens stop at once (invalid_client)", async () => {
    const a = await createClient({ redirectUris: ["https://dis.example.org/cb"] });
    const token = await refreshTokenFor(a);
    await rawSql("UPDATE oauth_clients SET disabled_at = now() WHERE id = $1", [a.clientId]);
    const [before] = await rawSql("SELECT secret_hash FROM sessions WHERE client_id = $1", [a.clientId]);
    const res = await tokenRequest({ grant_type: "refresh_token", client_id: a.clientId, refresh_token: token });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_client" });
    expect(await rawSql("SELECT secret_hash FROM sessions WHERE client_id = $1", [a.clientId])).toEqual([before]);
  });

  it("an OAuth refresh token is not a browser session cookie, and a browser refresh cookie is not an OAuth refresh token", async () => {
    const a = await createClient({ redirectUris: ["https://cookie.example.org/cb"] });
    const token = await refreshTokenFor(a);
    const asCookie = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ refresh: token }) } });
    expect(asCookie.status).toBe(401);
    const user = await signInAs(await createTestUser());
    const asGrant = await tokenRequest({ grant_type: "refresh_token", client_id: a.clientId, refresh_token: user.refreshToken });
    expect(asGrant.status).toBe(400);
    expect((await callWorker("/auth/session", { headers: { cookie: cookieHeader({ refresh: user.refreshToken }) } })).status).toBe(200);
  });
});

describe("grants gatehouse does not offer", () => {
  it.each([
    ["password", "unsupported_grant_type"],
    ["client_credentials", "unsupported_grant_type"],
    ["urn:ietf:params:oauth:grant-type:device_code", "unsupported_grant_type"],
    ["implicit", "unsupported_grant_type"],
  ])("grant_type=%s → %s", async (grant, error) => {
    const a = await createClient({ redirectUris: ["https://g.example.org/cb"] });
    const res = await tokenRequest({ grant_type: grant, client_id: a.clientId, username: "u", password: "p" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error });
  });

  it("a JSON body or a repeated parameter is invalid_request", async () => {
    const json = await callWorker("/oauth/token", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: "invalid_request" });
    const repeated = await callWorker("/oauth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=authorization_code&grant_type=refresh_token",
    });
    expect(await repeated.json()).toMatchObject({ error: "invalid_request" });
  });
});
