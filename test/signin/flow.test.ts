/**
 * Whole sign-ins through the worker against the provider fakes (and the
 * local oidc-provider when the harness runs it): what the browser gets, what
 * the database holds afterwards, two database round trips per callback (the
 * claim on the state before the provider is called, then the sign-in batch).
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { clearFaults, rawSql, resetStats, setFaults, stats } from "../helpers/neon-local";
import { loginAtLocalProvider } from "../helpers/oidc-login";
import type { FakeProviderName, FakeUser } from "../fakes/control";
import { beginFlow, CALLBACK_ROUND_TRIPS, callbackPath, countRows, request, signinEnv, startSignIn, tokenCalls, TX_COOKIE, type Flow } from "./helpers";

const SCOPE = "signin_flow";
const targetEnv = signinEnv(SCOPE);
const AFTER = "?redirect_to=https%3A%2F%2Fapp.example.com%2Fafter";

const newId = () => String(Math.floor(Math.random() * 1e12));
const newEmail = () => `${crypto.randomUUID()}@example.com`;

/** A full sign-in; returns the callback response (read once) and the flow. */
async function signIn(provider: FakeProviderName & string, user: FakeUser, query = AFTER, extraCookie = "") {
  const flow = await beginFlow(provider, targetEnv, { user, ...(provider === "github" && user.email ? { githubEmails: [{ email: user.email, primary: true, verified: user.emailVerified ?? true }] } : {}) }, query);
  await resetStats(SCOPE);
  const cookie = extraCookie ? `${extraCookie}; ${flow.cookie}` : flow.cookie;
  const response = await request(callbackPath(flow), { headers: { accept: "text/html", cookie } }, targetEnv);
  const roundTrips = (await stats(SCOPE)).requests;
  return { flow, response, roundTrips };
}

async function userOf(provider: string, subject: string): Promise<string | undefined> {
  const rows = await rawSql<{ user_id: string }>(`SELECT user_id FROM accounts WHERE provider = $1 AND provider_subject = $2`, [provider, subject]);
  return rows[0]?.user_id;
}

function cookieNames(res: Response): Record<string, string> {
  return Object.fromEntries(res.headers.getSetCookie().map((c) => [c.split("=")[0] ?? "", c]));
}

beforeEach(async () => {
  await clearFaults(SCOPE);
  await resetStats(SCOPE);
});

