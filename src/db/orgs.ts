/**
 * Organizations: reads and creation. Every function is ONE round trip, and
 * the caller's membership is checked inside that statement (a disabled user
 * is a member of nothing). Membership changes live in `org-members.ts`.
 */
import type { RequestContext } from "../lib/request-context";
import { sql, type SQL } from "drizzle-orm";
import { auditInsert } from "./audit";
import type { Database } from "./client";
import { postgresCode } from "./migrations";
import type { membershipRole } from "./schema";

export type MembershipRole = (typeof membershipRole.enumValues)[number];

/** How a request names an organization: by id or by slug (parsed by `orgs/slugs.ts`). */
export type OrgRef = { kind: "id"; id: string } | { kind: "slug"; slug: string };

export interface OrgSummary {
  id: string;
  slug: string;
  name: string;
  personal: boolean;
  /** The caller's role. */
  role: MembershipRole;
  createdAt: string;
}

/**
 * `o.id = …` or `o.slug = …` for an organization aliased `o`.
 *
 * @example
 * sql`SELECT o.id FROM organizations o WHERE ${orgMatch(ref)}`
 */
export function orgMatch(ref: OrgRef, alias = "o"): SQL {
  const a = sql.raw(alias);
  return ref.kind === "id" ? sql`${a}.id = ${ref.id}::uuid` : sql`${a}.slug = ${ref.slug}::text`;
}

/**
 * The caller's membership of the organization `ref` as a CTE body: one row
 * (org_id, slug, name, personal, role, created_at) when `userId` is an
 * enabled member, none otherwise (unknown org and non-member look the same).
 * A statement that WRITES on the strength of that role passes `{ lock: true }`:
 * the membership row is locked `FOR SHARE`, so a demotion or removal
 * committing at the same moment is waited for and re-read, never slipped past.
 *
 * @example
 * sql`WITH caller AS (${callerMembership(userId, ref)}) SELECT role FROM caller`
 * sql`WITH caller AS (${callerMembership(userId, ref, { lock: true })}), … UPDATE …`
 */
export function callerMembership(userId: string | SQL, ref: OrgRef, options: { lock?: boolean } = {}): SQL {
  return sql`SELECT o.id AS org_id, o.slug, o.name, o.personal, m.role, o.created_at
    FROM organizations o
    JOIN memberships m ON m.org_id = o.id AND m.user_id = ${userId}::uuid
    JOIN users u ON u.id = m.user_id AND u.disabled_at IS NULL
    WHERE ${orgMatch(ref)}${options.lock ? sql` FOR SHARE OF m` : sql``}`;
}

/**
 * Every organization the user belongs to, personal first.
 *
 * @example
 * const orgs = await listOrgsForUser(db, userId); // [{ slug: "u-…", personal: true, role: "owner", … }, …]
 */
export async function listOrgsForUser(db: Database, userId: string): Promise<OrgSummary[]> {
  const result = await db.execute(sql`
    SELECT o.id, o.slug, o.name, o.personal, m.role, o.created_at
    FROM memberships m
    JOIN organizations o ON o.id = m.org_id
    JOIN users u ON u.id = m.user_id AND u.disabled_at IS NULL
    WHERE m.user_id = ${userId}::uuid
    ORDER BY o.personal DESC, o.created_at, o.slug`);
  return result.rows.map(toSummary);
}

/**
 * One organization as the caller sees it, with its member count; `null`
 * when it does not exist or the caller is not a member.
 *
 * @example
 * const org = await getOrgForMember(db, userId, { kind: "slug", slug: "acme" });
 */
export async function getOrgForMember(db: Database, userId: string, ref: OrgRef): Promise<(OrgSummary & { memberCount: number }) | null> {
  const result = await db.execute(sql`
    WITH caller AS (${callerMembership(userId, ref)})
    SELECT c.org_id AS id, c.slug, c.name, c.personal, c.role, c.created_at,
           (SELECT count(*) FROM memberships m WHERE m.org_id = c.org_id)::int AS member_count
    FROM caller c`);
  const row = result.rows[0];
  return row ? { ...toSummary(row), memberCount: Number(row.member_count) } : null;
}

