/**
 * Invitations to organizations (docs/orgs.md, "Invitations"). An owner or
 * admin invites an email address; nothing about who holds that address is
 * looked up or revealed. The invitee, signed in as a user whose VERIFIED
 * address it is, lists and accepts. Each function is ONE statement that
 * checks, writes and writes its audit row; the caller's membership row is
 * locked `FOR SHARE`, so a demotion committing concurrently waits for the
 * write or makes it fail, never slips past it.
 */
import type { RequestContext } from "../lib/request-context";
import { sql } from "drizzle-orm";
import { auditInsert } from "./audit";
import type { Database } from "./client";
import { orgMatch, toIso, type MembershipRole, type OrgRef } from "./orgs";

/** How long an invitation can be accepted. */
export const INVITATION_TTL_SECONDS = 7 * 86400;

export interface Invitation {
  id: string;
  email: string;
  role: MembershipRole;
  createdAt: string;
  expiresAt: string;
}

/** Why an invitation write did not happen (mapped to HTTP by `refusalError`). */
export type InvitationRefusal = "not_member" | "forbidden" | "personal" | "already_member" | "target_not_found";

export type InvitationResult<T> = { ok: true; value: T } | { ok: false; refusal: InvitationRefusal };

const REFUSALS: readonly InvitationRefusal[] = ["not_member", "forbidden", "personal", "already_member", "target_not_found"];
const PENDING = sql`i.accepted_at IS NULL AND i.revoked_at IS NULL`;

/** CTE body: the caller's enabled membership of `ref`, its row locked FOR SHARE. */
function me(actorId: string, ref: OrgRef) {
  return sql`SELECT o.id AS org_id, o.personal, m.role
    FROM organizations o
    JOIN memberships m ON m.org_id = o.id AND m.user_id = ${actorId}::uuid
    JOIN users u ON u.id = m.user_id AND u.disabled_at IS NULL
    WHERE ${orgMatch(ref)}
    FOR SHARE OF m`;
}

/**
 * Invites `emailNormalized` with `role`: owners and admins may, only owners
 * invite (or re-invite over) owners, personal organizations take no one, and
 * an address a member already holds verified is `already_member`. A pending
 * invitation for the same address is replaced (new role, new expiry).
 *
 * @example
 * const r = await createInvitation(db, { actorId, org: ref, emailNormalized: "ada@example.com", role: "member" });
 */
export async function createInvitation(
  db: Database,
  input: { actorId: string; org: OrgRef; emailNormalized: string; role: MembershipRole; context?: RequestContext },
): Promise<InvitationResult<Invitation>> {
  const role = sql`${input.role}::membership_role`;
  const email = sql`${input.emailNormalized}::text`;
  const result = await db.execute(sql`
    WITH me AS (${me(input.actorId, input.org)}),
    decision AS (
      SELECT CASE
        WHEN me.role IS NULL THEN 'not_member'
        WHEN me.role NOT IN ('owner', 'admin') THEN 'forbidden'
        WHEN me.role <> 'owner' AND (${role} = 'owner' OR EXISTS (
          SELECT 1 FROM org_invitations i WHERE i.org_id = me.org_id AND i.email_normalized = ${email} AND ${PENDING} AND i.role = 'owner'
        )) THEN 'forbidden'
        WHEN me.personal THEN 'personal'
        WHEN EXISTS (
          SELECT 1 FROM memberships x JOIN users xu ON xu.id = x.user_id
          WHERE x.org_id = me.org_id AND xu.email_normalized = ${email} AND xu.email_verified_at IS NOT NULL
        ) THEN 'already_member'
        ELSE 'ok'
      END AS outcome, me.org_id
      FROM (SELECT 1) AS one LEFT JOIN me ON true
    ),
    invited AS (
      INSERT INTO org_invitations (org_id, email_normalized, role, invited_by, expires_at)
      SELECT d.org_id, ${email}, ${role}, ${input.actorId}::uuid, now() + make_interval(secs => ${INVITATION_TTL_SECONDS})
      FROM decision d WHERE d.outcome = 'ok'
      ON CONFLICT (org_id, email_normalized) WHERE accepted_at IS NULL AND revoked_at IS NULL
      DO UPDATE SET role = EXCLUDED.role, invited_by = EXCLUDED.invited_by, created_at = now(), expires_at = EXCLUDED.expires_at
      RETURNING id, org_id, email_normalized, role, created_at, expires_at
    ),
    audit AS (${auditInsert(
      {
        actor: { type: "user", id: input.actorId },
        action: "invitation.create",
        orgId: sql`invited.org_id`,
        targetType: "invitation",
        targetId: sql`invited.id::text`,
        metadata: sql`jsonb_build_object('email', invited.email_normalized, 'role', invited.role)`,
        context: input.context,
      },
      sql`invited`,
    )})
    SELECT d.outcome, i.id, i.email_normalized, i.role, i.created_at, i.expires_at
    FROM decision d LEFT JOIN invited i ON true`);
  const row = result.rows[0];
  const refusal = refusalOf(row);
  if (refusal) return { ok: false, refusal };
  return { ok: true, value: invitationOf(row!) };
}

