/**
 * The account page's queries: everything the page shows in ONE round trip
 * (a batch of SELECTs), and unlinking a sign-in method in ONE statement that
 * makes every decision itself (ownership, "not the last method", token
 * retirement), so two racing requests cannot both win.
 */
import type { RequestContext } from "../lib/request-context";
import { and, asc, desc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import { auditInsert } from "./audit";
import { eventPage, eventsStatement, userScope, type AuditEventView } from "./audit-read";
import { disconnectProvider, type DisconnectResult } from "./facebook-connect";
import type { OrgRef } from "./orgs";
import type { Database } from "./client";
import { accounts, memberships, organizations, passkeys, providerPages, sessions, users } from "./schema";
import { userAppsOf, userAppsStatement, type UserApp } from "./oauth-grants";
import { ownerOf, type SessionProof } from "./sessions";

export interface AccountOverview {
  user: { id: string; email: string | null; name: string | null; image: string | null; createdAt: Date } | null;
  accounts: { id: string; provider: string; email: string | null; createdAt: Date }[];
  passkeys: { id: string; name: string; deviceType: string; createdAt: Date; lastUsedAt: Date | null }[];
  sessions: { id: string; createdAt: Date; lastUsedAt: Date; ip: string | null; userAgent: string | null }[];
  organizations: { id: string; slug: string; name: string; personal: boolean; role: "owner" | "admin" | "member" }[];
  /** Pages of the organizations where the user is owner or admin, gone ones included. */
  pages: { id: string; orgId: string; provider: string; name: string; category: string | null; goneAt: Date | null }[];
  /** Applications with access to the account (OAuth grants or refresh tokens). */
  apps: UserApp[];
  /** The user's most recent audit events ("Recent activity"), newest first. */
  events: AuditEventView[];
}

/** How many events the account page shows (older ones: `GET /auth/events`). */
const RECENT_EVENTS = 10;

/** Roles that see an organization's connected pages. */
const PAGE_ROLES = ["owner", "admin"] as const;

/**
 * Reads what the account page shows for `userId` (a verified session's
 * user) in one batch: profile, sign-in methods, live sessions,
 * organizations, connected pages of the organizations they administer, and
 * the applications with access to the account.
 *
 * @example
 * const overview = await accountOverview(await c.var.db(), session.userId);
 * if (!overview.user) throw new GatehouseError("Unauthorized", "…");
 */
export async function accountOverview(db: Database, userId: string): Promise<AccountOverview> {
  const [user, linked, keys, live, orgs, pages, apps, events] = await db.batch([
    db
      .select({ id: users.id, email: users.email, name: users.name, image: users.image, createdAt: users.createdAt })
      .from(users)
      .where(and(eq(users.id, userId), isNull(users.disabledAt))),
    db
      .select({ id: accounts.id, provider: accounts.provider, email: accounts.email, createdAt: accounts.createdAt })
      .from(accounts)
      .where(eq(accounts.userId, userId))
      .orderBy(asc(accounts.createdAt)),
    db
      .select({ id: passkeys.id, name: passkeys.name, deviceType: passkeys.deviceType, createdAt: passkeys.createdAt, lastUsedAt: passkeys.lastUsedAt })
      .from(passkeys)
      .where(eq(passkeys.userId, userId))
      .orderBy(asc(passkeys.createdAt))
      .limit(100),
    db
      .select({ id: sessions.id, createdAt: sessions.createdAt, lastUsedAt: sessions.lastUsedAt, ip: sessions.ip, userAgent: sessions.userAgent })
      .from(sessions)
      .where(and(eq(sessions.userId, userId), isNull(sessions.clientId), isNull(sessions.revokedAt), gt(sessions.expiresAt, sql`now()`)))
      .orderBy(desc(sessions.lastUsedAt))
      .limit(100),
    db
      .select({ id: organizations.id, slug: organizations.slug, name: organizations.name, personal: organizations.personal, role: memberships.role })
      .from(memberships)
      .innerJoin(organizations, eq(organizations.id, memberships.orgId))
      .where(eq(memberships.userId, userId))
      .orderBy(desc(organizations.personal), asc(organizations.name))
      .limit(200),
    db
      .select({
        id: providerPages.id,
        orgId: providerPages.orgId,
        provider: providerPages.provider,
        name: providerPages.name,
        category: providerPages.category,
        goneAt: providerPages.goneAt,
      })
      .from(providerPages)
      .innerJoin(memberships, eq(memberships.orgId, providerPages.orgId))
      .where(and(eq(memberships.userId, userId), inArray(memberships.role, [...PAGE_ROLES])))
      .orderBy(asc(providerPages.name))
      .limit(500),
    userAppsStatement(db, userId),
    eventsStatement(db, userScope(userId), { actions: [], since: null, until: null, before: null, limit: RECENT_EVENTS, ownHistory: true }),
  ]);
  return {
    user: user[0] ?? null,
    accounts: linked,
    passkeys: keys,
    sessions: live,
    organizations: orgs,
    pages,
    apps: userAppsOf(apps.rows),
    events: eventPage(events.rows, RECENT_EVENTS).events,
  };
}

/** What one unlink attempt did. */
export type UnlinkResult =
  | { outcome: "unlinked"; accounts: number; retiredTokens: number; revokedSessions: string[] }
  /** It is the user's only way to sign in: nothing changed. */
  | { outcome: "last_method" }
  /** The user has no such linked account (another user's is never touched). */
  | { outcome: "not_found" }
  /** The session proof did not hold (revoked, expired, wrong secret). */
  | { outcome: "unauthorized" };

/**
 * Unlinks the proven user's `provider` account(s) (or the one `accountId`
 * among them) in ONE statement. It refuses to remove the last sign-in
 * method: the user's account rows are locked (`FOR UPDATE`) and counted in
 * the same statement, so two concurrent unlinks of a user's two methods
 * cannot both pass (the loser re-reads the locked rows, the deleted one is
 * gone, and its count says "last method"). The account's provider tokens
 * are soft-deleted, and the sessions signed in through it revoked
 * (`revokedSessions`, for the caller to denylist), in the same statement.
 *
 * Note: `provider_tokens.account_id` is `ON DELETE CASCADE`, so Postgres
 * then removes those token rows with the account; the soft delete is what
 * reports the count, and keeps them retired if the foreign key ever changes.
 *
 * @example
 * const result = await unlinkAccount(db, proof, { provider: "github", accountId: null });
 * if (result.outcome === "last_method") throw new GatehouseError("InvalidRequest", "…");
 */
export async function unlinkAccount(
  db: Database,
  proof: SessionProof,
  target: { provider: string; accountId: string | null; context?: RequestContext },
): Promise<UnlinkResult> {
  const onlyId = target.accountId === null ? sql`` : sql` AND id = ${target.accountId}::uuid`;
  const result = await db.execute(sql`
    -- A disabled user keeps no power over their sign-in methods (their session JWT may live on for minutes).
    WITH me AS (SELECT u.id FROM users u WHERE u.id = ${ownerOf(proof)} AND u.disabled_at IS NULL),
    mine AS (
      SELECT a.id, a.provider FROM accounts a WHERE a.user_id = (SELECT id FROM me) FOR UPDATE
    ),
    -- Passkeys are sign-in methods too (db/passkeys.ts locks the same rows when it removes one).
    my_passkeys AS (SELECT p.id FROM passkeys p WHERE p.user_id = (SELECT id FROM me) FOR UPDATE),
    target AS (SELECT id FROM mine WHERE provider = ${target.provider}${onlyId}),
    unlinked AS (
      DELETE FROM accounts a
      WHERE a.id IN (SELECT id FROM target)
        AND (SELECT count(*) FROM mine) + (SELECT count(*) FROM my_passkeys) > (SELECT count(*) FROM target)
      RETURNING a.id
    ),
    retired AS (
      UPDATE provider_tokens t SET deleted_at = now(), updated_at = now()
      WHERE t.account_id IN (SELECT id FROM unlinked) AND t.deleted_at IS NULL
      RETURNING t.id
    ),
    -- Sessions signed in through the identity end with it (the caller denylists their sids).
    ended AS (
      UPDATE sessions s SET revoked_at = now()
      WHERE s.account_id IN (SELECT id FROM unlinked) AND s.revoked_at IS NULL
      RETURNING s.id
    ),
    audit AS (${auditInsert(
      {
        actor: { type: "user", id: sql`(SELECT id FROM me)` },
        action: "account.unlink",
        orgId: sql`NULL::uuid`,
        targetType: "account",
        targetId: sql`unlinked.id::text`,
        metadata: sql`jsonb_build_object('provider', ${target.provider}::text)`,
        subjectUserId: sql`(SELECT id FROM me)`,
        context: target.context,
      },
      sql`unlinked`,
    )})
    SELECT (SELECT id FROM me) AS user_id,
           (SELECT count(*) FROM target)::int AS matched,
           (SELECT count(*) FROM unlinked)::int AS unlinked,
           (SELECT count(*) FROM retired)::int AS retired,
           (SELECT coalesce(json_agg(id), '[]'::json) FROM ended) AS ended
  `);
  const row = result.rows[0] as { user_id: unknown; matched: unknown; unlinked: unknown; retired: unknown; ended: unknown } | undefined;
  if (!row || row.user_id === null) return { outcome: "unauthorized" };
  if (Number(row.matched) === 0) return { outcome: "not_found" };
  if (Number(row.unlinked) === 0) return { outcome: "last_method" };
  const ended = Array.isArray(row.ended) ? row.ended.map(String) : [];
  return { outcome: "unlinked", accounts: Number(row.unlinked), retiredTokens: Number(row.retired), revokedSessions: ended };
}

/**
 * Disconnects the caller's tokens of `provider` from `org` (owner or admin
 * only), proving the caller inside the same statement as the write: one
 * round trip whether the session JWT or only the refresh token was sent.
 *
 * @example
 * const result = await disconnectProviderForSession(db, proof, { org: { kind: "slug", slug: "acme" }, provider: "facebook" });
 */
export function disconnectProviderForSession(
  db: Database,
  proof: SessionProof,
  input: { org: OrgRef; provider: string; context?: RequestContext },
): Promise<DisconnectResult> {
  return disconnectProvider(db, { userId: ownerOf(proof), org: input.org, provider: input.provider, ...(input.context ? { context: input.context } : {}) });
}
