/**
 * Analytics Engine counters (src/observability/metrics.ts): Miniflare runs
 * the `AUTH_ANALYTICS` binding from wrangler.toml as a local simulator that
 * keeps nothing, so these tests spy on the real binding's `writeDataPoint`
 * and check each data point's layout. Without the binding, or with one that
 * throws, requests answer exactly as before.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { countWebhookDelivery } from "../../src/observability/metrics";
import { call, scopedEnv } from "../helpers/app";
import { rawSql } from "../helpers/neon-local";
import { api } from "../helpers/orgs";
import { cookieHeader, createTestUser, setCookies, signInAs } from "../helpers/sessions";
import { askCode, freshAddress } from "../email/helpers";
import { beginFlow, callbackPath, request } from "../signin/helpers";
import { codeExchange, codeFor, createClient, discover, tokenRequest } from "../oauth/helpers";
import { captureConsole, linesOf } from "./capture";

const SCOPE = "observability_metrics";
const targetEnv = scopedEnv(SCOPE);
const KR = { country: "KR" } as unknown as IncomingRequestCfProperties;

let writes: MockInstance<AnalyticsEngineDataset["writeDataPoint"]>;

beforeEach(() => {
  writes = vi.spyOn(env.AUTH_ANALYTICS, "writeDataPoint");
});
afterEach(() => {
  writes.mockRestore();
});

function points(event?: string): AnalyticsEngineDataPoint[] {
  return writes.mock.calls.map((c) => c[0]!).filter((p) => event === undefined || p.blobs?.[0] === event);
}

function refresh(token: string, targetEnvironment = targetEnv): Promise<Response> {
  return call("/auth/session", { headers: { cookie: cookieHeader({ refresh: token }) }, cf: KR } as RequestInit, { env: targetEnvironment });
}

describe("the binding", () => {
  it("comes from wrangler.toml (Miniflare's local Analytics Engine simulator)", () => {
    expect(typeof env.AUTH_ANALYTICS.writeDataPoint).toBe("function");
  });
});

describe("counters", () => {
  it("counts an email sign-in by method, with the country and the route", async () => {
    const asked = await askCode(freshAddress(), targetEnv);
    writes.mockClear();
    const res = await call("/auth/email/verify", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://auth.example.com", cookie: asked.cookie, accept: "text/html" },
      body: new URLSearchParams({ c: asked.challenge, code: asked.code }),
      cf: KR,
    } as RequestInit, { env: targetEnv });
    expect(res.status).toBe(303);
    expect(points()).toEqual([{ blobs: ["signin", "email", "", "KR", "/auth/email/verify"], doubles: [1], indexes: ["signin"] }]);
  });

  it("counts browser refresh outcomes: rotated, grace, reuse_detected, rejected", async () => {
    const s = await signInAs(await createTestUser());
    expect((await refresh(s.refreshToken)).status).toBe(200);
    expect((await refresh(s.refreshToken)).status).toBe(200);
    await rawSql("UPDATE sessions SET rotated_at = rotated_at - interval '1 hour' WHERE id = $1", [s.sessionId]);
    expect((await refresh(s.refreshToken)).status).toBe(401);
    expect((await refresh(s.refreshToken)).status).toBe(401);
    expect(points("refresh").map((p) => p.blobs)).toEqual([
      ["refresh", "browser", "rotated", "KR", "/auth/session"],
      ["refresh", "browser", "grace", "KR", "/auth/session"],
      ["refresh", "browser", "reuse_detected", "KR", "/auth/session"],
      ["refresh", "browser", "rejected", "KR", "/auth/session"],
    ]);
    // Each 401 is also a failure by code.
    expect(points("failure").map((p) => p.blobs?.[2])).toEqual(["Unauthorized", "Unauthorized"]);
  });

  it("counts OAuth refresh grants: rotated, then reuse_detected", async () => {
    const client = await createClient();
    const browser = await signInAs(await createTestUser());
    const got = await codeFor(await discover(), browser.cookieHeader, client, { scope: "openid offline_access" });
    const tokens = (await (await tokenRequest(codeExchange(client, got))).json()) as { refresh_token: string };
    writes.mockClear();
    const form = { grant_type: "refresh_token", client_id: client.clientId, refresh_token: tokens.refresh_token };
    expect((await tokenRequest(form)).status).toBe(200);
    // oidc-style clients see the previous token as reuse once the grace window is over.
    await rawSql("UPDATE sessions SET rotated_at = rotated_at - interval '1 hour' WHERE client_id = $1", [client.clientId]);
    expect((await tokenRequest(form)).status).toBe(400);
    expect(points("refresh").map((p) => p.blobs?.slice(0, 3))).toEqual([
      ["refresh", "oauth", "rotated"],
      ["refresh", "oauth", "reuse_detected"],
    ]);
  });

  it("counts every error onError renders, by code and route pattern (never the URL)", async () => {
    const org = crypto.randomUUID();
    const res = await call(`/api/orgs/${org}/members?token=not-a-token`, { cf: KR } as RequestInit, { env: targetEnv });
    expect(res.status).toBe(401);
    const badJson = await api("not-a-jwt", "POST", "/api/orgs", "{", { env: targetEnv });
    expect(badJson.status).toBe(401);
    expect(points("failure").map((p) => p.blobs)).toEqual([
      ["failure", "", "Unauthorized", "KR", "/api/orgs/:org/members"],
      ["failure", "", "Unauthorized", "", "/api/orgs"],
    ]);
  });

  it("counts a provider's failed sign-in with the provider", async () => {
    const flow = await beginFlow("github", targetEnv, { authorizeError: "access_denied" });
    writes.mockClear();
    const res = await request(callbackPath(flow), { headers: { accept: "application/json", cookie: flow.cookie } }, targetEnv);
    expect(res.status).toBe(403);
    expect(points().map((p) => p.blobs)).toEqual([["failure", "github", "AccessDenied", "", "/auth/callback/:provider"]]);
  });
});

describe("an optional binding that never fails a request", () => {
  it("without AUTH_ANALYTICS every counter is a no-op and requests answer as before", async () => {
    const bare = { ...targetEnv, AUTH_ANALYTICS: undefined } as unknown as Env;
    const s = await signInAs(await createTestUser());
    expect((await refresh(s.refreshToken, bare)).status).toBe(200);
    expect((await call("/api/orgs", {}, { env: bare })).status).toBe(401);
    expect(writes).not.toHaveBeenCalled();
  });

  it("a binding that throws: the request still succeeds and a warning is logged with the request id", async () => {
    const throwing = { ...targetEnv, AUTH_ANALYTICS: { writeDataPoint: () => { throw new Error("analytics down"); } } } as unknown as Env;
    const s = await signInAs(await createTestUser());
    const captured = captureConsole();
    try {
      const res = await refresh(s.refreshToken, throwing);
      expect(res.status).toBe(200);
      expect(setCookies(res).get("__Host-gh_refresh")?.value).toMatch(new RegExp(`^${s.sessionId}\\.`));
    } finally {
      captured.restore();
    }
    const [warning] = linesOf(captured.lines, "metrics_write_failed");
    const [request] = linesOf(captured.lines, "request");
    expect(warning).toMatchObject({ level: "warn", error: "Error" });
    expect(warning?.requestId).toBe(request?.requestId);
    expect(JSON.stringify(warning)).not.toContain("analytics down");
  });
});

describe("webhook deliveries (for the queue consumer)", () => {
  it("writes one data point per attempt, and nothing without a binding", () => {
    const recorded: AnalyticsEngineDataPoint[] = [];
    const recorder = {
      writeDataPoint: (p?: AnalyticsEngineDataPoint) => {
        recorded.push(p!);
      },
    } as AnalyticsEngineDataset;
    countWebhookDelivery(recorder, "delivered", "2xx");
    countWebhookDelivery(recorder, "retrying", "5xx");
    countWebhookDelivery(undefined, "dead_lettered", "network");
    expect(recorded).toEqual([
      { blobs: ["webhook_delivery", "delivered", "2xx", "", ""], doubles: [1], indexes: ["webhook_delivery"] },
      { blobs: ["webhook_delivery", "retrying", "5xx", "", ""], doubles: [1], indexes: ["webhook_delivery"] },
    ]);
  });
});
