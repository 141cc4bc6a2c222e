/**
 * Every way a callback is refused before the provider is asked anything:
 * each answers its error code, makes no database round trip (so writes
 * nothing), sets no cookie, and causes no token-endpoint call.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { randomBase64Url } from "../../src/lib/crypto";
import { TENANT_CLIENT, tenantIssuer, type FakeScenario } from "../fakes/control";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { scopedDatabaseUrl } from "../helpers/neon-local";
import { beginFlow, CALLBACK_ROUND_TRIPS, callbackPath, countRows, request, signinEnv, tokenCalls, type Flow } from "./helpers";

const SCOPE = "signin_rejections";
const targetEnv = signinEnv(SCOPE);
const HTML = { accept: "text/html" };

type SubjectFlow = Flow & { subject: string };

/** GitHub sign-in up to the callback, for a user no other test uses. */
async function githubFlow(scenario: FakeScenario = {}): Promise<SubjectFlow> {
  const subject = String(Math.floor(Math.random() * 1e12));
  // A fresh address too: the fake's default one is shared, and a verified shared email joins users.
  const email = `${crypto.randomUUID()}@example.com`;
  const user = { id: subject, email };
  return { ...(await beginFlow("github", targetEnv, { ...scenario, user, githubEmails: [{ email, primary: true, verified: true }] })), subject };
}

/** Replaces query parameters of the flow's callback URL. */
function withParams(flow: SubjectFlow, params: Record<string, string | string[] | null>): string {
  const url = new URL(flow.callbackUrl);
  for (const [k, v] of Object.entries(params)) {
    url.searchParams.delete(k);
    for (const value of v === null ? [] : Array.isArray(v) ? v : [v]) url.searchParams.append(k, value);
  }
  return url.pathname + url.search;
}

/** Sends the callback and checks everything a rejection must (not) do. */
async function expectRejected(flow: SubjectFlow, path: string, cookie: string | null, code: string, status: number) {
  await resetStats(SCOPE);
  const headers: Record<string, string> = { ...HTML };
  if (cookie !== null) headers.cookie = cookie;
  const res = await request(path, { headers }, targetEnv);
  const body = await res.text();
  expect(res.status).toBe(status);
  expect(body).toContain(`<code>${code}</code>`);
  expect(res.headers.get("location")).toBeNull();
  expect(res.headers.getSetCookie()).toEqual([]);
  expect(await stats(SCOPE)).toMatchObject({ requests: 0 });
  expect(await tokenCalls(flow)).toBe(0);
  expect(await countRows({ stateHash: flow.stateHash, subject: flow.subject })).toMatchObject({ consumed: 0, accounts: 0 });
  return body;
}

beforeEach(async () => {
  await resetStats(SCOPE);
});

