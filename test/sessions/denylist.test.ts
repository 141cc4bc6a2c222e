/**
 * The denylist's isolate cache of "not revoked" answers (src/kv/denylist.ts):
 * it saves the KV read on repeated checks of a session, never outlives 30 s,
 * and never hides a revocation recorded in this isolate, even one that races
 * a check. Together with KV's 30 s cacheTtl the bound stays 60 s.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { denySessions, isSessionDenied, NOT_REVOKED_CACHE_MS } from "../../src/kv/denylist";
import { callWorker, cookieHeader, createTestUser, signInAs } from "../helpers/sessions";

const AUTH = "https://auth.example.com";

describe("denylist isolate cache", () => {
  it("a session checked, then signed out in this isolate, is refused at once", async () => {
    const s = await signInAs(await createTestUser());
    const check = () => callWorker("/auth/session", { headers: { cookie: cookieHeader({ session: s.sessionJwt }) } });
    expect((await check()).status).toBe(200);
    expect((await check()).status).toBe(200);
    const out = await callWorker("/auth/signout", { method: "POST", headers: { cookie: s.cookieHeader, origin: AUTH, accept: "application/json" } });
    expect(out.status).toBe(200);
    expect((await check()).status).toBe(401);
  });

  it("a revocation recorded only in KV (another location) is seen once the 30 s answer expires, not later", async () => {
    const sid = crypto.randomUUID();
    const t0 = Date.now();
    expect(await isSessionDenied(env.AUTH_KV, sid, t0)).toBe(false);
    await env.AUTH_KV.put(`deny:sid:${sid}`, "1", { expirationTtl: 60 });
    // Within the window this isolate still trusts its answer (no KV read) ...
    expect(await isSessionDenied(env.AUTH_KV, sid, t0 + NOT_REVOKED_CACHE_MS - 1)).toBe(false);
    // ... and at 30 s it reads KV again.
    expect(await isSessionDenied(env.AUTH_KV, sid, t0 + NOT_REVOKED_CACHE_MS)).toBe(true);
    expect(NOT_REVOKED_CACHE_MS).toBeLessThanOrEqual(30_000);
  });

  it("a revoked answer is never reused: every check of a denied sid reads KV", async () => {
    const sid = crypto.randomUUID();
    await denySessions(env.AUTH_KV, [sid], 60);
    const t0 = Date.now();
    expect(await isSessionDenied(env.AUTH_KV, sid, t0)).toBe(true);
    await env.AUTH_KV.delete(`deny:sid:${sid}`);
    expect(await isSessionDenied(env.AUTH_KV, sid, t0 + 1)).toBe(false);
  });

  it("a check racing a revocation in this isolate does not remember 'not revoked'", async () => {
    const sid = crypto.randomUUID();
    const t0 = Date.now();
    const racing = isSessionDenied(env.AUTH_KV, sid, t0);
    await denySessions(env.AUTH_KV, [sid], 60);
    await racing;
    expect(await isSessionDenied(env.AUTH_KV, sid, t0 + 1)).toBe(true);
  });
});
