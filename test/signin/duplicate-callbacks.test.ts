/**
 * One browser delivering the same callback URL several times (double
 * navigation, a restored tab, a retry). The state is claimed in the database
 * before the code exchange, so the provider sees the code exactly once:
 * oidc-provider, like any RFC 6749 §4.1.2 provider, revokes everything
 * issued from a code that is presented twice, which used to leave nobody
 * signed in. The copies that lost the claim wait for the claimant and hand
 * the browser the same session, so whichever response it keeps, it ends
 * signed in. Against the real local oidc-provider (it counts token requests
 * per code) and the provider fakes.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { clearFaults, rawSql, resetStats, setFaults, stats } from "../helpers/neon-local";
import { loginAtLocalProvider } from "../helpers/oidc-login";
import { setCookies } from "../helpers/sessions";
import { beginFlow, callbackPath, countRows, request, signinEnv, startSignIn, tokenCalls, TX_COOKIE } from "./helpers";

const SCOPE = "signin_duplicates";
const targetEnv = signinEnv(SCOPE);
const AFTER = "https://app.example.com/after";
const QUERY = `?redirect_to=${encodeURIComponent(AFTER)}`;
const SESSION = "__Host-gh_session";
const REFRESH = "__Host-gh_refresh";
const issuer = (env as unknown as Record<string, string | undefined>).OIDC_LOCAL_ISSUER;

/** Token requests the local oidc-provider received for one authorization code. */
async function providerTokenRequests(code: string): Promise<number> {
  const res = await fetch(`${issuer}/__local/token-requests?code=${encodeURIComponent(code)}`);
  return ((await res.json()) as { count: number }).count;
}

/** A sign-in at the local provider, stopped before the callback. */
async function localCallback(username: string) {
  const started = await startSignIn("local", targetEnv, QUERY);
  const callbackUrl = await loginAtLocalProvider(started.location.href, username);
  return { ...started, callbackUrl, path: callbackUrl.pathname + callbackUrl.search, code: callbackUrl.searchParams.get("code") ?? "" };
}

/** Who `/auth/session` says is signed in with these cookies (null when nobody). */
async function signedInAs(cookies: Map<string, string>): Promise<string | null> {
  const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  const res = await request("/auth/session", { headers: { cookie } }, targetEnv);
  if (res.status !== 200) return null;
  return ((await res.json()) as { user: { id: string } }).user.id;
}

/** A browser's cookie jar after it processed `responses` in order. */
function jarAfter(responses: Response[]): Map<string, string> {
  const jar = new Map<string, string>();
  for (const res of responses) {
    for (const [name, c] of setCookies(res)) {
      if (c.maxAge === 0) jar.delete(name);
      else jar.set(name, c.value);
    }
  }
  return jar;
}

async function userIdOf(subject: string): Promise<string | undefined> {
  const rows = await rawSql<{ user_id: string }>(`SELECT user_id FROM accounts WHERE provider = 'local' AND provider_subject = $1`, [subject]);
  return rows[0]?.user_id;
}

beforeEach(async () => {
  await clearFaults(SCOPE);
  await resetStats(SCOPE);
});

describe("duplicated callbacks at the real local oidc-provider", () => {
  it("20 identical callbacks at once: the provider sees the code once, one session, and every copy signs the browser in", async () => {
    expect(issuer, "the harness starts the local oidc-provider").toBeDefined();
    const username = `dup-${crypto.randomUUID()}`;
    const flow = await localCallback(username);

    const responses = await Promise.all(Array.from({ length: 20 }, () => request(flow.path, { headers: { cookie: flow.cookie } }, targetEnv)));

    expect(await providerTokenRequests(flow.code)).toBe(1);
    for (const res of responses) {
      expect(res.status, await res.clone().text()).toBe(302);
      expect(res.headers.get("location")).toBe(AFTER);
    }
    const userId = await userIdOf(username);
    expect(userId).toBeDefined();
    expect(await countRows({ userId, subject: username, stateHash: flow.stateHash })).toMatchObject({ accounts: 1, sessions: 1, consumed: 1 });
    expect(await rawSql(`SELECT outcome FROM oauth_consumed_states WHERE state_hash = $1`, [flow.stateHash])).toEqual([{ outcome: "signed_in" }]);

    // Every copy carries the one session: whichever response the browser keeps, it is signed in.
    const refreshTokens = new Set(responses.map((r) => setCookies(r).get(REFRESH)?.value));
    expect(refreshTokens.size).toBe(1);
    const [session] = await rawSql<{ id: string }>(`SELECT id FROM sessions WHERE user_id = $1`, [userId]);
    expect([...refreshTokens][0]?.startsWith(`${session?.id}.`)).toBe(true);
    for (const res of responses) {
      const cookies = setCookies(res);
      expect(cookies.get(TX_COOKIE)?.maxAge).toBe(0);
      expect(await signedInAs(new Map([[SESSION, cookies.get(SESSION)?.value ?? ""]]))).toBe(userId);
    }
    // And the browser that processed all of them, in any order, is signed in.
    expect(await signedInAs(jarAfter(responses))).toBe(userId);
    expect(await signedInAs(jarAfter([...responses].reverse()))).toBe(userId);
  });

  it("a single callback costs two round trips (claim, then the sign-in batch); a late copy costs one and gets the same session", async () => {
    const username = `late-${crypto.randomUUID()}`;
    const flow = await localCallback(username);
    await resetStats(SCOPE);
    const first = await request(flow.path, { headers: { cookie: flow.cookie } }, targetEnv);
    expect(first.status, await first.clone().text()).toBe(302);
    expect((await stats(SCOPE)).requests).toBe(2);

    await resetStats(SCOPE);
    const late = await request(flow.path, { headers: { cookie: flow.cookie } }, targetEnv);
    expect(late.status).toBe(302);
    expect(late.headers.get("location")).toBe(AFTER);
    expect((await stats(SCOPE)).requests).toBe(1);
    expect(setCookies(late).get(REFRESH)?.value).toBe(setCookies(first).get(REFRESH)?.value);
    expect(await providerTokenRequests(flow.code)).toBe(1);
    expect(await countRows({ userId: await userIdOf(username) })).toMatchObject({ sessions: 1 });
  });

  it("a late copy after the browser refreshed its session sets no cookie (it would be a reused secret) and still returns to the app", async () => {
    const flow = await localCallback(`rotated-${crypto.randomUUID()}`);
    const first = await request(flow.path, { headers: { cookie: flow.cookie } }, targetEnv);
    const refresh = setCookies(first).get(REFRESH)?.value ?? "";
    const rotated = await request("/auth/session", { headers: { cookie: `${REFRESH}=${refresh}` } }, targetEnv);
    expect(rotated.status).toBe(200);
    expect(setCookies(rotated).get(REFRESH)?.value).not.toBe(refresh);

    const late = await request(flow.path, { headers: { cookie: flow.cookie } }, targetEnv);
    expect(late.status).toBe(302);
    expect(late.headers.get("location")).toBe(AFTER);
    expect(setCookies(late).has(REFRESH)).toBe(false);
    expect(setCookies(late).has(SESSION)).toBe(false);
  });

  it("a copy from another browser (without the binding cookie) is refused before any database or provider work", async () => {
    const flow = await localCallback(`foreign-${crypto.randomUUID()}`);
    await resetStats(SCOPE);
    const res = await request(flow.path, { headers: { cookie: `${TX_COOKIE}=${"A".repeat(43)}` } }, targetEnv);
    expect(res.status).toBe(400);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect((await stats(SCOPE)).requests).toBe(0);
    expect(await providerTokenRequests(flow.code)).toBe(0);
  });
});