/**
 * The organization's pending invitations (expired ones included, with their
 * `expiresAt`), newest first, for owners and admins. One SELECT.
 *
 * @example
 * const r = await listInvitations(db, { actorId, org: ref });
 */
export async function listInvitations(db: Database, input: { actorId: string; org: OrgRef }): Promise<InvitationResult<Invitation[]>> {
  const result = await db.execute(sql`
    WITH me AS (${me(input.actorId, input.org)})
    SELECT CASE WHEN me.role IS NULL THEN 'not_member' WHEN me.role NOT IN ('owner', 'admin') THEN 'forbidden' ELSE 'ok' END AS outcome,
           i.id, i.email_normalized, i.role, i.created_at, i.expires_at
    FROM (SELECT 1) AS one
    LEFT JOIN me ON true
    LEFT JOIN org_invitations i ON i.org_id = me.org_id AND me.role IN ('owner', 'admin') AND ${PENDING}
    ORDER BY i.created_at DESC NULLS LAST, i.id
    LIMIT 1000`);
  const refusal = refusalOf(result.rows[0]);
  if (refusal) return { ok: false, refusal };
  return { ok: true, value: result.rows.filter((r) => r.id !== null && r.id !== undefined).map(invitationOf) };
}

/**
 * Revokes a pending invitation of the organization (owners and admins; an
 * owner invitation only by an owner). An unknown, accepted or revoked one is
 * `target_not_found`.
 *
 * @example
 * const r = await revokeInvitation(db, { actorId, org: ref, invitationId });
 */
export async function revokeInvitation(
  db: Database,
  input: { actorId: string; org: OrgRef; invitationId: string; context?: RequestContext },
): Promise<InvitationResult<{ id: string }>> {
  const result = await db.execute(sql`
    WITH me AS (${me(input.actorId, input.org)}),
    target AS (
      SELECT i.id, i.role FROM org_invitations i, me
      WHERE i.id = ${input.invitationId}::uuid AND i.org_id = me.org_id AND ${PENDING}
      FOR UPDATE OF i
    ),
    decision AS (
      SELECT CASE
        WHEN me.role IS NULL THEN 'not_member'
        WHEN me.role NOT IN ('owner', 'admin') THEN 'forbidden'
        WHEN target.id IS NULL THEN 'target_not_found'
        WHEN target.role = 'owner' AND me.role <> 'owner' THEN 'forbidden'
        ELSE 'ok'
      END AS outcome, me.org_id, target.id
      FROM (SELECT 1) AS one LEFT JOIN me ON true LEFT JOIN target ON true
    ),
    revoked AS (
      UPDATE org_invitations i SET revoked_at = now()
      FROM decision d WHERE d.outcome = 'ok' AND i.id = d.id
      RETURNING i.id, i.org_id, i.email_normalized, i.role
    ),
    audit AS (${auditInsert(
      {
        actor: { type: "user", id: input.actorId },
        action: "invitation.revoke",
        orgId: sql`revoked.org_id`,
        targetType: "invitation",
        targetId: sql`revoked.id::text`,
        metadata: sql`jsonb_build_object('email', revoked.email_normalized, 'role', revoked.role)`,
        context: input.context,
      },
      sql`revoked`,
    )})
    SELECT d.outcome, revoked.id FROM decision d LEFT JOIN revoked ON true`);
  const row = result.rows[0];
  const refusal = refusalOf(row);
  if (refusal) return { ok: false, refusal };
  if (!row?.id) return { ok: false, refusal: "target_not_found" };
  return { ok: true, value: { id: String(row.id) } };
}

export interface MyInvitation {
  id: string;
  org: { id: string; slug: string; name: string };
  role: MembershipRole;
  expiresAt: string;
}

/**
 * The pending, unexpired invitations addressed to the caller's VERIFIED
 * address (none for an unverified or disabled user). One SELECT.
 *
 * @example
 * const mine = await listMyInvitations(db, userId);
 */
