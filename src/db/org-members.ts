/**
 * Membership changes. Each is ONE statement whose CTEs check the caller's
 * role, decide, write and insert the audit row, so a check can never be
 * separated from its write, and report the decision as `outcome`.
 *
 * "Another owner" means another owner who is not disabled: a disabled owner
 * can do nothing, so it cannot be what keeps an organization owned.
 *
 * Changing or removing a member locks the organization's owner rows and both
 * members' rows (`FOR UPDATE`) before counting owners. Two concurrent
 * demotions or departures of the last two owners therefore serialize: the
 * second re-reads the rows the first changed and sees one owner left, so an
 * organization never ends up without an owner.
 */
import type { RequestContext } from "../lib/request-context";
import { sql, type SQL } from "drizzle-orm";
import { auditInsert } from "./audit";
import type { Database } from "./client";
import { orgMatch, toIso, type MembershipRole, type OrgRef } from "./orgs";

/** Why a membership change did not happen. */
export type MemberChangeRefusal =
  /** The caller is not a member (or the org does not exist): answer 404. */
  | "not_member"
  /** The caller's role does not allow it: answer 403. */
  | "forbidden"
  /** No such member in this org (or no such verified user, for `add`): 404. */
  | "target_not_found"
  | "already_member"
  | "last_owner"
  | "personal";

export type MemberChangeResult =
  | { ok: true; changed: boolean; member: { userId: string; role: MembershipRole | null; at: string | null } }
  | { ok: false; refusal: MemberChangeRefusal };

const REFUSALS: readonly MemberChangeRefusal[] = ["not_member", "forbidden", "target_not_found", "already_member", "last_owner", "personal"];

/**
 * Changes a member's role. Owners and admins may; only owners grant or revoke
 * `owner`; the last owner cannot be demoted. Setting the current role again
 * changes nothing and writes no audit row.
 *
 * @example
 * const r = await changeMemberRole(db, { actorId, org: ref, targetId, role: "admin" });
 */
export async function changeMemberRole(
  db: Database,
  input: { actorId: string; org: OrgRef; targetId: string; role: MembershipRole; context?: RequestContext },
): Promise<MemberChangeResult> {
  const actor = { type: "user", id: input.actorId } as const;
  const role = sql`${input.role}::membership_role`;
  const result = await db.execute(sql`
    WITH ${lockedMembers(input)},
    decision AS (
      SELECT CASE
        WHEN me.role IS NULL THEN 'not_member'
        WHEN me.role NOT IN ('owner', 'admin') THEN 'forbidden'
        WHEN target.role IS NULL THEN 'target_not_found'
        WHEN (target.role = 'owner' OR ${role} = 'owner') AND me.role <> 'owner' THEN 'forbidden'
        WHEN target.role = ${role} THEN 'unchanged'
        WHEN target.role = 'owner' AND NOT EXISTS (
          SELECT 1 FROM locked l JOIN users u ON u.id = l.user_id AND u.disabled_at IS NULL
          WHERE l.role = 'owner' AND l.user_id <> ${input.targetId}::uuid
        ) THEN 'last_owner'
        ELSE 'ok'
      END AS outcome, me.org_id, target.role AS previous_role, target.created_at
      FROM (SELECT 1) AS one LEFT JOIN me ON true LEFT JOIN target ON true
    ),
    changed AS (
      UPDATE memberships m SET role = ${role}, updated_at = now()
      FROM decision d
      WHERE d.outcome = 'ok' AND m.org_id = d.org_id AND m.user_id = ${input.targetId}::uuid
      RETURNING m.org_id, m.user_id, m.role, d.previous_role
    ),
    audit AS (${auditInsert(
      {
        actor,
        action: "member.role_change",
        orgId: sql`changed.org_id`,
        targetType: "user",
        targetId: sql`changed.user_id::text`,
        metadata: sql`jsonb_build_object('from', changed.previous_role, 'to', changed.role)`,
        subjectUserId: sql`changed.user_id`,
        context: input.context,
      },
      sql`changed`,
    )})
    SELECT CASE WHEN d.outcome = 'unchanged' THEN 'ok' ELSE d.outcome END AS outcome,
           ${input.targetId}::uuid AS user_id, COALESCE(changed.role, ${role}) AS role, d.created_at,
           changed.user_id IS NOT NULL AS changed
    FROM decision d LEFT JOIN changed ON true`);
  return outcomeOf(result.rows[0], "target_not_found");
}

/**
 * Removes a member, or the caller themselves (`targetId === actorId`: leaving,
 * which any member may do). Owners and admins remove others; admins never
 * remove owners; the last owner can neither leave nor be removed, and nobody
 * leaves their own personal organization. The same statement soft-deletes
 * every active provider token (user and Page) that member granted the
 * organization; the audit row counts them (`revokedTokens`).
 *
 * @example
 * const r = await removeMember(db, { actorId, org: ref, targetId });
 */