describe("GET /auth/callback/:provider refuses before talking to the provider", () => {
  it("when the state is missing", async () => {
    const flow = await githubFlow();
    await expectRejected(flow, withParams(flow, { state: null }), flow.cookie, "StateInvalid", 400);
  });

  it("when the state is unknown", async () => {
    const flow = await githubFlow();
    await expectRejected(flow, withParams(flow, { state: randomBase64Url() }), flow.cookie, "StateInvalid", 400);
  });

  it("when the state is malformed", async () => {
    const flow = await githubFlow();
    await expectRejected(flow, withParams(flow, { state: `${flow.state}'--` }), flow.cookie, "StateInvalid", 400);
  });

  it("when the transaction expired", async () => {
    const flow = await githubFlow();
    const key = `tx:${flow.stateHash}`;
    const tx = await env.AUTH_KV.get<Record<string, unknown>>(key, "json");
    await env.AUTH_KV.put(key, JSON.stringify({ ...tx, createdAt: Date.now() - 601_000 }), { expirationTtl: 60 });
    await expectRejected(flow, callbackPath(flow), flow.cookie, "StateInvalid", 400);
  });

  it("when the transaction cookie is missing (another browser)", async () => {
    const flow = await githubFlow();
    await expectRejected(flow, callbackPath(flow), null, "StateInvalid", 400);
    await expectRejected(flow, callbackPath(flow), "__Host-gh_session=x", "StateInvalid", 400);
  });

  it("when the transaction cookie belongs to another transaction", async () => {
    const flow = await githubFlow();
    const other = await githubFlow();
    await expectRejected(flow, callbackPath(flow), other.cookie, "StateInvalid", 400);
    // Sent twice, one of them right: a planted copy is never trusted.
    await expectRejected(flow, callbackPath(flow), `${other.cookie}; ${flow.cookie}`, "StateInvalid", 400);
  });

  it("when the provider in the path is not the transaction's", async () => {
    const flow = await githubFlow();
    const path = callbackPath(flow).replace("/auth/callback/github", "/auth/callback/google");
    await expectRejected(flow, path, flow.cookie, "StateInvalid", 400);
  });

  it("when the provider in the path is unknown", async () => {
    const flow = await githubFlow();
    const path = callbackPath(flow).replace("/auth/callback/github", "/auth/callback/twitter");
    await expectRejected(flow, path, flow.cookie, "NotFound", 404);
  });

  it("when a parameter is repeated", async () => {
    const flow = await githubFlow();
    await expectRejected(flow, withParams(flow, { state: [flow.state, flow.state] }), flow.cookie, "OAuthCallback", 400);
    await expectRejected(flow, withParams(flow, { state: [flow.state, randomBase64Url()] }), flow.cookie, "OAuthCallback", 400);
    const code = flow.callbackUrl.searchParams.get("code") ?? "";
    await expectRejected(flow, withParams(flow, { code: [code, code] }), flow.cookie, "OAuthCallback", 400);
  });

  it("when the code is missing or malformed", async () => {
    const flow = await githubFlow();
    await expectRejected(flow, withParams(flow, { code: null }), flow.cookie, "OAuthCallback", 400);
    await expectRejected(flow, withParams(flow, { code: "" }), flow.cookie, "OAuthCallback", 400);
    await expectRejected(flow, withParams(flow, { code: "a b" }), flow.cookie, "OAuthCallback", 400);
    await expectRejected(flow, withParams(flow, { code: "x".repeat(5000) }), flow.cookie, "OAuthCallback", 400);
  });

  it("when iss names another issuer (RFC 9207)", async () => {
    const flow = await githubFlow();
    await expectRejected(flow, withParams(flow, { iss: "https://evil.example.com" }), flow.cookie, "OAuthCallback", 400);
  });

  it("when the provider answers error=access_denied, without reflecting its description", async () => {
    const flow = await githubFlow({ authorizeError: "access_denied" });
    expect(flow.callbackUrl.searchParams.get("error")).toBe("access_denied");
    const body = await expectRejected(flow, callbackPath(flow), flow.cookie, "AccessDenied", 403);
    expect(body).not.toContain(flow.callbackUrl.searchParams.get("error_description") ?? "@@");
  });

  it("after a cancel at the provider, the error page's way back keeps the return address", async () => {
    const returnTo = "https://app.example.com/after?x=1";
    const subject = String(Math.floor(Math.random() * 1e12));
    const flow = await beginFlow("github", targetEnv, { authorizeError: "access_denied", user: { id: subject } }, `?redirect_to=${encodeURIComponent(returnTo)}`);
    const res = await request(callbackPath(flow), { headers: { ...HTML, cookie: flow.cookie } }, targetEnv);
    expect(res.status).toBe(403);
    const html = await res.text();
    expect(html).toContain("AccessDenied");
    const back = /<a class="button" href="([^"]+)"/.exec(html)?.[1]?.replaceAll("&amp;", "&");
    expect(back).toBe(`/auth/signin?redirect_to=${encodeURIComponent(returnTo)}`);
    // JSON callers get no link, only the code.
    const other = await beginFlow("github", targetEnv, { authorizeError: "access_denied", user: { id: `${subject}1` } }, `?redirect_to=${encodeURIComponent(returnTo)}`);
    const json = await (await request(callbackPath(other), { headers: { cookie: other.cookie } }, targetEnv)).text();
    expect(json).not.toContain("app.example.com");
  });

  it("when the provider answers another error=, showing only a sanitized code", async () => {
    const flow = await githubFlow();
    const path = withParams(flow, { code: null, error: "<script>alert(1)</script>", error_description: "<img src=x onerror=alert(1)>" });
    const body = await expectRejected(flow, path, flow.cookie, "OAuthCallback", 400);
    expect(body).not.toContain("<script>alert");
    expect(body).not.toContain("<img");
    // The attempt is over once the provider said no: the same callback again is StateInvalid.
    const again = await request(path, { headers: { cookie: flow.cookie } }, targetEnv);
    expect(await again.json()).toMatchObject({ code: "StateInvalid" });

    const other = await githubFlow();
    const json = await (await request(withParams(other, { code: null, error: "<script>alert(1)</script>", error_description: "<img src=x onerror=alert(1)>" }), { headers: { cookie: other.cookie } }, targetEnv)).json();
    expect(json).toMatchObject({ code: "OAuthCallback", providerError: "unknown" });
    expect(JSON.stringify(json)).not.toContain("onerror");
  });

  it("when the callback was already used (the same URL twice): the second follows the first, never the provider", async () => {
    const flow = await githubFlow();
    const first = await request(callbackPath(flow), { headers: { cookie: flow.cookie } }, targetEnv);
    expect(first.status).toBe(302);
    const [account] = await rawSql<{ user_id: string }>(`SELECT user_id FROM accounts WHERE provider = 'github' AND provider_subject = $1`, [flow.subject]);
    expect(await tokenCalls(flow)).toBe(1);
    await resetStats(SCOPE);
    const second = await request(callbackPath(flow), { headers: { ...HTML, cookie: flow.cookie } }, targetEnv);
    // The same browser (it has the binding cookie): back to the return address with the same session.
    expect(second.status).toBe(302);
    expect(second.headers.get("location")).toBe(first.headers.get("location"));
    const refresh = (r: Response) => r.headers.getSetCookie().find((c) => c.startsWith("__Host-gh_refresh="))?.split(";")[0];
    expect(refresh(second)).toBe(refresh(first));
    expect(await stats(SCOPE)).toMatchObject({ requests: 1 });
    expect(await tokenCalls(flow)).toBe(1);
    expect(await countRows({ userId: account?.user_id, stateHash: flow.stateHash, subject: flow.subject })).toMatchObject({ sessions: 1, consumed: 1, accounts: 1 });
  });
});

