/**
 * `POST /auth/link/:provider`: only a signed-in user, only from the worker's
 * own origin, and the callback attaches the identity to that user — or
 * refuses, writing nothing, when the identity belongs to someone else.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/crypto";
import { fakeScenario, visitAuthorize } from "../fakes/control";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { createTestUser, signInAs } from "../helpers/sessions";
import { beginFlow, CALLBACK_ROUND_TRIPS, callbackPath, countRows, request, signinEnv, TX_COOKIE, wrapKv } from "./helpers";

const SCOPE = "signin_link";
const targetEnv = signinEnv(SCOPE);
const ORIGIN = { origin: "https://auth.example.com" };
const newId = () => String(Math.floor(Math.random() * 1e12));

/** Starts a link as `cookieHeader`'s user and plays the browser at the fake. */
async function link(provider: "google" | "github", cookieHeader: string, user: { id: string; email?: string | null }) {
  const res = await request(`/auth/link/${provider}`, { method: "POST", headers: { ...ORIGIN, cookie: cookieHeader } }, targetEnv);
  expect(res.status, await res.clone().text()).toBe(303);
  const txCookie = res.headers.getSetCookie().find((c) => c.startsWith(`${TX_COOKIE}=`))?.split(";")[0] ?? "";
  const scenario = await fakeScenario(provider, { user, ...(provider === "github" && user.email ? { githubEmails: [{ email: user.email, primary: true, verified: true }] } : {}) });
  const callbackUrl = await visitAuthorize(res.headers.get("location") ?? "", scenario);
  return { start: res, txCookie, callbackUrl, stateHash: await sha256Hex(callbackUrl.searchParams.get("state") ?? "") };
}

beforeEach(async () => {
  await resetStats(SCOPE);
});

