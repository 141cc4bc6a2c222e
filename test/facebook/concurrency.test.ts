/**
 * F13 through the whole connect flow: a connect after a soft delete (the
 * partial unique indexes ignore deleted rows), and concurrent connects of one
 * user on real Postgres (PGlite serializes everything): exactly one active
 * token of each kind, never a unique violation reaching the user.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { rawSql } from "../helpers/neon-local";
import { api } from "../helpers/orgs";
import { signinEnv } from "../signin/helpers";
import { beginConnect, finishConnect, newFacebookId, orgWithOwner, tokenRows } from "./helpers";

const SCOPE = "facebook_concurrency";
const targetEnv = signinEnv(SCOPE);
const ROUNDS = 4;

/** Active tokens per kind and page, and the total rows, for an org. */
async function activeTokens(orgId: string) {
  const rows = await tokenRows(orgId);
  const active = rows.filter((r) => r.active);
  const perPage = new Map<string, number>();
  for (const r of active.filter((r) => r.token_type === "page")) perPage.set(r.external_page_id ?? "?", (perPage.get(r.external_page_id ?? "?") ?? 0) + 1);
  return { user: active.filter((r) => r.token_type === "user").length, perPage: [...perPage.values()], total: rows.length };
}

describe("one active token of each kind (F13)", () => {
  it("connect → disconnect → connect: the new tokens insert beside the soft-deleted ones", async () => {
    const setup = await orgWithOwner();
    const subject = newFacebookId();
    const pages = { count: 2, idPrefix: subject };
    for (const step of ["connect", "disconnect", "connect"] as const) {
      if (step === "disconnect") {
        expect((await api(setup.accessToken, "POST", `/api/orgs/${setup.org.slug}/providers/facebook/disconnect`)).status).toBe(200);
        continue;
      }
      const flow = await beginConnect(targetEnv, setup.cookieHeader, setup.org.slug, { user: { id: subject }, facebookPages: pages });
      expect((await finishConnect(targetEnv, flow)).status).toBe(302);
    }
    expect(await activeTokens(setup.org.id)).toEqual({ user: 1, perPage: [1, 1], total: 6 });
  });

  it.skipIf(env.DATABASE_BACKEND !== "pg")("two concurrent connects (first-time and reconnect) leave exactly one active token of each kind (needs real Postgres (set TEST_DATABASE_URL))", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const setup = await orgWithOwner();
      const subject = newFacebookId();
      const pages = { count: 120, idPrefix: subject };
      for (const phase of ["first-time", "reconnect"]) {
        const flows = await Promise.all([1, 2].map(() => beginConnect(targetEnv, setup.cookieHeader, setup.org.slug, { user: { id: subject }, facebookPages: pages })));
        const responses = await Promise.all(flows.map((f) => finishConnect(targetEnv, f)));
        expect(responses.map((r) => r.status), `${phase}, round ${round}`).toEqual([302, 302]);
        const active = await activeTokens(setup.org.id);
        expect(active.user).toBe(1);
        expect(active.perPage).toHaveLength(120);
        expect(active.perPage.every((n) => n === 1)).toBe(true);
      }
      expect(await rawSql("SELECT count(*)::int AS n FROM accounts WHERE provider = 'facebook' AND provider_subject = $1", [subject])).toEqual([{ n: 1 }]);
    }
  });
});
