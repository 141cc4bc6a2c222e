/**
 * Races that only real Postgres can show (PGlite has one connection, so it
 * serializes everything): run with TEST_DATABASE_URL. The last-owner rule
 * must hold when both owners are demoted or leave at the same moment, and
 * two concurrent reconnects must leave exactly one active token of each kind
 * without a unique violation (F13).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { databaseFor } from "../../src/db/client";
import { isOrgRoleRefusal, orgRoleGuardStatement } from "../../src/db/orgs";
import { syncPagesStatements } from "../../src/db/pages";
import { replacePageTokenStatements, replaceUserTokenStatements } from "../../src/db/provider-tokens";
import { neonSql, rawSql } from "../helpers/neon-local";
import { testConfig } from "../helpers/sessions";
import {
  accessTokenFor,
  addMembership,
  api,
  countRows,
  createAccount,
  createOrgAs,
  createVerifiedUser,
  sealPageToken,
  sealUserToken,
  unique,
} from "../helpers/orgs";

const onPostgres = env.DATABASE_BACKEND === "pg";
const ROUNDS = 8;

async function twoOwners() {
  const a = await createVerifiedUser("owner-a");
  const b = await createVerifiedUser("owner-b");
  const tokenA = await accessTokenFor(a.id);
  const org = await createOrgAs(tokenA, "Race");
  await addMembership(org.id, b.id, "owner");
  return { org, a: { ...a, token: tokenA }, b: { ...b, token: await accessTokenFor(b.id) } };
}

describe("concurrency on real Postgres", () => {
  it.skipIf(!onPostgres)("a role-checked write racing the caller's demotion waits for it and is refused (FOR SHARE on the caller's membership; needs real Postgres)", async () => {
    const owner = await createVerifiedUser("owner");
    const org = await createOrgAs(await accessTokenFor(owner.id), "Demote");
    const admin = await createVerifiedUser("admin");
    await addMembership(org.id, admin.id, "admin");
    const account = await createAccount(admin.id);
    const db = await databaseFor(testConfig());
    await db.batch([...replaceUserTokenStatements(db, { orgId: org.id, userId: admin.id, accountId: account.id, provider: "facebook", token: await sealUserToken({ orgId: org.id, userId: admin.id }, account.subject, "t") })]);
    const adminToken = await accessTokenFor(admin.id);

    for (const [label, write] of [
      ["disconnect", () => api(adminToken, "POST", `/api/orgs/${org.slug}/providers/facebook/disconnect`)],
      ["invite", () => api(adminToken, "POST", `/api/orgs/${org.slug}/invitations`, { email: `x-${unique()}@example.com` })],
      // The role guard that opens the Facebook connect callback's batch.
      ["connect guard", () => db.batch([orgRoleGuardStatement(db, { userId: admin.id, orgId: org.id, roles: ["owner", "admin"] })]).then(
        () => new Response(null, { status: 200 }),
        (error: unknown) => new Response(null, { status: isOrgRoleRefusal(error) ? 403 : 500 }),
      )],
    ] as const) {
      await rawSql("UPDATE memberships SET role = 'admin' WHERE org_id = $1 AND user_id = $2", [org.id, admin.id]);
      // The demotion is written but not committed while the write arrives; then it commits.
      const sqlClient = neonSql();
      const demotion = sqlClient.transaction([
        sqlClient.query("UPDATE memberships SET role = 'member' WHERE org_id = $1 AND user_id = $2", [org.id, admin.id]),
        sqlClient.query("SELECT pg_sleep(1.5) AS gatehouse_demotion_holder"),
      ]);
      await waitFor(async () => (await holders()) === 1);
      const pending = write();
      await demotion;
      const res = await pending;
      expect(res.status, label).toBe(403);
    }
    expect(await countRows("provider_tokens", "org_id = $1 AND user_id = $2 AND deleted_at IS NULL", [org.id, admin.id])).toBe(1);
    expect(await countRows("org_invitations", "org_id = $1", [org.id])).toBe(0);
  }, 30_000);

  it.skipIf(!onPostgres)("two owners demoting each other at once never leave the org without an owner (needs real Postgres: TEST_DATABASE_URL)", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { org, a, b } = await twoOwners();
      const results = await Promise.all([
        api(a.token, "PATCH", `/api/orgs/${org.slug}/members/${b.id}`, { role: "admin" }),
        api(b.token, "PATCH", `/api/orgs/${org.slug}/members/${a.id}`, { role: "admin" }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 403]);
      expect(await countRows("memberships", "org_id = $1 AND role = 'owner'", [org.id])).toBe(1);
    }
  });

  it.skipIf(!onPostgres)("two owners demoting themselves or leaving at once keep one owner (needs real Postgres: TEST_DATABASE_URL)", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { org, a, b } = await twoOwners();
      const results = await Promise.all([
        api(a.token, "PATCH", `/api/orgs/${org.slug}/members/${a.id}`, { role: "member" }),
        api(b.token, "POST", `/api/orgs/${org.slug}/leave`),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(await countRows("memberships", "org_id = $1 AND role = 'owner'", [org.id])).toBe(1);
    }
  });

  it.skipIf(!onPostgres)("two concurrent reconnects leave exactly one active token of each kind, without a unique violation (F13; needs real Postgres: TEST_DATABASE_URL)", async () => {
    const db = await databaseFor(testConfig());
    for (let round = 0; round < ROUNDS; round++) {
      const user = await createVerifiedUser();
      const org = await createOrgAs(await accessTokenFor(user.id), "Reconnect");
      const account = await createAccount(user.id);
      const page = { externalId: `page-${unique()}`, name: "Page", category: null, tasks: ["MODERATE"] };
      const owner = { orgId: org.id, userId: user.id, accountId: account.id, provider: "facebook" };
      const reconnect = async (label: string) =>
        db.batch([
          ...syncPagesStatements(db, { orgId: org.id, userId: user.id, provider: "facebook", pages: [page] }),
          ...replaceUserTokenStatements(db, { ...owner, token: await sealUserToken(owner, account.subject, `user-${label}`) }),
          ...replacePageTokenStatements(db, { ...owner, externalPageId: page.externalId, token: await sealPageToken(org.id, user.id, page.externalId, `page-${label}`) }),
        ]);
      // A first connection exists, then two reconnects race.
      await reconnect("first");
      await Promise.all([reconnect("x"), reconnect("y")]);
      expect(await countRows("provider_tokens", "org_id = $1 AND token_type = 'user' AND deleted_at IS NULL", [org.id])).toBe(1);
      expect(await countRows("provider_tokens", "org_id = $1 AND token_type = 'page' AND deleted_at IS NULL", [org.id])).toBe(1);
      expect(await countRows("provider_pages", "org_id = $1", [org.id])).toBe(1);
    }
  });

  it.skipIf(!onPostgres)("two concurrent token replacements alone (no page upsert to serialize them) still leave one active token of each kind (F13; needs real Postgres: TEST_DATABASE_URL)", async () => {
    const db = await databaseFor(testConfig());
    for (let round = 0; round < ROUNDS; round++) {
      const user = await createVerifiedUser();
      const org = await createOrgAs(await accessTokenFor(user.id), "Replace");
      const account = await createAccount(user.id);
      const page = { externalId: `page-${unique()}`, name: "Page", category: null, tasks: [] };
      const owner = { orgId: org.id, userId: user.id, accountId: account.id, provider: "facebook" };
      await db.batch([...syncPagesStatements(db, { orgId: org.id, userId: user.id, provider: "facebook", pages: [page] })]);
      const replace = async (label: string) =>
        db.batch([
          ...replaceUserTokenStatements(db, { ...owner, token: await sealUserToken(owner, account.subject, `user-${label}`) }),
          ...replacePageTokenStatements(db, { ...owner, externalPageId: page.externalId, token: await sealPageToken(org.id, user.id, page.externalId, `page-${label}`) }),
        ]);
      await replace("first");
      await Promise.all([replace("x"), replace("y"), replace("z")]);
      expect(await countRows("provider_tokens", "org_id = $1 AND token_type = 'user' AND deleted_at IS NULL", [org.id])).toBe(1);
      expect(await countRows("provider_tokens", "org_id = $1 AND token_type = 'page' AND deleted_at IS NULL", [org.id])).toBe(1);
    }
  });
});

async function holders(): Promise<number> {
  const [r] = await rawSql<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%AS gatehouse_demotion_holder%' AND pid <> pg_backend_pid()",
  );
  return r?.n ?? 0;
}

/** Polls a condition (no fixed sleeps); fails the test after 200 tries. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("waitFor: condition never became true");
}