describe("duplicated callbacks when the claimant fails", () => {
  it("a copy repeats the claimant's refusal without calling the provider", async () => {
    const email = `${crypto.randomUUID()}@example.com`;
    const owner = await beginFlow("google", targetEnv, { user: { id: String(Math.random()).slice(2), email, emailVerified: true } });
    expect((await request(callbackPath(owner), { headers: { cookie: owner.cookie } }, targetEnv)).status).toBe(302);

    const subject = String(Math.random()).slice(2);
    const flow = await beginFlow("facebook", targetEnv, { user: { id: subject, email, emailVerified: false } });
    const first = await request(callbackPath(flow), { headers: { accept: "application/json", cookie: flow.cookie } }, targetEnv);
    expect(first.status).toBe(409);
    expect(await first.json()).toMatchObject({ code: "AccountNotLinked" });
    expect(await rawSql(`SELECT outcome FROM oauth_consumed_states WHERE state_hash = $1`, [flow.stateHash])).toEqual([{ outcome: "AccountNotLinked" }]);

    await resetStats(SCOPE);
    const copy = await request(callbackPath(flow), { headers: { accept: "application/json", cookie: flow.cookie } }, targetEnv);
    expect(copy.status).toBe(409);
    expect(await copy.json()).toMatchObject({ code: "AccountNotLinked" });
    expect(copy.headers.getSetCookie()).toEqual([]);
    expect((await stats(SCOPE)).requests).toBe(1);
    expect(await tokenCalls(flow)).toBe(1);
    expect(await countRows({ subject, stateHash: flow.stateHash })).toMatchObject({ accounts: 0, consumed: 1 });
  });

  it("a copy after a transient failure answers StateInvalid (start again), never the provider twice", async () => {
    const subject = String(Math.random()).slice(2);
    const flow = await beginFlow("github", targetEnv, { user: { id: subject, email: null } });
    // The claim succeeds; the sign-in batch (it writes accounts) fails.
    await setFaults({ failMatching: "INSERT INTO accounts", mode: "postgres", code: "57P01", scope: SCOPE });
    const first = await request(callbackPath(flow), { headers: { accept: "application/json", cookie: flow.cookie } }, targetEnv);
    await clearFaults(SCOPE);
    expect(first.status).toBe(503);
    expect(await first.json()).toMatchObject({ code: "DatabaseUnavailable" });

    const copy = await request(callbackPath(flow), { headers: { accept: "application/json", cookie: flow.cookie } }, targetEnv);
    expect(copy.status).toBe(400);
    expect(await copy.json()).toMatchObject({ code: "StateInvalid" });
    expect(copy.headers.getSetCookie()).toEqual([]);
    expect(await tokenCalls(flow)).toBe(1);
    expect(await countRows({ subject, stateHash: flow.stateHash })).toMatchObject({ accounts: 0, consumed: 1 });
  });

  it("when the claim itself fails, nobody calls the provider and nothing is written", async () => {
    const subject = String(Math.random()).slice(2);
    const flow = await beginFlow("github", targetEnv, { user: { id: subject, email: null } });
    await setFaults({ failMatching: "oauth_consumed_states", mode: "postgres", code: "57P01", scope: SCOPE });
    const res = await request(callbackPath(flow), { headers: { accept: "application/json", cookie: flow.cookie } }, targetEnv);
    await clearFaults(SCOPE);
    expect(res.status).toBe(503);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await tokenCalls(flow)).toBe(0);
    expect(await countRows({ subject, stateHash: flow.stateHash })).toMatchObject({ accounts: 0, consumed: 0 });
  });
});