describe("a whole sign-in", () => {
  it.each([
    ["github", { emailVerified: true }],
    ["google", { emailVerified: true }],
    ["facebook", { emailVerified: false }],
    ["naver", { emailVerified: false }],
    ["kakao", { emailVerified: true }],
  ] as const)("with %s: new user, then returning user, two round trips each (claim, batch)", async (provider, { emailVerified }) => {
    const user = { id: newId(), email: newEmail(), emailVerified, name: `${provider} person` };
    const first = await signIn(provider, user);
    expect(first.response.status, await first.response.clone().text()).toBe(302);
    expect(first.response.headers.get("location")).toBe("https://app.example.com/after");
    expect(first.roundTrips).toBe(CALLBACK_ROUND_TRIPS);
    const cookies = cookieNames(first.response);
    expect(cookies["__Host-gh_session"]).toContain("HttpOnly");
    expect(cookies["__Host-gh_refresh"]).toContain("HttpOnly");
    expect(cookies[TX_COOKIE]).toContain("Max-Age=0");
    // The KV transaction stays until it expires, so a late copy of the callback can prove its browser.
    expect(await env.AUTH_KV.get(`tx:${first.flow.stateHash}`)).not.toBeNull();

    const userId = await userOf(provider, user.id);
    expect(userId).toBeDefined();
    const [row] = await rawSql<{ email: string; email_verified_at: string | null; name: string }>(`SELECT email, email_verified_at, name FROM users WHERE id = $1`, [userId]);
    expect(row).toMatchObject({ email: user.email, name: user.name });
    expect(row?.email_verified_at !== null).toBe(emailVerified);
    expect(await rawSql(`SELECT token_type, key_version FROM provider_tokens WHERE user_id = $1 AND provider = $2`, [userId, provider])).toEqual([{ token_type: "user", key_version: 2 }]);
    expect(await countRows({ userId, stateHash: first.flow.stateHash })).toMatchObject({ sessions: 1, consumed: 1, orgs: 1, tokens: 1 });

    // The session cookies are real: the session endpoint knows the user.
    const sessionCookie = cookies["__Host-gh_session"]?.split(";")[0] ?? "";
    const session = await request("/auth/session", { headers: { cookie: sessionCookie } }, targetEnv);
    expect(await session.json()).toMatchObject({ user: { id: userId, email: user.email, emailVerified } });

    const again = await signIn(provider, user);
    expect(again.response.status).toBe(302);
    expect(again.roundTrips).toBe(CALLBACK_ROUND_TRIPS);
    expect(await userOf(provider, user.id)).toBe(userId);
    expect(await countRows({ userId, subject: user.id })).toMatchObject({ accounts: 1, sessions: 2, orgs: 1, tokens: 1 });
  });

  it("with the local oidc-provider", async (ctx) => {
    if (!("OIDC_LOCAL_ISSUER" in env)) {
      ctx.skip("needs the local oidc-provider (the harness sets OIDC_LOCAL_ISSUER)");
      return;
    }
    const started = await startSignIn("local", targetEnv, AFTER);
    const callbackUrl = await loginAtLocalProvider(started.location.href, `user-${newId()}`);
    await resetStats(SCOPE);
    const res = await request(callbackUrl.pathname + callbackUrl.search, { headers: { cookie: started.cookie } }, targetEnv);
    expect(res.status, await res.clone().text()).toBe(302);
    expect(res.headers.get("location")).toBe("https://app.example.com/after");
    expect((await stats(SCOPE)).requests).toBe(CALLBACK_ROUND_TRIPS);
  });

  it.skipIf(env.DATABASE_BACKEND !== "pg")("lets one of 20 concurrent identical callbacks call the provider; all follow it to one session (needs real Postgres (set TEST_DATABASE_URL))", async () => {
    const subject = newId();
    const flow = await beginFlow("github", targetEnv, { user: { id: subject, email: null } });
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => request(callbackPath(flow), { headers: { cookie: flow.cookie } }, targetEnv)),
    );
    expect(await tokenCalls(flow)).toBe(1);
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(302));
    // One session, handed to every copy (test/signin/duplicate-callbacks.test.ts covers it against the real oidc-provider).
    const refresh = new Set(responses.map((r) => r.headers.getSetCookie().find((c) => c.startsWith("__Host-gh_refresh="))?.split(";")[0]));
    expect(refresh.size).toBe(1);
    const userId = await userOf("github", subject);
    expect(await countRows({ userId, subject, stateHash: flow.stateHash })).toMatchObject({ accounts: 1, sessions: 1, consumed: 1 });
  });
});

