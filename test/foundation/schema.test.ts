/**
 * The schema, built only from migrations/, exercised through the real Neon
 * driver: ids come from the database (F3), every column type round-trips
 * (F11), the discriminator has no default (F12) and the partial unique
 * indexes hold, including after soft delete and under concurrency (F13).
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/neon-http";
import { describe, expect, it } from "vitest";
import * as schema from "../../src/db/schema";
import { neonSql, rawSql } from "../helpers/neon-local";

const db = () => drizzle({ client: neonSql(), schema });
const unique = () => crypto.randomUUID().slice(0, 8);

/** Raw-SQL inserts that name no id: the database must supply one (F3). */
async function seed() {
  const [user] = await rawSql<{ id: string }>(`INSERT INTO users (email, name) VALUES ($1, 'Seed') RETURNING id`, [`seed-${unique()}@example.com`]);
  const [account] = await rawSql<{ id: string }>(
    `INSERT INTO accounts (user_id, provider, provider_subject) VALUES ($1, 'github', $2) RETURNING id`,
    [user!.id, unique()],
  );
  const [org] = await rawSql<{ id: string }>(`INSERT INTO organizations (slug, name) VALUES ($1, 'Org') RETURNING id`, [`org-${unique()}`]);
  const [page] = await rawSql<{ id: string }>(
    `INSERT INTO provider_pages (org_id, provider, external_page_id, name) VALUES ($1, 'facebook', $2, 'Page') RETURNING id`,
    [org!.id, unique()],
  );
  return { userId: user!.id, accountId: account!.id, orgId: org!.id, pageId: page!.id };
}

function insertToken(s: Awaited<ReturnType<typeof seed>>, type: "user" | "page") {
  return rawSql<{ id: string }>(
    `INSERT INTO provider_tokens (org_id, user_id, account_id, page_id, provider, token_type, ciphertext, key_version)
     VALUES ($1, $2, $3, $4, 'facebook', $5, '\\x00', 1) RETURNING id`,
    [s.orgId, s.userId, s.accountId, type === "page" ? s.pageId : null, type],
  );
}

async function sqlstate(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === "string") return code;
    }
    throw error;
  }
}

