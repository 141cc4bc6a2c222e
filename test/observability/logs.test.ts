/**
 * Every log line is one JSON object, request lines carry the request id,
 * route pattern, status and duration, and no secret ever reaches the logs.
 *
 * One test runs a broad set of flows with the console captured (a GitHub
 * sign-in through the fakes, browser refresh and refresh-token reuse, an
 * email sign-in with a wrong code then the right one, an OAuth code exchange,
 * a refresh grant and a replayed code, the organization API, hostile and
 * malformed input, a database failure, a broken configuration), collects
 * every secret, token, code, cookie value and connection string those flows
 * used, and scans each captured line for each of them.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { TEST_SIGNING_KEYS } from "../bindings";
import { call, scopedEnv } from "../helpers/app";
import { clearFaults, rawSql, setFaults } from "../helpers/neon-local";
import { accessTokenFor, api, SERVICE_SECRET } from "../helpers/orgs";
import { cookieHeader, createTestUser, setCookies, signInAs } from "../helpers/sessions";
import { askCode, freshAddress, postCode } from "../email/helpers";
import { codeExchange, codeFor, createClient, discover, tokenRequest } from "../oauth/helpers";
import { beginFlow, callbackPath, request, signinEnv } from "../signin/helpers";
import { captureConsole, linesOf, type CapturedConsole } from "./capture";

const SCOPE = "observability_logs";
const targetEnv = scopedEnv(SCOPE);

let captured: CapturedConsole | undefined;
afterEach(async () => {
  captured?.restore();
  captured = undefined;
  await clearFaults(SCOPE);
});

/** The DATABASE_URL (a secret, so not in the generated Env type) of this file's scope. */
function scopedDatabaseUrl(): string {
  return (scopedEnv(SCOPE) as unknown as { DATABASE_URL: string }).DATABASE_URL;
}

/** Values of a Set-Cookie list, by cookie name. */
function cookieValues(res: Response): string[] {
  return [...setCookies(res).values()].map((c) => c.value).filter((v) => v.length > 0);
}

/** Each secret the configuration holds, as it could leak (whole, and its parts). */
function configurationSecrets(): string[] {
  const e = env as unknown as Record<string, string | undefined>;
  const databaseUrl = new URL(scopedDatabaseUrl());
  const values: (string | undefined)[] = [
    scopedDatabaseUrl(),
    e.DATABASE_URL,
    ...(databaseUrl.password ? [databaseUrl.password] : []),
    ...TEST_SIGNING_KEYS.map((k) => k.d),
    ...String(e.TOKEN_ENCRYPTION_KEY).split(",").map((k) => k.split(":")[1]!),
    e.GITHUB_CLIENT_SECRET,
    e.GOOGLE_CLIENT_SECRET,
    e.FACEBOOK_CLIENT_SECRET,
    e.NAVER_CLIENT_SECRET,
    e.KAKAO_CLIENT_SECRET,
    e.RESEND_API_KEY,
    e.OIDC_LOCAL_CLIENT_SECRET,
    SERVICE_SECRET,
    "test-backend-secret-0123456789",
  ];
  return values.filter((v): v is string => v !== undefined && v !== "");
}

/**
 * Where `secret` appears in `line`. Short values (a six-digit email code)
 * count only as a whole token, so a request id that happens to contain the
 * same digits is not a leak.
 */