describe("an OpenID provider that sends iss on the callback (RFC 9207)", () => {
  const TENANT = "signin-rejections";
  // gatehouse configured with one generic OIDC provider "acme": a fake tenant with its own call log.
  const acmeEnv = {
    ...env,
    DATABASE_URL: scopedDatabaseUrl(SCOPE),
    OIDC_PROVIDERS: "acme",
    OIDC_ACME_ISSUER: tenantIssuer(TENANT),
    OIDC_ACME_CLIENT_ID: TENANT_CLIENT.clientId,
    OIDC_ACME_CLIENT_SECRET: TENANT_CLIENT.clientSecret,
  } as Env;

  async function acmeFlow(scenario: FakeScenario = {}): Promise<SubjectFlow> {
    const subject = `acme-${crypto.randomUUID()}`;
    const user = { id: subject, email: null };
    return { ...(await beginFlow(`oidc/${TENANT}`, acmeEnv, { ...scenario, user }, "", "acme")), subject };
  }

  async function send(flow: SubjectFlow): Promise<Response> {
    await resetStats(SCOPE);
    return request(callbackPath(flow), { headers: { ...HTML, cookie: flow.cookie } }, acmeEnv);
  }

  it("signs in when iss is the issuer", async () => {
    const flow = await acmeFlow();
    expect(flow.callbackUrl.searchParams.get("iss")).toBe(tenantIssuer(TENANT));
    const res = await send(flow);
    expect(res.status, await res.clone().text()).toBe(302);
    expect(await stats(SCOPE)).toMatchObject({ requests: CALLBACK_ROUND_TRIPS });
  });

  it.each([
    ["names another issuer", { callbackParams: { iss: "https://evil.example.com" } }],
    ["is missing", { omitIss: true }],
  ] as const)("refuses with OAuthCallback when iss %s, before the token endpoint", async (_, scenario) => {
    const flow = await acmeFlow(scenario);
    const res = await send(flow);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("<code>OAuthCallback</code>");
    expect(res.headers.getSetCookie()).toEqual([]);
    // Checked before the state is claimed: no database either.
    expect(await stats(SCOPE)).toMatchObject({ requests: 0 });
    expect(await tokenCalls(flow)).toBe(0);
    expect(await countRows({ subject: flow.subject, stateHash: flow.stateHash })).toMatchObject({ accounts: 0, consumed: 0 });
  });
});