describe("POST /auth/link/:provider", () => {
  it("links a new provider account to the signed-in user", async () => {
    const userId = await createTestUser();
    const { cookieHeader, sessionId } = await signInAs(userId);
    const [github] = await rawSql<{ id: string }>(`INSERT INTO accounts (user_id, provider, provider_subject) VALUES ($1, 'github', $2) RETURNING id`, [userId, newId()]);
    const githubAccount = github!.id;
    await rawSql("UPDATE sessions SET account_id = $2 WHERE id = $1", [sessionId, githubAccount]);
    const subject = newId();
    const started = await link("google", cookieHeader, { id: subject, email: `${crypto.randomUUID()}@example.com` });
    const tx = await env.AUTH_KV.get<{ linkUserId: string }>(`tx:${started.stateHash}`, "json");
    expect(tx?.linkUserId).toBe(userId);

    await resetStats(SCOPE);
    const res = await request(started.callbackUrl.pathname + started.callbackUrl.search, { headers: { cookie: `${cookieHeader}; ${started.txCookie}` } }, targetEnv);
    expect(res.status, await res.clone().text()).toBe(302);
    expect((await stats(SCOPE)).requests).toBe(CALLBACK_ROUND_TRIPS);
    expect(await rawSql(`SELECT user_id FROM accounts WHERE provider = 'google' AND provider_subject = $1`, [subject])).toEqual([{ user_id: userId }]);
    // The link's new session continues the one that started it: it came through the same identity
    // (so unlinking the newly linked account does not sign this browser out).
    expect(await rawSql(`SELECT account_id FROM sessions WHERE user_id = $1 AND id <> $2`, [userId, sessionId])).toEqual([{ account_id: githubAccount }]);
    // A user made elsewhere gets its personal organization and the token on its first provider sign-in.
    expect(await countRows({ userId })).toMatchObject({ orgs: 1, tokens: 1 });
  });

  it("refuses an identity that belongs to another user with AccountAlreadyLinked, writing nothing but the burned state", async () => {
    const ownerSubject = newId();
    const owner = await beginFlow("github", targetEnv, { user: { id: ownerSubject, email: null } });
    expect((await request(callbackPath(owner), { headers: { cookie: owner.cookie } }, targetEnv)).status).toBe(302);

    const userId = await createTestUser();
    const { cookieHeader } = await signInAs(userId);
    const started = await link("github", cookieHeader, { id: ownerSubject, email: null });
    const res = await request(started.callbackUrl.pathname + started.callbackUrl.search, { headers: { accept: "text/html", cookie: `${cookieHeader}; ${started.txCookie}` } }, targetEnv);
    expect(res.status).toBe(409);
    expect(await res.text()).toContain("<code>AccountAlreadyLinked</code>");
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await countRows({ userId, stateHash: started.stateHash })).toMatchObject({ sessions: 1, tokens: 0, consumed: 1 });
    expect(await rawSql(`SELECT count(*)::int AS n FROM accounts WHERE user_id = $1`, [userId])).toEqual([{ n: 0 }]);
  });

  it("refuses to complete a link whose starting session was revoked meanwhile (403 AccessDenied), writing nothing", async () => {
    const userId = await createTestUser();
    const session = await signInAs(userId);
    const subject = newId();
    const started = await link("google", session.cookieHeader, { id: subject, email: null });
    const tx = await env.AUTH_KV.get<{ linkSessionId: string }>(`tx:${started.stateHash}`, "json");
    expect(tx?.linkSessionId).toBe(session.sessionId);
    // "Sign out everywhere" (say, the session was stolen) before the callback arrives.
    await rawSql("UPDATE sessions SET revoked_at = now() WHERE user_id = $1", [userId]);
    const res = await request(started.callbackUrl.pathname + started.callbackUrl.search, { headers: { accept: "text/html", cookie: `${session.cookieHeader}; ${started.txCookie}` } }, targetEnv);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("<code>AccessDenied</code>");
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await rawSql(`SELECT count(*)::int AS n FROM accounts WHERE provider = 'google' AND provider_subject = $1`, [subject])).toEqual([{ n: 0 }]);
    // Nothing of the link is written; the state itself is spent (claimed before the code exchange, with its refusal recorded).
    expect(await countRows({ userId, stateHash: started.stateHash })).toMatchObject({ sessions: 1, consumed: 1 });
    expect(await rawSql(`SELECT outcome FROM oauth_consumed_states WHERE state_hash = $1`, [started.stateHash])).toEqual([{ outcome: "AccessDenied" }]);
  });

  it.each([
    ["no Origin", {}],
    ["another site's Origin", { origin: "https://evil.example.com" }],
    ["an allowed app's Origin (linking is the worker's own page)", { origin: "https://app.example.com" }],
  ])("answers 403 to %s, before reading the session", async (_, headers) => {
    const { cookieHeader } = await signInAs(await createTestUser());
    const { kv, puts } = wrapKv(env.AUTH_KV);
    const res = await request("/auth/link/google", { method: "POST", headers: { ...headers, cookie: cookieHeader } }, signinEnv(SCOPE, kv));
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(puts).toEqual([]);
  });

  it("answers 401 without a session, storing nothing", async () => {
    const { kv, puts } = wrapKv(env.AUTH_KV);
    const res = await request("/auth/link/google", { method: "POST", headers: ORIGIN }, signinEnv(SCOPE, kv));
    expect(res.status).toBe(401);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(puts).toEqual([]);
  });

  it("answers 405 to GET and 404 to an unknown provider", async () => {
    const get = await request("/auth/link/google", {}, targetEnv);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const { cookieHeader } = await signInAs(await createTestUser());
    const unknown = await request("/auth/link/twitter", { method: "POST", headers: { ...ORIGIN, cookie: cookieHeader } }, targetEnv);
    expect(unknown.status).toBe(404);
  });

  it("validates redirect_to from the form", async () => {
    const { cookieHeader } = await signInAs(await createTestUser());
    const headers = { ...ORIGIN, cookie: cookieHeader, "content-type": "application/x-www-form-urlencoded" };
    const bad = await request("/auth/link/google", { method: "POST", headers, body: "redirect_to=https%3A%2F%2Fevil.example.com%2F" }, targetEnv);
    expect(bad.status).toBe(400);
    expect(bad.headers.get("location")).toBeNull();
    const good = await request("/auth/link/google", { method: "POST", headers, body: "redirect_to=%2Faccount" }, targetEnv);
    expect(good.status).toBe(303);
  });
});