/**
 * The org claims of an access token: the organization and the caller's
 * role, or `null` when the user is not an (enabled) member. One read.
 *
 * @example
 * const m = await membershipFor(db, userId, { kind: "slug", slug: "acme" }); // { orgId, slug, role: "admin" }
 */
export async function membershipFor(db: Database, userId: string, ref: OrgRef): Promise<{ orgId: string; slug: string; role: MembershipRole } | null> {
  const result = await db.execute(sql`WITH caller AS (${callerMembership(userId, ref)}) SELECT org_id, slug, role FROM caller`);
  const row = result.rows[0];
  return row ? { orgId: String(row.org_id), slug: String(row.slug), role: row.role as MembershipRole } : null;
}

export interface MemberRow {
  userId: string;
  email: string | null;
  /** Whether `email` is verified; never authorize by an unverified address. */
  emailVerified: boolean;
  name: string | null;
  image: string | null;
  role: MembershipRole;
  joinedAt: string;
}

/**
 * The members of an organization, or `null` when the caller is not one of them.
 *
 * @example
 * const members = await listMembers(db, userId, ref); // [{ userId, email, role: "owner", … }]
 */
export async function listMembers(db: Database, userId: string, ref: OrgRef): Promise<MemberRow[] | null> {
  const result = await db.execute(sql`
    WITH caller AS (${callerMembership(userId, ref)})
    SELECT m.user_id, u.email, u.email_verified_at IS NOT NULL AS email_verified, u.name, u.image, m.role, m.created_at
    FROM caller c
    JOIN memberships m ON m.org_id = c.org_id
    JOIN users u ON u.id = m.user_id
    ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, m.created_at, m.user_id`);
  if (result.rows.length === 0) return null;
  return result.rows.map((r) => ({
    userId: String(r.user_id),
    email: nullableString(r.email),
    emailVerified: r.email_verified === true,
    name: nullableString(r.name),
    image: nullableString(r.image),
    role: r.role as MembershipRole,
    joinedAt: toIso(r.created_at),
  }));
}

export type CreateOrgResult =
  | { ok: true; org: OrgSummary }
  | { ok: false; reason: "slug_taken" | "user_unavailable" };

/**
 * Creates an organization with the caller as owner, in ONE statement that
 * also picks the first free slug of `slugs` and writes the `org.create`
 * audit row. A slug taken by a concurrent request is a unique violation,
 * reported as `slug_taken` like a slug that was already taken.
 *
 * @example
 * const r = await createOrg(db, { userId, name: "Acme", slugs: ["acme", "acme-k3f9"] });
 */
export async function createOrg(db: Database, input: { userId: string; name: string; slugs: readonly string[]; context?: RequestContext }): Promise<CreateOrgResult> {
  const candidates = sql.join(
    input.slugs.map((slug, rank) => sql`(${slug}::text, ${rank}::int)`),
    sql`, `,
  );
  const actor = { type: "user", id: input.userId } as const;
  try {
    const result = await db.execute(sql`
      WITH me AS (
        SELECT id FROM users WHERE id = ${input.userId}::uuid AND disabled_at IS NULL
      ),
      chosen AS (
        SELECT c.slug FROM (VALUES ${candidates}) AS c(slug, rank)
        WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.slug = c.slug)
        ORDER BY c.rank LIMIT 1
      ),
      org AS (
        INSERT INTO organizations (slug, name, personal)
        SELECT chosen.slug, ${input.name}::text, false FROM chosen, me
        RETURNING id, slug, name, personal, created_at
      ),
      owner_row AS (
        INSERT INTO memberships (org_id, user_id, role)
        SELECT org.id, me.id, 'owner' FROM org, me
        RETURNING role
      ),
      audit AS (${auditInsert(
        { actor, action: "org.create", orgId: sql`org.id`, targetType: "organization", targetId: sql`org.id::text`, metadata: sql`jsonb_build_object('slug', org.slug)`, subjectUserId: sql`${input.userId}::uuid`, context: input.context },
        sql`org`,
      )})
      SELECT (SELECT count(*) FROM me)::int AS me, org.id, org.slug, org.name, org.personal, owner_row.role, org.created_at
      FROM (SELECT 1) AS one
      LEFT JOIN org ON true
      LEFT JOIN owner_row ON true`);
    const row = result.rows[0];
    if (!row || Number(row.me) === 0) return { ok: false, reason: "user_unavailable" };
    if (row.id === null || row.id === undefined) return { ok: false, reason: "slug_taken" };
    return { ok: true, org: toSummary(row) };
  } catch (error) {
    if (postgresCode(error) === "23505") return { ok: false, reason: "slug_taken" };
    throw error;
  }
}