export async function listMyInvitations(db: Database, userId: string): Promise<MyInvitation[]> {
  const result = await db.execute(sql`
    SELECT i.id, i.role, i.expires_at, o.id AS org_id, o.slug, o.name
    FROM users u
    JOIN org_invitations i ON i.email_normalized = u.email_normalized AND ${PENDING} AND i.expires_at > now()
    JOIN organizations o ON o.id = i.org_id
    WHERE u.id = ${userId}::uuid AND u.email_verified_at IS NOT NULL AND u.disabled_at IS NULL
    ORDER BY i.created_at DESC
    LIMIT 100`);
  return result.rows.map((r) => ({
    id: String(r.id),
    org: { id: String(r.org_id), slug: String(r.slug), name: String(r.name) },
    role: r.role as MembershipRole,
    expiresAt: toIso(r.expires_at),
  }));
}

/**
 * Accepts an invitation addressed to the caller's verified address: the
 * membership, the invitation's `accepted_at` and the `invitation.accept`
 * audit row in one statement. Unknown, expired, revoked, accepted or
 * someone else's: `target_not_found` (one answer for all).
 *
 * @example
 * const r = await acceptInvitation(db, { userId, invitationId });
 */
export async function acceptInvitation(
  db: Database,
  input: { userId: string; invitationId: string; context?: RequestContext },
): Promise<InvitationResult<{ org: { id: string; slug: string; name: string }; role: MembershipRole }>> {
  const result = await db.execute(sql`
    WITH inv AS (
      SELECT i.id, i.org_id, i.role, o.slug, o.name, u.id AS user_id
      FROM org_invitations i
      JOIN organizations o ON o.id = i.org_id AND NOT o.personal
      JOIN users u ON u.id = ${input.userId}::uuid AND u.email_normalized = i.email_normalized
        AND u.email_verified_at IS NOT NULL AND u.disabled_at IS NULL
      WHERE i.id = ${input.invitationId}::uuid AND ${PENDING} AND i.expires_at > now()
      FOR UPDATE OF i
    ),
    decision AS (
      SELECT CASE
        WHEN inv.id IS NULL THEN 'target_not_found'
        WHEN EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = inv.org_id AND m.user_id = inv.user_id) THEN 'already_member'
        ELSE 'ok'
      END AS outcome, inv.*
      FROM (SELECT 1) AS one LEFT JOIN inv ON true
    ),
    joined AS (
      INSERT INTO memberships (org_id, user_id, role)
      SELECT d.org_id, d.user_id, d.role FROM decision d WHERE d.outcome = 'ok'
      ON CONFLICT (org_id, user_id) DO NOTHING
      RETURNING org_id, user_id, role
    ),
    accepted AS (
      UPDATE org_invitations i SET accepted_at = now(), accepted_by = joined.user_id
      FROM joined, decision d WHERE i.id = d.id
      RETURNING i.id, i.org_id, i.role
    ),
    audit AS (${auditInsert(
      {
        actor: { type: "user", id: input.userId },
        action: "invitation.accept",
        orgId: sql`accepted.org_id`,
        targetType: "invitation",
        targetId: sql`accepted.id::text`,
        metadata: sql`jsonb_build_object('role', accepted.role)`,
        subjectUserId: sql`${input.userId}::uuid`,
        context: input.context,
      },
      sql`accepted`,
    )})
    SELECT d.outcome, d.org_id, d.slug, d.name, accepted.role
    FROM decision d LEFT JOIN accepted ON true`);
  const row = result.rows[0];
  const refusal = refusalOf(row);
  if (refusal) return { ok: false, refusal };
  // A concurrent accept or join won the membership's unique key.
  if (!row?.role) return { ok: false, refusal: "already_member" };
  return { ok: true, value: { org: { id: String(row.org_id), slug: String(row.slug), name: String(row.name) }, role: row.role as MembershipRole } };
}

function refusalOf(row: Record<string, unknown> | undefined): InvitationRefusal | null {
  const outcome = row?.outcome;
  if (typeof outcome !== "string") throw new Error("invitation statement returned no decision");
  if (outcome === "ok") return null;
  const refusal = REFUSALS.find((r) => r === outcome);
  if (!refusal) throw new Error("invitation statement returned an unknown decision");
  return refusal;
}

function invitationOf(row: Record<string, unknown>): Invitation {
  return {
    id: String(row.id),
    email: String(row.email_normalized),
    role: row.role as MembershipRole,
    createdAt: toIso(row.created_at),
    expiresAt: toIso(row.expires_at),
  };
}
