/**
 * Sign-out and session management: one round trip each, the KV denylist
 * stops session JWTs at once, and nothing is revoked for a foreign origin.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { call, scopedEnv } from "../helpers/app";
import { rawSql } from "../helpers/neon-local";
import { requestUnsettled, signinEnv, wrapKv } from "../signin/helpers";
import { callWorker, cookieHeader, createTestUser, resetRoundTrips, roundTrips, setCookies, signInAs, type TestSession } from "../helpers/sessions";

const AUTH = "https://auth.example.com";

function signOut(cookie: string, init: { origin?: string; query?: string; accept?: string; method?: string } = {}): Promise<Response> {
  return callWorker(`/auth/signout${init.query ?? ""}`, {
    method: init.method ?? "POST",
    headers: { cookie, origin: init.origin ?? AUTH, accept: init.accept ?? "application/json" },
  });
}

async function revokedAt(sessionId: string): Promise<string | null> {
  const [r] = await rawSql<{ revoked_at: string | null }>("SELECT revoked_at FROM sessions WHERE id = $1", [sessionId]);
  return r?.revoked_at ?? null;
}

async function sessionStatus(s: Pick<TestSession, "sessionJwt">): Promise<number> {
  return (await callWorker("/auth/session", { headers: { cookie: cookieHeader({ session: s.sessionJwt }) } })).status;
}

function expectClearedCookies(res: Response): void {
  const cookies = setCookies(res);
  for (const name of ["__Host-gh_session", "__Host-gh_refresh"]) {
    expect(cookies.get(name)).toMatchObject({ value: "", maxAge: 0 });
    expect(cookies.get(name)!.attributes).toEqual(expect.arrayContaining(["Path=/", "Secure", "HttpOnly", "SameSite=Lax"]));
  }
}

let userId: string;
let s: TestSession;

beforeEach(async () => {
  userId = await createTestUser();
  s = await signInAs(userId);
  await resetRoundTrips();
});

describe("POST /auth/signout", () => {
  it("revokes the session in one round trip, denylists its sid and clears the cookies", async () => {
    const res = await signOut(s.cookieHeader);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ signedOut: true, revokedSessions: 1 });
    expect(await roundTrips()).toBe(1);
    expectClearedCookies(res);
    expect(res.headers.get("clear-site-data")).toBe('"cookies"');
    expect(await revokedAt(s.sessionId)).not.toBeNull();
    expect(await env.AUTH_KV.get(`deny:sid:${s.sessionId}`)).toBe("1");

    // The still-unexpired session JWT is refused at once, without the database.
    await resetRoundTrips();
    expect(await sessionStatus(s)).toBe(401);
    expect(await roundTrips()).toBe(0);
    const refresh = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ refresh: s.refreshToken }) } });
    expect(refresh.status).toBe(401);
  });

  it("works from the refresh token alone (one round trip, secret checked in SQL)", async () => {
    const res = await signOut(cookieHeader({ refresh: s.refreshToken }));
    expect(res.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    expect(await revokedAt(s.sessionId)).not.toBeNull();

    const other = await signInAs(userId);
    const forged = await signOut(cookieHeader({ refresh: `${other.sessionId}.${"A".repeat(43)}` }));
    expect(forged.status).toBe(200);
    expect(await revokedAt(other.sessionId)).toBeNull();
  });

  it("revokes the session when it races a rotation in another tab (previous refresh token, within the grace window)", async () => {
    const rotated = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ refresh: s.refreshToken }) } });
    const child = setCookies(rotated).get("__Host-gh_refresh")!.value;
    await resetRoundTrips();
    const res = await signOut(cookieHeader({ refresh: s.refreshToken }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ signedOut: true, revokedSessions: 1 });
    expect(await roundTrips()).toBe(1);
    expect(await revokedAt(s.sessionId)).not.toBeNull();
    expect((await callWorker("/auth/session", { headers: { cookie: cookieHeader({ refresh: child }) } })).status).toBe(401);
  });

  it("revokes nothing with the previous refresh token past the grace window, nor with another family's secret", async () => {
    const rotated = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ refresh: s.refreshToken }) } });
    const child = setCookies(rotated).get("__Host-gh_refresh")!.value;
    await rawSql("UPDATE sessions SET rotated_at = rotated_at - interval '1 hour' WHERE id = $1", [s.sessionId]);
    const old = await signOut(cookieHeader({ refresh: s.refreshToken }));
    expect(await old.json()).toEqual({ signedOut: true, revokedSessions: 0 });
    const [id, , secret] = child.split(".");
    const forged = await signOut(cookieHeader({ refresh: `${id}.${"F".repeat(43)}.${secret}` }));
    expect(await forged.json()).toEqual({ signedOut: true, revokedSessions: 0 });
    expect(await revokedAt(s.sessionId)).toBeNull();
  });

  it("redirects a browser form post to /auth/signin with 303", async () => {
    const res = await signOut(s.cookieHeader, { accept: "text/html,application/xhtml+xml" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/auth/signin");
    expectClearedCookies(res);
  });

  it("with scope=all revokes every session of the user in one round trip, and no one else's", async () => {
    const second = await signInAs(userId);
    const third = await signInAs(userId);
    const stranger = await signInAs(await createTestUser());
    await resetRoundTrips();
    const res = await signOut(s.cookieHeader, { query: "?scope=all" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ signedOut: true, revokedSessions: 3 });
    expect(await roundTrips()).toBe(1);
    for (const x of [s, second, third]) {
      expect(await revokedAt(x.sessionId)).not.toBeNull();
      expect(await sessionStatus(x)).toBe(401);
    }
    expect(await revokedAt(stranger.sessionId)).toBeNull();
    expect(await sessionStatus(stranger)).toBe(200);
  });

  it("is idempotent without a session: clears cookies, touches nothing", async () => {
    const res = await signOut("");
    expect(res.status).toBe(200);
    expect(await roundTrips()).toBe(0);
    expectClearedCookies(res);
  });

  it.each(["https://evil.example", "null", "http://auth.example.com"])("refuses origin %s: nothing revoked, no cookie", async (origin) => {
    const res = await signOut(s.cookieHeader, { origin });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await roundTrips()).toBe(0);
    expect(await revokedAt(s.sessionId)).toBeNull();
  });

  describe("the denylist write is part of the answer (F9)", () => {
    const SCOPE = "s-signout-kv";
    const post = (kv: KVNamespace, accept = "application/json") =>
      requestUnsettled("/auth/signout", { method: "POST", headers: { cookie: s.cookieHeader, origin: AUTH, accept } }, signinEnv(SCOPE, kv));

    it("answers only after KV accepted a slow denylist write", async () => {
      const { kv, puts } = wrapKv(env.AUTH_KV, { putDelayMs: 200 });
      const { response, settled } = post(kv);
      const res = await response;
      // Read at the moment the answer exists, before anything left running could finish.
      const denied = await env.AUTH_KV.get(`deny:sid:${s.sessionId}`);
      await settled();
      expect(res.status).toBe(200);
      expect(puts).toEqual([`deny:sid:${s.sessionId}`]);
      expect(denied).toBe("1");
    });

    it.each([
      ["JSON", "application/json"],
      ["a browser form post", "text/html,application/xhtml+xml"],
    ])("a failing denylist write is never silent (%s): 503 StorageUnavailable, not reported signed out", async (_, accept) => {
      const { kv, puts } = wrapKv(env.AUTH_KV, { failPut: true });
      const { response, settled } = post(kv, accept);
      const res = await response;
      await settled();
      // Tried twice (one retry), then refused loudly.
      expect(puts).toEqual([`deny:sid:${s.sessionId}`, `deny:sid:${s.sessionId}`]);
      expect(res.status).toBe(503);
      expect(res.headers.get("location")).toBeNull();
      const body = await res.text();
      expect(body).toContain("StorageUnavailable");
      expect(body).not.toContain("signedOut");
      expect(await env.AUTH_KV.get(`deny:sid:${s.sessionId}`)).toBeNull();
    });
  });

  it("refuses GET with 405 and an unknown scope with 400", async () => {
    const get = await signOut(s.cookieHeader, { method: "GET" });
    expect(get.status).toBe(405);
    expect(get.headers.getSetCookie()).toEqual([]);
    const bad = await signOut(s.cookieHeader, { query: "?scope=everyone" });
    expect(bad.status).toBe(400);
    expect(await revokedAt(s.sessionId)).toBeNull();
  });
});

describe("/auth/sessions", () => {
  it("lists the caller's live sessions, marking the current one, in one round trip", async () => {
    const second = await signInAs(userId);
    const gone = await signInAs(userId);
    await rawSql("UPDATE sessions SET revoked_at = now() WHERE id = $1", [gone.sessionId]);
    await signInAs(await createTestUser());
    await resetRoundTrips();
    const res = await callWorker("/auth/sessions", { headers: { cookie: s.cookieHeader } });
    expect(res.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    const { sessions } = (await res.json()) as { sessions: { id: string; current: boolean; ip: string; userAgent: string; createdAt: string; lastUsedAt: string }[] };
    expect(sessions.map((x) => x.id).sort()).toEqual([s.sessionId, second.sessionId].sort());
    expect(sessions.find((x) => x.id === s.sessionId)).toMatchObject({ current: true, ip: "203.0.113.7", userAgent: "vitest" });
    expect(sessions.find((x) => x.id === second.sessionId)?.current).toBe(false);
    expect(Number.isNaN(Date.parse(sessions[0]!.createdAt))).toBe(false);
  });

  it("is 401 without a session or with a forged refresh token", async () => {
    expect((await callWorker("/auth/sessions")).status).toBe(401);
    const forged = await callWorker("/auth/sessions", { headers: { cookie: cookieHeader({ refresh: `${s.sessionId}.${"A".repeat(43)}` }) } });
    expect(forged.status).toBe(401);
  });

  it("DELETE revokes one of the caller's sessions in one round trip and denylists it", async () => {
    const second = await signInAs(userId);
    await resetRoundTrips();
    const res = await callWorker(`/auth/sessions/${second.sessionId}`, { method: "DELETE", headers: { cookie: s.cookieHeader, origin: "https://app.example.com" } });
    expect(res.status).toBe(200);
    expect(await roundTrips()).toBe(1);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await revokedAt(second.sessionId)).not.toBeNull();
    expect(await sessionStatus(second)).toBe(401);
    expect(await sessionStatus(s)).toBe(200);
  });

  it("DELETE of the current session also clears the cookies", async () => {
    const res = await callWorker(`/auth/sessions/${s.sessionId}`, { method: "DELETE", headers: { cookie: s.cookieHeader, origin: AUTH } });
    expect(res.status).toBe(200);
    expectClearedCookies(res);
  });

  it("DELETE of another user's session or a malformed id is 404 and changes nothing", async () => {
    const stranger = await signInAs(await createTestUser());
    await resetRoundTrips();
    const other = await callWorker(`/auth/sessions/${stranger.sessionId}`, { method: "DELETE", headers: { cookie: s.cookieHeader, origin: AUTH } });
    expect(other.status).toBe(404);
    expect(await roundTrips()).toBe(1);
    expect(await revokedAt(stranger.sessionId)).toBeNull();
    expect(await sessionStatus(stranger)).toBe(200);

    await resetRoundTrips();
    for (const id of ["not-a-uuid", "1", "'%20OR%201=1"]) {
      const bad = await callWorker(`/auth/sessions/${id}`, { method: "DELETE", headers: { cookie: s.cookieHeader, origin: AUTH } });
      expect(bad.status).toBe(404);
    }
    expect(await roundTrips()).toBe(0);
  });

  it("DELETE from a foreign origin is 403 and changes nothing", async () => {
    const second = await signInAs(userId);
    await resetRoundTrips();
    const res = await callWorker(`/auth/sessions/${second.sessionId}`, { method: "DELETE", headers: { cookie: s.cookieHeader, origin: "https://evil.example" } });
    expect(res.status).toBe(403);
    expect(await roundTrips()).toBe(0);
    expect(await revokedAt(second.sessionId)).toBeNull();
  });
});

describe("POST /auth/signout when the denylist write fails", () => {
  /** The app with a KV namespace whose writes are refused (reads still work). */
  const failingKv = () => wrapKv(env.AUTH_KV, { failPut: true });
  const signOutWith = (kv: KVNamespace, cookie: string, query = "") =>
    call(`/auth/signout${query}`, { method: "POST", headers: { cookie, origin: AUTH, accept: "application/json" } }, { env: { ...scopedEnv("s-signout-kv"), AUTH_KV: kv } as Env });

  it("answers 503 StorageUnavailable and keeps both cookies, so the browser can retry; the retry finishes the revocation", async () => {
    const broken = failingKv();
    const res = await signOutWith(broken.kv, s.cookieHeader);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "StorageUnavailable" });
    // Nothing tells the browser to drop its cookies while the session JWT still works at the edge.
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(res.headers.get("clear-site-data")).toBeNull();
    // The write was tried again before giving up.
    expect(broken.puts).toEqual([`deny:sid:${s.sessionId}`, `deny:sid:${s.sessionId}`]);
    expect(await env.AUTH_KV.get(`deny:sid:${s.sessionId}`)).toBeNull();

    // The browser still holds its cookies and retries once KV works again.
    const retry = await signOut(s.cookieHeader);
    expect(retry.status).toBe(200);
    expectClearedCookies(retry);
    expect(await env.AUTH_KV.get(`deny:sid:${s.sessionId}`)).toBe("1");
    expect(await revokedAt(s.sessionId)).not.toBeNull();
    expect(await sessionStatus(s)).toBe(401);
  });

  it("succeeds when only the first write attempt fails", async () => {
    let failures = 1;
    const flaky = {
      get: (key: string) => env.AUTH_KV.get(key),
      put: async (key: string, value: string, options?: KVNamespacePutOptions) => {
        if (failures-- > 0) throw new Error("KV PUT failed: 503");
        await env.AUTH_KV.put(key, value, options);
      },
      delete: (key: string) => env.AUTH_KV.delete(key),
    } as unknown as KVNamespace;
    const res = await signOutWith(flaky, s.cookieHeader);
    expect(res.status).toBe(200);
    expectClearedCookies(res);
    expect(await env.AUTH_KV.get(`deny:sid:${s.sessionId}`)).toBe("1");
  });
});