function leaks(line: string, secret: string): boolean {
  if (secret.length >= 12) return line.includes(secret);
  const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`).test(line);
}

describe("logs", () => {
  it("every line of a broad set of flows is JSON with the request id; request lines have route, status and duration; no secret appears", async () => {
    const secrets: string[] = configurationSecrets();
    const keep = (...values: (string | null | undefined)[]) => {
      for (const v of values) if (v) secrets.push(v);
    };
    let requests = 0;
    captured = captureConsole();

    // 1. A GitHub sign-in through the fake: the provider's code and our state in the callback URL.
    const signinTarget = signinEnv(SCOPE);
    const flow = await beginFlow("github", signinTarget, { user: { id: String(Date.now()), email: freshAddress(), name: "Obs" } }, "?redirect_to=https%3A%2F%2Fapp.example.com%2Fafter");
    requests += 1; // the sign-in start
    keep(flow.callbackUrl.searchParams.get("code"), flow.callbackUrl.searchParams.get("state"), flow.cookie.split("=")[1]);
    const signedIn = await request(callbackPath(flow), { headers: { cookie: flow.cookie, accept: "text/html" } }, signinTarget);
    requests += 1;
    expect(signedIn.status).toBe(302);
    keep(...cookieValues(signedIn));
    // The same callback again (a replayed code and state).
    await request(callbackPath(flow), { headers: { cookie: flow.cookie, accept: "application/json" } }, signinTarget);
    requests += 1;

    // 2. Browser refresh, then reuse of the old token after the grace window.
    const browser = await signInAs(await createTestUser());
    keep(browser.refreshToken, browser.sessionJwt, browser.refreshToken.split(".").at(-1));
    const rotated = await call("/auth/session", { headers: { cookie: cookieHeader({ refresh: browser.refreshToken }) } }, { env: targetEnv });
    requests += 1;
    expect(rotated.status).toBe(200);
    keep(...cookieValues(rotated));
    await rawSql("UPDATE sessions SET rotated_at = rotated_at - interval '1 hour' WHERE id = $1", [browser.sessionId]);
    expect((await call("/auth/session", { headers: { cookie: cookieHeader({ refresh: browser.refreshToken }) } }, { env: targetEnv })).status).toBe(401);
    requests += 1;
    // A session JWT that was tampered with, and a refresh cookie that is garbage.
    await call("/auth/session", { headers: { cookie: cookieHeader({ session: `${browser.sessionJwt}x`, refresh: "not-a-token.secretvalue0123456789" }) } }, { env: targetEnv });
    requests += 1;
    keep(`${browser.sessionJwt}x`, "secretvalue0123456789");

    // 3. Email sign-in: a wrong code, then the right one.
    const address = freshAddress();
    const asked = await askCode(address, targetEnv);
    requests += 1;
    keep(asked.code, asked.challenge, asked.cookie.split("=")[1], asked.link.searchParams.get("c"));
    const wrong = asked.code === "000000" ? "111111" : "000000";
    expect((await postCode(asked.challenge, wrong, asked.cookie, targetEnv)).status).toBe(400);
    const emailSignedIn = await postCode(asked.challenge, asked.code, asked.cookie, targetEnv);
    requests += 2;
    expect(emailSignedIn.status).toBe(303);
    keep(...cookieValues(emailSignedIn));
    // The emailed link's GET, with the code pre-filled in its query string.
    await call(`/auth/email/verify?c=${encodeURIComponent(asked.challenge)}&code=${asked.code}`, { headers: { cookie: asked.cookie, accept: "text/html" } }, { env: targetEnv });
    requests += 1;

    // 4. OAuth: a confidential client's code exchange, a refresh grant, the code replayed, a wrong secret.
    const client = await createClient({ type: "confidential" });
    keep(client.secret);
    const as = await discover();
    const got = await codeFor(as, (await signInAs(await createTestUser())).cookieHeader, client, { scope: "openid offline_access" });
    keep(got.code, got.verifier, got.nonce);
    const basic = { id: client.clientId, secret: client.secret! };
    const exchanged = await tokenRequest(codeExchange(client, got), basic);
    expect(exchanged.status).toBe(200);
    const tokens = (await exchanged.json()) as { access_token: string; refresh_token: string; id_token: string };
    keep(tokens.access_token, tokens.refresh_token, tokens.id_token);
    const refreshed = await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token }, basic);
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string };
    keep(next.access_token, next.refresh_token);
    expect((await tokenRequest(codeExchange(client, got), basic)).status).toBe(400);
    expect((await tokenRequest({ grant_type: "refresh_token", refresh_token: next.refresh_token }, { id: client.clientId, secret: "wrong-secret-0123456789" })).status).toBe(401);
    keep("wrong-secret-0123456789");
    await call("/oauth/revoke", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${client.clientId}:${client.secret}`)}` }, body: new URLSearchParams({ token: next.refresh_token }) }, { env: targetEnv });
    requests += 1;

    // 5. The organization API: create, list members, malformed and unauthenticated calls.
    const owner = await createTestUser();
    const token = await accessTokenFor(owner);
    keep(token);
    const created = await api(token, "POST", "/api/orgs", { name: "Observed", slug: `obs-${crypto.randomUUID().slice(0, 8)}` }, { env: targetEnv });
    expect(created.status).toBe(201);
    const org = ((await created.json()) as { org: { id: string } }).org;
    expect((await api(token, "GET", `/api/orgs/${org.id}/members`, undefined, { env: targetEnv })).status).toBe(200);
    expect((await call("/api/orgs", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{not json" }, { env: targetEnv })).status).toBe(400);
    expect((await api(`${token.slice(0, -4)}AAAA`, "GET", "/api/orgs", undefined, { env: targetEnv })).status).toBe(401);
    keep(`${token.slice(0, -4)}AAAA`);
    // A service client's token read with a wrong secret.
    await call(`/api/orgs/${org.id}/pages/123/token`, { method: "POST", headers: { authorization: `Basic ${btoa(`test-backend:${SERVICE_SECRET}x`)}` } }, { env: targetEnv });
    requests += 5;

    // 6. Hostile input: a forged callback, an unknown path with a token in its query.
    await call(`/auth/callback/github?code=forged-code-0123456789&state=${"s".repeat(43)}`, { headers: { accept: "application/json" } }, { env: targetEnv });
    await call("/no/such/path?access_token=query-token-0123456789", {}, { env: targetEnv });
    keep("forged-code-0123456789", "query-token-0123456789");
    requests += 2;

    // 7. The database fails: 503, logged by class and SQLSTATE only.
    await setFaults({ failMatching: "sessions", mode: "postgres", code: "40P01", scope: SCOPE });
    const down = await call("/auth/session", { headers: { cookie: cookieHeader({ refresh: (await signInAs(await createTestUser())).refreshToken }) } }, { env: targetEnv });
    expect(down.status).toBe(503);
    await clearFaults(SCOPE);
    requests += 1;

    // 8. A broken configuration: a quoted database URL and a signing key set that is not JSON.
    const quotedUrl = `"${scopedDatabaseUrl()}"`;
    const broken = { ...targetEnv, DATABASE_URL: quotedUrl, AUTH_SIGNING_KEYS: "not-json-signing-key-0123456789" } as Env;
    keep(quotedUrl, "not-json-signing-key-0123456789");
    expect((await call("/auth/session", {}, { env: broken })).status).toBe(500);
    requests += 1;

    captured.restore();
    const lines = captured.lines;

    // Every line is one JSON object with a level, an event and the request's id.
    const parsed = lines.map((line) => {
      let value: unknown;
      expect(() => (value = JSON.parse(line)), line).not.toThrow();
      return value as Record<string, unknown>;
    });
    for (const [i, line] of parsed.entries()) {
      expect(line, lines[i]).toMatchObject({ level: expect.stringMatching(/^(info|warn|error)$/), event: expect.any(String), requestId: expect.any(String) });
    }
    const requestLines = linesOf(lines, "request");
    expect(requestLines.length).toBeGreaterThanOrEqual(requests);
    for (const line of requestLines) {
      expect(line).toMatchObject({ method: expect.any(String), route: expect.stringMatching(/^\//), status: expect.any(Number), durationMs: expect.any(Number) });
      expect(line.route as string).not.toMatch(/[?=]/);
      expect(line.level).toBe((line.status as number) >= 500 ? "error" : (line.status as number) === 429 ? "warn" : "info");
    }
    // Other lines belong to a request that has its own line.
    const ids = new Set(requestLines.map((l) => l.requestId));
    for (const line of parsed) expect(ids.has(line.requestId), JSON.stringify(line)).toBe(true);
    // Routes are patterns; errors carry their code.
    const routes = new Set(requestLines.map((l) => l.route));
    for (const route of ["/auth/callback/:provider", "/auth/session", "/auth/email/verify", "/oauth/token", "/api/orgs/:org/members", "/api/orgs/:org/pages/:pageId/token"]) expect(routes).toContain(route);
    expect(requestLines).toContainEqual(expect.objectContaining({ route: "/auth/session", status: 503, errorCode: "DatabaseUnavailable", level: "error" }));
    expect(requestLines).toContainEqual(expect.objectContaining({ status: 500, errorCode: "Configuration", level: "error" }));
    expect(requestLines).toContainEqual(expect.objectContaining({ route: "/auth/email/verify", status: 400, errorCode: "EmailCodeInvalid" }));
    expect(requestLines).toContainEqual(expect.objectContaining({ status: 404, errorCode: "NotFound" }));
    expect(parsed.map((l) => l.event)).toEqual(expect.arrayContaining(["signed_in", "refresh_token_reused", "authorization_code_replayed", "configuration_invalid", "request_failed"]));

    // Nothing secret, anywhere.
    expect(secrets.length).toBeGreaterThan(30);
    for (const secret of secrets) {
      expect(secret.length, "a secret to scan for").toBeGreaterThanOrEqual(4);
      for (const line of lines) expect(leaks(line, secret), `a secret in the logs: ${line}`).toBe(false);
    }
    // Nor the email address (personal data), nor any query string.
    for (const line of lines) {
      expect(line).not.toContain(address);
      expect(line).not.toMatch(/\?[a-z_]+=/);
    }
  });

  it("the request id is the cf-ray when present, on the request line and every line of that request", async () => {
    const ray = `8f1c2d3e4f5a6b7c-ICN`;
    const s = await signInAs(await createTestUser());
    captured = captureConsole();
    const first = await call("/auth/session", { headers: { cookie: cookieHeader({ refresh: s.refreshToken }), "cf-ray": ray } }, { env: targetEnv });
    await rawSql("UPDATE sessions SET rotated_at = rotated_at - interval '1 hour' WHERE id = $1", [s.sessionId]);
    await call("/auth/session", { headers: { cookie: cookieHeader({ refresh: s.refreshToken }), "cf-ray": ray } }, { env: targetEnv });
    captured.restore();
    expect(first.status).toBe(200);
    const parsed = captured.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((l) => l.event)).toEqual(["request", "refresh_token_reused", "request"]);
    for (const line of parsed) expect(line.requestId).toBe(ray);
  });
});
