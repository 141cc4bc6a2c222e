/**
 * `POST /api/orgs/:org/providers/facebook/disconnect`: an owner or admin
 * soft-deletes their own Facebook tokens of the org in one statement (with
 * its audit row); rows and pages are kept; a backend can no longer read them.
 * Refusals change nothing.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers/app";
import { resetStats, stats } from "../helpers/neon-local";
import { api, auditRows, basic, serviceEnv } from "../helpers/orgs";
import { rawSql } from "../helpers/neon-local";
import { signinEnv } from "../signin/helpers";
import { beginConnect, finishConnect, memberOf, newFacebookId, orgWithOwner, tokenRows } from "./helpers";

const SCOPE = "facebook_disconnect";
const targetEnv = signinEnv(SCOPE);

beforeEach(async () => {
  await resetStats(SCOPE);
});

/** An org whose owner connected two pages. */
async function connected() {
  const setup = await orgWithOwner();
  const subject = newFacebookId();
  const flow = await beginConnect(targetEnv, setup.cookieHeader, setup.org.slug, { user: { id: subject }, facebookPages: { count: 2, idPrefix: subject } });
  const res = await finishConnect(targetEnv, flow);
  expect(res.status, await res.clone().text()).toBe(302);
  return { ...setup, subject };
}

const disconnect = (token: string | null, org: string) => api(token, "POST", `/api/orgs/${org}/providers/facebook/disconnect`, undefined, { scope: SCOPE });

describe("disconnecting Facebook", () => {
  it("soft-deletes the caller's user and page tokens in one round trip; rows and pages stay; backends get 404", async () => {
    const { org, accessToken, owner } = await connected();
    const [page] = await rawSql<{ id: string }>("SELECT id FROM provider_pages WHERE org_id = $1 LIMIT 1", [org.id]);

    await resetStats(SCOPE);
    const res = await disconnect(accessToken, org.slug);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ disconnected: { provider: "facebook", userTokens: 1, pageTokens: 2 } });
    expect((await stats(SCOPE)).requests).toBe(1);

    const rows = await tokenRows(org.id);
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => !r.active)).toBe(true);
    expect(rows.map((r) => r.token_type).sort()).toEqual(["page", "page", "user"]);
    expect(await rawSql("SELECT count(*)::int AS n FROM provider_pages WHERE org_id = $1 AND gone_at IS NULL", [org.id])).toEqual([{ n: 2 }]);
    expect((await auditRows(org.id)).filter((a) => a.action === "provider.disconnect")).toEqual([
      expect.objectContaining({ actor_type: "user", actor_id: owner.id, target_id: org.id, metadata: { provider: "facebook", userTokens: 1, pageTokens: 2 } }),
    ]);
    const svc = await serviceEnv("fb-disconnect-svc", [{ id: "pages-backend", orgs: [org.slug] }]);
    const read = await call(`/api/orgs/${org.slug}/pages/${page!.id}/token`, { method: "POST", headers: { authorization: basic("pages-backend") } }, { env: svc });
    expect(read.status).toBe(404);

    // Again: nothing left to retire, still 200.
    expect(await (await disconnect(accessToken, org.slug)).json()).toEqual({ disconnected: { provider: "facebook", userTokens: 0, pageTokens: 0 } });
  });

  it.each([
    ["a plain member", "member", 403],
    ["a non-member", null, 404],
  ] as const)("%s (%s) gets %i and nothing changes", async (_, role, status) => {
    const { org } = await connected();
    const caller = role === null ? await memberOf((await orgWithOwner("elsewhere")).org.id, "member") : await memberOf(org.id, role);
    const before = await tokenRows(org.id);
    const res = await disconnect(caller.accessToken, org.slug);
    expect(res.status).toBe(status);
    expect(await tokenRows(org.id)).toEqual(before);
    expect(before.every((r) => r.active)).toBe(true);
    expect((await auditRows(org.id)).filter((a) => a.action === "provider.disconnect")).toEqual([]);
  });

  it("without a Bearer token: 401 before any database work", async () => {
    const { org } = await connected();
    await resetStats(SCOPE);
    const res = await disconnect(null, org.slug);
    expect(res.status).toBe(401);
    expect((await stats(SCOPE)).requests).toBe(0);
  });

  it("an admin's disconnect leaves the tokens the owner connected", async () => {
    const { org } = await connected();
    const admin = await memberOf(org.id, "admin");
    const res = await disconnect(admin.accessToken, org.slug);
    expect(await res.json()).toEqual({ disconnected: { provider: "facebook", userTokens: 0, pageTokens: 0 } });
    expect((await tokenRows(org.id)).every((r) => r.active)).toBe(true);
  });
});