export async function removeMember(db: Database, input: { actorId: string; org: OrgRef; targetId: string; context?: RequestContext }): Promise<MemberChangeResult> {
  const actor = { type: "user", id: input.actorId } as const;
  const leaving = input.actorId === input.targetId;
  const result = await db.execute(sql`
    WITH ${lockedMembers(input)},
    decision AS (
      SELECT CASE
        WHEN me.role IS NULL THEN 'not_member'
        WHEN NOT ${leaving}::boolean AND me.role NOT IN ('owner', 'admin') THEN 'forbidden'
        WHEN target.role IS NULL THEN 'target_not_found'
        WHEN target.role = 'owner' AND me.role <> 'owner' THEN 'forbidden'
        WHEN me.personal THEN 'personal'
        WHEN target.role = 'owner' AND NOT EXISTS (
          SELECT 1 FROM locked l JOIN users u ON u.id = l.user_id AND u.disabled_at IS NULL
          WHERE l.role = 'owner' AND l.user_id <> ${input.targetId}::uuid
        ) THEN 'last_owner'
        ELSE 'ok'
      END AS outcome, me.org_id
      FROM (SELECT 1) AS one LEFT JOIN me ON true LEFT JOIN target ON true
    ),
    removed AS (
      DELETE FROM memberships m
      USING decision d
      WHERE d.outcome = 'ok' AND m.org_id = d.org_id AND m.user_id = ${input.targetId}::uuid
      RETURNING m.org_id, m.user_id, m.role
    ),
    -- The provider tokens (user and Page) the departing member granted this org stop with the membership.
    dropped AS (
      UPDATE provider_tokens t SET deleted_at = now(), updated_at = now()
      FROM removed
      WHERE t.org_id = removed.org_id AND t.user_id = removed.user_id AND t.deleted_at IS NULL
      RETURNING t.id
    ),
    audit AS (${auditInsert(
      {
        actor,
        action: leaving ? "member.leave" : "member.remove",
        orgId: sql`removed.org_id`,
        targetType: "user",
        targetId: sql`removed.user_id::text`,
        metadata: sql`jsonb_build_object('role', removed.role, 'revokedTokens', (SELECT count(*) FROM dropped))`,
        subjectUserId: sql`removed.user_id`,
        context: input.context,
      },
      sql`removed`,
    )})
    SELECT d.outcome, removed.user_id, NULL::membership_role AS role, NULL::timestamptz AS created_at, removed.user_id IS NOT NULL AS changed
    FROM decision d LEFT JOIN removed ON true`);
  return outcomeOf(result.rows[0], "target_not_found");
}

/**
 * CTEs `org`, `locked` (owner rows plus the caller's and the target's,
 * locked FOR UPDATE so concurrent changes serialize and re-read), `me`
 * (the caller, if enabled) and `target`.
 */
function lockedMembers(input: { actorId: string; org: OrgRef; targetId: string; context?: RequestContext }): SQL {
  return sql`org AS (
      SELECT o.id, o.personal FROM organizations o WHERE ${orgMatch(input.org)}
    ),
    locked AS (
      SELECT m.user_id, m.role, m.created_at FROM memberships m
      WHERE m.org_id = (SELECT id FROM org)
        AND (m.role = 'owner' OR m.user_id IN (${input.actorId}::uuid, ${input.targetId}::uuid))
      FOR UPDATE
    ),
    me AS (
      SELECT org.id AS org_id, org.personal, l.role FROM locked l, org
      WHERE l.user_id = ${input.actorId}::uuid
        AND EXISTS (SELECT 1 FROM users u WHERE u.id = l.user_id AND u.disabled_at IS NULL)
    ),
    target AS (
      SELECT l.role, l.created_at FROM locked l WHERE l.user_id = ${input.targetId}::uuid
    )`;
}

function outcomeOf(row: Record<string, unknown> | undefined, lostRace: MemberChangeRefusal): MemberChangeResult {
  const outcome = row?.outcome;
  if (!row || typeof outcome !== "string") throw new Error("membership statement returned no decision");
  if (outcome !== "ok") {
    const refusal = REFUSALS.find((r) => r === outcome);
    if (!refusal) throw new Error("membership statement returned an unknown decision");
    return { ok: false, refusal };
  }
  if (row.user_id === null || row.user_id === undefined) return { ok: false, refusal: lostRace };
  return {
    ok: true,
    changed: row.changed === undefined ? true : row.changed === true,
    member: {
      userId: String(row.user_id),
      role: (row.role ?? null) as MembershipRole | null,
      at: row.created_at === null || row.created_at === undefined ? null : toIso(row.created_at),
    },
  };
}
