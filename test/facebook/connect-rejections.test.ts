/**
 * A Facebook Pages connect that must not happen, or cannot complete, writes
 * nothing: no row (counted with raw SQL), no Set-Cookie, and for a refused
 * start nothing in KV either. Roles are checked at the start AND inside the
 * callback's batch; Graph's errors map to stable codes before any batch runs.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { fakeCalls, type FakeScenario } from "../fakes/control";
import { rawSql, resetStats, stats } from "../helpers/neon-local";
import { createVerifiedUser } from "../helpers/orgs";
import { signInAs } from "../helpers/sessions";
import { request, signinEnv, wrapKv } from "../signin/helpers";
import { beginConnect, connectRows, finishConnect, memberOf, newFacebookId, ORIGIN, orgWithOwner, startConnect } from "./helpers";

const SCOPE = "facebook_rejections";
const targetEnv = signinEnv(SCOPE);

beforeEach(async () => {
  await resetStats(SCOPE);
});

describe("starting a connect", () => {
  it.each([
    ["a plain member", "member", 403, "Forbidden"],
    ["a non-member", null, 404, "NotFound"],
  ] as const)("%s (%s) gets %i %s: nothing in KV, no cookie, no write, one read", async (_, role, status, code) => {
    const { org } = await orgWithOwner();
    const caller = role === null ? await signInAs((await createVerifiedUser("stranger")).id) : await memberOf(org.id, role);
    const { kv, puts } = wrapKv(env.AUTH_KV);
    await resetStats(SCOPE);
    const res = await startConnect(signinEnv(SCOPE, kv), caller.cookieHeader, org.slug);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { code: string }).code).toBe(code);
    expect(puts).toEqual([]);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await stats(SCOPE)).toMatchObject({ requests: 1, batches: 0 });
  });

  it("an admin may start it (the org by id works too)", async () => {
    const { org } = await orgWithOwner();
    const admin = await memberOf(org.id, "admin");
    const res = await startConnect(targetEnv, admin.cookieHeader, org.id);
    expect(res.status, await res.clone().text()).toBe(303);
  });

  it.each([
    ["another provider", "/auth/link/google?org=ORG", 400],
    ["two orgs", "/auth/link/facebook?org=ORG&org=ORG", 400],
    ["a malformed org", "/auth/link/facebook?org=%00nope", 404],
  ])("%s is refused before any transaction", async (_, path, status) => {
    const { org, cookieHeader } = await orgWithOwner();
    const { kv, puts } = wrapKv(env.AUTH_KV);
    const res = await request(path.replaceAll("ORG", org.slug), { method: "POST", headers: { origin: ORIGIN, cookie: cookieHeader } }, signinEnv(SCOPE, kv));
    expect(res.status).toBe(status);
    expect(puts).toEqual([]);
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("needs the Origin check and a session like any link", async () => {
    const { org, cookieHeader } = await orgWithOwner();
    const noOrigin = await request(`/auth/link/facebook?org=${org.slug}`, { method: "POST", headers: { cookie: cookieHeader } }, targetEnv);
    expect(noOrigin.status).toBe(403);
    const noSession = await request(`/auth/link/facebook?org=${org.slug}`, { method: "POST", headers: { origin: ORIGIN } }, targetEnv);
    expect(noSession.status).toBe(401);
    expect(await stats(SCOPE)).toMatchObject({ requests: 0 });
  });
});

describe("the callback refuses, writing nothing but the claimed state and its outcome", () => {
  it("when the role was revoked between start and callback (the guard inside the batch)", async () => {
    const { org } = await orgWithOwner();
    const admin = await memberOf(org.id, "admin");
    const subject = newFacebookId();
    const flow = await beginConnect(targetEnv, admin.cookieHeader, org.slug, { user: { id: subject }, facebookPages: { count: 3, idPrefix: subject } });
    await rawSql("UPDATE memberships SET role = 'member' WHERE org_id = $1 AND user_id = $2", [org.id, admin.user.id]);
    const where = { orgId: org.id, userId: admin.user.id, subject, stateHash: flow.stateHash };
    const before = await connectRows(where);

    await resetStats(SCOPE);
    const res = await finishConnect(targetEnv, flow);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("<code>Forbidden</code>");
    expect(res.headers.getSetCookie()).toEqual([]);
    // Claim, the batch (rolled back: not even the account), and the refusal recorded for duplicates.
    expect((await stats(SCOPE)).requests).toBe(3);
    expect(await connectRows(where)).toEqual({ ...before, consumed: 1 });
    expect(before).toMatchObject({ pages: 0, org_tokens: 0, accounts: 0, consumed: 0, audit: 0 });
    expect(await stateOutcome(flow.stateHash)).toBe("Forbidden");
  });

  const graphFailures: [string, FakeScenario, number, string][] = [
    ["exchange: 190 (expired token) → OAuthCallback", { exchange: { providerError: 190 } }, 400, "OAuthCallback"],
    ["exchange: 4 (rate limit) → ProviderUnavailable", { exchange: { providerError: 4 } }, 502, "ProviderUnavailable"],
    ["/me/accounts: 190 → OAuthCallback", { accounts: { providerError: 190 } }, 400, "OAuthCallback"],
    ["/me/accounts: 4 → ProviderUnavailable", { accounts: { providerError: 4 } }, 502, "ProviderUnavailable"],
    ["/me/accounts: 17 → ProviderUnavailable", { accounts: { providerError: 17 } }, 502, "ProviderUnavailable"],
    ["/me/accounts: 32 → ProviderUnavailable", { accounts: { providerError: 32 } }, 502, "ProviderUnavailable"],
    ["/me/accounts: 613 → ProviderUnavailable", { accounts: { providerError: 613 } }, 502, "ProviderUnavailable"],
    ["/me/accounts: 613 on the 2nd Graph page → ProviderUnavailable", { accounts: { providerError: 613 }, accountsFaultAtPage: 2 }, 502, "ProviderUnavailable"],
    ["/me/accounts: HTML → ProviderUnavailable", { accounts: { html: true } }, 502, "ProviderUnavailable"],
    ["paging.next on another host → ProviderUnavailable", { accountsNextBase: "https://evil.example/v24.0" }, 502, "ProviderUnavailable"],
    ["paging.next on another Graph version → ProviderUnavailable", { accountsNextBase: "https://graph.facebook.com/v2.0" }, 502, "ProviderUnavailable"],
    ["pages_show_list declined → AccessDenied", { grantedScopes: ["email", "public_profile", "pages_manage_posts"] }, 403, "AccessDenied"],
  ];

  it.each(graphFailures)("%s", async (_, scenario, status, code) => {
    const setup = await orgWithOwner();
    const subject = newFacebookId();
    const flow = await beginConnect(targetEnv, setup.cookieHeader, setup.org.slug, { user: { id: subject }, facebookPages: { count: 150, idPrefix: subject }, ...scenario });
    const where = { orgId: setup.org.id, userId: setup.owner.id, subject, stateHash: flow.stateHash };
    const before = await connectRows(where);

    await resetStats(SCOPE);
    const res = await finishConnect(targetEnv, flow);
    expect(res.status).toBe(status);
    const body = await res.text();
    expect(body).toContain(`<code>${code}</code>`);
    expect(body).not.toMatch(/EAA[BLP]/);
    expect(res.headers.getSetCookie()).toEqual([]);
    // The claim before the exchange and the failure recorded for duplicates; no batch.
    expect((await stats(SCOPE)).requests).toBe(2);
    expect(await connectRows(where)).toEqual({ ...before, consumed: 1 });
    expect(await stateOutcome(flow.stateHash)).toBe(code);
    if (code === "AccessDenied") expect(await fakeCalls({ scenario: flow.scenario, endpoint: "exchange" })).toEqual([]);
  });
});

async function stateOutcome(stateHash: string): Promise<string | null | undefined> {
  return (await rawSql<{ outcome: string | null }>("SELECT outcome FROM oauth_consumed_states WHERE state_hash = $1", [stateHash]))[0]?.outcome;
}