describe("accounts meeting on an email", () => {
  it("joins a verified email to the user with the same verified email", async () => {
    const email = newEmail();
    const google = await signIn("google", { id: newId(), email, emailVerified: true });
    expect(google.response.status).toBe(302);
    const githubUser = { id: newId(), email: email.toUpperCase(), emailVerified: true };
    const github = await signIn("github", githubUser);
    expect(github.response.status, await github.response.clone().text()).toBe(302);
    expect(github.roundTrips).toBe(CALLBACK_ROUND_TRIPS);
    expect(await userOf("github", githubUser.id)).toBe(await userOf("google", (await rawSql<{ s: string }>(`SELECT provider_subject AS s FROM accounts WHERE provider = 'google' AND email = $1`, [email]))[0]?.s ?? ""));
  });

  it.each(["facebook", "naver"] as const)("refuses an unverified %s email owned by another user with AccountNotLinked, writing nothing", async (provider) => {
    const email = newEmail();
    expect((await signIn("google", { id: newId(), email, emailVerified: true })).response.status).toBe(302);
    const subject = newId();
    const { response, flow } = await signIn(provider, { id: subject, email, emailVerified: false });
    expect(response.status).toBe(409);
    const body = await response.text();
    expect(body).toContain("<code>AccountNotLinked</code>");
    expect(body).toContain("link this one from your account page");
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await countRows({ subject, email, stateHash: flow.stateHash })).toMatchObject({ accounts: 0, users: 1 });
    expect(await tokenCalls(flow)).toBe(1);
  });

  it("gives an unverified email that only another unverified user holds a user of its own (neither side proves anything)", async () => {
    const email = newEmail();
    const first = { id: newId(), email, emailVerified: false };
    expect((await signIn("facebook", first)).response.status).toBe(302);
    const second = { id: newId(), email: email.toUpperCase(), emailVerified: false };
    const { response } = await signIn("naver", second);
    expect(response.status, await response.clone().text()).toBe(302);
    const a = await userOf("facebook", first.id);
    const b = await userOf("naver", second.id);
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(b).not.toBe(a);
    expect(await rawSql(`SELECT email_verified_at FROM users WHERE id = $1`, [b])).toEqual([{ email_verified_at: null }]);
    // The real owner, verified, still gets a user of their own and is not blocked by either copy.
    expect((await signIn("google", { id: newId(), email, emailVerified: true })).response.status).toBe(302);
  });

  it("creates a new user for an unverified email nobody has, and for no email at all", async () => {
    const naver = { id: newId(), email: newEmail(), emailVerified: false };
    expect((await signIn("naver", naver)).response.status).toBe(302);
    const [row] = await rawSql(`SELECT email_verified_at FROM users WHERE id = $1`, [await userOf("naver", naver.id)]);
    expect(row).toEqual({ email_verified_at: null });

    const kakao = { id: newId(), email: null };
    expect((await signIn("kakao", kakao)).response.status).toBe(302);
    expect(await rawSql(`SELECT email, email_normalized FROM users WHERE id = $1`, [await userOf("kakao", kakao.id)])).toEqual([{ email: null, email_normalized: null }]);
  });

  it("stores hostile profile fields safely", async () => {
    const user = { id: newId(), email: newEmail(), name: `Robert'); DROP TABLE users;--\u0000\u202Egnp.exe ${"x".repeat(100_000)}`, picture: "http://insecure.example/p.png" };
    const { response } = await signIn("github", user);
    expect(response.status, await response.clone().text()).toBe(302);
    const [row] = await rawSql<{ name: string; image: string | null }>(`SELECT name, image FROM users WHERE id = $1`, [await userOf("github", user.id)]);
    expect(row?.name.startsWith("Robert'); DROP TABLE users;--gnp.exe x")).toBe(true);
    expect(row?.name.length).toBeLessThanOrEqual(200);
    expect(row?.image).toBeNull();
  });
});

describe("when the database fails at the callback's batch", () => {
  it.each(["http500", "postgres"] as const)("answers 503 DatabaseUnavailable (%s) with no cookie and nothing written", async (mode) => {
    const subject = newId();
    const flow: Flow = await beginFlow("github", targetEnv, { user: { id: subject, email: null } });
    await setFaults({ failMatching: "oauth_consumed_states", mode, code: "57P01", scope: SCOPE });
    const res = await request(callbackPath(flow), { headers: { accept: "text/html", cookie: flow.cookie } }, targetEnv);
    await clearFaults(SCOPE);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("<code>DatabaseUnavailable</code>");
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await countRows({ subject, stateHash: flow.stateHash })).toMatchObject({ accounts: 0, consumed: 0 });
  });
});