describe("schema built from migrations/", () => {
  it("gives every row inserted by raw SQL without an id an id (F3)", async () => {
    const s = await seed();
    const [session] = await rawSql<{ id: string }>(
      `INSERT INTO sessions (user_id, secret_hash, expires_at, absolute_expires_at) VALUES ($1, $2, now() + interval '1 day', now() + interval '2 days') RETURNING id`,
      [s.userId, "a".repeat(64)],
    );
    const [membership] = await rawSql<{ id: string }>(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'owner') RETURNING id`, [s.orgId, s.userId]);
    const [token] = await insertToken(s, "user");
    const [audit] = await rawSql<{ id: string }>(`INSERT INTO audit_events (actor_type, action) VALUES ('system', 'test') RETURNING id::text AS id`);
    const [invitation] = await rawSql<{ id: string }>(
      `INSERT INTO org_invitations (org_id, email_normalized, role, expires_at) VALUES ($1, 'seed@example.com', 'member', now() + interval '1 day') RETURNING id`,
      [s.orgId],
    );
    for (const id of [s.userId, s.accountId, s.orgId, s.pageId, session!.id, membership!.id, token!.id, invitation!.id]) {
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(Number(audit!.id)).toBeGreaterThan(0);
  });

  it("round-trips every column type through drizzle and the real driver (F11)", async () => {
    const s = await seed();
    const tasks = ["MODERATE", "CREATE_CONTENT", 'quote"d', "comma,separated", "NULL", "back\\slash", "한국어"];
    const [page] = await db()
      .insert(schema.providerPages)
      .values({ orgId: s.orgId, provider: "facebook", externalPageId: unique(), name: "Ünïcode ‘page’", category: null, tasks })
      .returning();
    expect(page!.tasks).toEqual(tasks);
    expect(page!.category).toBeNull();
    expect(page!.createdAt).toBeInstanceOf(Date);

    const ciphertext = Uint8Array.from([0, 1, 2, 127, 128, 255, 92, 120]);
    const expiresAt = new Date("2031-05-06T07:08:09.123Z");
    const [token] = await db()
      .insert(schema.providerTokens)
      .values({ orgId: s.orgId, userId: s.userId, accountId: s.accountId, pageId: page!.id, provider: "facebook", tokenType: "page", ciphertext, keyVersion: 7, scopes: ["pages_show_list", "a,b"], expiresAt })
      .returning();
    const [read] = await db().select().from(schema.providerTokens).where(eq(schema.providerTokens.id, token!.id));
    expect(read!.ciphertext).toEqual(ciphertext);
    expect(read!.tokenType).toBe("page");
    expect(read!.keyVersion).toBe(7);
    expect(read!.scopes).toEqual(["pages_show_list", "a,b"]);
    expect(read!.expiresAt?.toISOString()).toBe(expiresAt.toISOString());
    expect(read!.deletedAt).toBeNull();

    const metadata = { quote: 'say "hi"', backslash: "C:\\path", unicode: "🔐 ñ 漢字", nested: { n: 1, ok: true, none: null } };
    const [audit] = await db().insert(schema.auditEvents).values({ actorType: "user", action: "test", metadata }).returning();
    expect(audit!.metadata).toEqual(metadata);
    expect(typeof audit!.id).toBe("bigint");

    const [org] = await db().insert(schema.organizations).values({ slug: `p-${unique()}`, name: "Personal", personal: true, personalUserId: s.userId }).returning();
    expect(org!.personal).toBe(true);
  });

  it("stores the discriminator only when an insert names it: no default (F12)", async () => {
    const s = await seed();
    const code = await sqlstate(
      rawSql(`INSERT INTO provider_tokens (org_id, user_id, account_id, provider, ciphertext, key_version) VALUES ($1, $2, $3, 'facebook', '\\x00', 1)`, [s.orgId, s.userId, s.accountId]),
    );
    expect(code).toBe("23502");
    const [row] = await rawSql<{ column_default: string | null }>(
      `SELECT column_default FROM information_schema.columns WHERE table_name = 'provider_tokens' AND column_name = 'token_type'`,
    );
    expect(row!.column_default).toBeNull();
    // A page token must point at a page and a user token must not.
    expect(await sqlstate(rawSql(`UPDATE provider_tokens SET page_id = NULL WHERE token_type = 'page' AND org_id = $1`, [s.orgId]))).toBeUndefined();
    const [userToken] = await insertToken(s, "user");
    expect(await sqlstate(rawSql(`UPDATE provider_tokens SET token_type = 'page' WHERE id = $1`, [userToken!.id]))).toBe("23514");
  });

  it("allows one active user token per (org, user, provider) and one per (org, page), and a new one after soft delete (F13)", async () => {
    const s = await seed();
    const [first] = await insertToken(s, "user");
    expect(await sqlstate(insertToken(s, "user"))).toBe("23505");
    await rawSql(`UPDATE provider_tokens SET deleted_at = now() WHERE id = $1`, [first!.id]);
    expect(await sqlstate(insertToken(s, "user"))).toBeUndefined();

    const [page] = await insertToken(s, "page");
    expect(await sqlstate(insertToken(s, "page"))).toBe("23505");
    await rawSql(`UPDATE provider_tokens SET deleted_at = now() WHERE id = $1`, [page!.id]);
    expect(await sqlstate(insertToken(s, "page"))).toBeUndefined();

    const [active] = await rawSql<{ n: string }>(`SELECT count(*)::text AS n FROM provider_tokens WHERE org_id = $1 AND deleted_at IS NULL`, [s.orgId]);
    expect(active!.n).toBe("2");
  });

  it.skipIf(env.DATABASE_BACKEND !== "pg")("lets exactly one of 10 concurrent inserts of an active token win, on real Postgres (F13; needs TEST_DATABASE_URL)", async () => {
    const s = await seed();
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => insertToken(s, "user")));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const [active] = await rawSql<{ n: string }>(`SELECT count(*)::text AS n FROM provider_tokens WHERE org_id = $1 AND token_type = 'user' AND deleted_at IS NULL`, [s.orgId]);
    expect(active!.n).toBe("1");
  });

  it("keeps one account per (provider, subject) and one user per verified email", async () => {
    const s = await seed();
    const [account] = await rawSql<{ provider_subject: string }>(`SELECT provider_subject FROM accounts WHERE id = $1`, [s.accountId]);
    expect(await sqlstate(rawSql(`INSERT INTO accounts (user_id, provider, provider_subject) VALUES ($1, 'github', $2)`, [s.userId, account!.provider_subject]))).toBe("23505");
    const email = `dup-${unique()}@example.com`;
    await rawSql(`INSERT INTO users (email_normalized, email_verified_at) VALUES ($1, now())`, [email]);
    expect(await sqlstate(rawSql(`INSERT INTO users (email_normalized, email_verified_at) VALUES ($1, now())`, [email]))).toBe("23505");
    expect(await sqlstate(rawSql(`INSERT INTO users (email_normalized) VALUES ($1)`, [email]))).toBeUndefined();
  });
});