function toSummary(row: Record<string, unknown>): OrgSummary {
  return {
    id: String(row.id),
    slug: String(row.slug),
    name: String(row.name),
    personal: row.personal === true || row.personal === "t",
    role: row.role as MembershipRole,
    createdAt: toIso(row.created_at),
  };
}

/**
 * A timestamp from a raw row (the driver gives strings) as ISO 8601.
 *
 * @example
 * toIso("2026-01-05 10:00:00+00") // "2026-01-05T10:00:00.000Z"
 */
export function toIso(value: unknown): string {
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

/**
 * `toIso`, keeping `null`.
 *
 * @example
 * toIsoOrNull(row.gone_at) // null, or "2026-01-05T10:00:00.000Z"
 */
export function toIsoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : toIso(value);
}

function nullableString(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

const ROLE_GUARD_MARKER = "gatehouse_org_role_refused";

/**
 * A batch item that FAILS (and so rolls back the whole batch) unless
 * `userId` is an enabled member of `orgId` with one of `roles`. Put it first
 * in a batch that writes on an organization's behalf (the Facebook connect
 * callback), so the permission check commits with the writes or not at all;
 * {@link isOrgRoleRefusal} recognizes the failure.
 *
 * @example
 * try { await db.batch([orgRoleGuardStatement(db, { userId, orgId, roles: ["owner", "admin"] }), ...writes]); }
 * catch (e) { if (isOrgRoleRefusal(e)) throw new GatehouseError("Forbidden", "…"); throw e; }
 */
export function orgRoleGuardStatement(db: Database, input: { userId: string; orgId: string; roles: readonly MembershipRole[] }) {
  const roles = sql.join(input.roles.map((r) => sql`${r}::membership_role`), sql`, `);
  // NULL when allowed; otherwise a cast error naming the marker. It depends on
  // the EXISTS, so the planner cannot fold the cast into an unconditional error.
  return db.execute(sql`
    SELECT (${ROLE_GUARD_MARKER}::text || CASE WHEN EXISTS (
      SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id AND u.disabled_at IS NULL
      WHERE m.org_id = ${input.orgId}::uuid AND m.user_id = ${input.userId}::uuid AND m.role IN (${roles})
      -- A demotion committing concurrently is waited for and re-read.
      FOR SHARE OF m
    ) THEN NULL ELSE ':refused' END)::int AS refused`);
}

/**
 * Whether a batch failed because {@link orgRoleGuardStatement} refused.
 *
 * @example
 * if (isOrgRoleRefusal(error)) throw new GatehouseError("Forbidden", "Only owners and admins can connect pages.");
 */
export function isOrgRoleRefusal(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const fields = e as { code?: unknown; message?: unknown };
    if (fields.code === "22P02" && typeof fields.message === "string" && fields.message.includes(ROLE_GUARD_MARKER)) return true;
  }
  return false;
}
