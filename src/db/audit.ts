/**
 * Audit rows are written by the statement that does the audited thing (a
 * CTE in the same SQL), never by a second round trip that could be lost:
 * an admin action or a token read without its audit row cannot commit.
 */
import { is, sql, SQL } from "drizzle-orm";
import type { RequestContext } from "../lib/request-context";

/** `audit_events.action` values written by gatehouse. */
export type AuditAction =
  | "org.create"
  | "member.add"
  | "member.remove"
  | "member.leave"
  | "member.role_change"
  | "invitation.create"
  | "invitation.revoke"
  | "invitation.accept"
  | "page_token.read"
  | "provider_token.read"
  | "provider.connect"
  | "provider.disconnect"
  | "account.unlink"
  | "passkey.add"
  | "passkey.remove"
  | "oauth_client.create"
  | "oauth_client.update"
  | "oauth_client.secret_rotate"
  | "oauth_client.delete"
  | "oauth_grant.revoke"
  | "webhook.endpoint_create"
  | "webhook.endpoint_update"
  | "webhook.endpoint_delete"
  | "webhook.secret_rotate"
  | "webhook.replay"
  // Sign-in and session events (docs/operators.md "Audit log").
  | "user.create"
  | "signin.success"
  | "signin.failure"
  | "signout"
  | "session.revoke"
  | "refresh.reuse_detected"
  | "account.link"
  | "oauth_grant.create"
  // Operators' actions (src/routes/admin*.ts); `session.revoke` also when a user signs a session out.
  | "user.disable"
  | "user.enable"
  | "user.delete"
  | "impersonation.start"
  | "impersonation.end";

/**
 * Who acted: a signed-in user (by id, or SQL yielding it), a service client
 * (by its configured id), or nobody proven (`anonymous`: a failed sign-in, a
 * replayed refresh token), whose id is NULL.
 */
export type AuditActor = { type: "user"; id: string | SQL } | { type: "service_client"; id: string } | { type: "anonymous" };

export interface AuditRow {
  actor: AuditActor;
  action: AuditAction;
  /** SQL yielding the organization id (usually a CTE column); `NULL` for a user's own actions. */
  orgId: SQL;
  targetType: "organization" | "user" | "provider_page" | "provider_token" | "account" | "oauth_client" | "invitation" | "webhook_endpoint" | "session" | "passkey";
  /** SQL yielding the target's id as text. */
  targetId: SQL;
  /** SQL yielding a jsonb object; never a secret. */
  metadata?: SQL;
  /** SQL yielding the id of the user whose history this event belongs to; `NULL` when none. */
  subjectUserId?: SQL;
  /** The request that caused it (`c.var.request`); absent for cron and scripts. */
  context?: RequestContext;
  /** e.g. `["new_device"]`, or SQL yielding a `text[]` (computed in the statement, as sign-ins do). */
  flags?: readonly string[] | SQL;
}

/**
 * The `INSERT INTO audit_events … SELECT … FROM <from>` of a data-modifying
 * CTE: one audit row per row of `from` (typically the CTE that wrote).
 *
 * @example
 * sql`WITH added AS (INSERT … RETURNING user_id), audit AS (${auditInsert({ actor, action: "member.add", orgId: sql`added.org_id`, targetType: "user", targetId: sql`added.user_id::text` }, sql`added`)}) SELECT …`
 */
export function auditInsert(row: AuditRow, from: SQL): SQL {
  const ctx = row.context;
  const actorId = row.actor.type === "anonymous" ? null : row.actor.id;
  const flags = is(row.flags, SQL) ? row.flags : `{${(row.flags ?? []).join(",")}}`;
  return sql`INSERT INTO audit_events (actor_type, actor_id, action, org_id, target_type, target_id, metadata,
                                       subject_user_id, ip, user_agent, country, asn, request_id, flags)
    SELECT ${row.actor.type}::text, ${actorId}::text, ${row.action}::text, ${row.orgId}, ${row.targetType}::text, ${row.targetId},
           ${row.metadata ?? sql`'{}'::jsonb`},
           ${row.subjectUserId ?? sql`NULL`}::uuid, ${ctx?.ip ?? null}::text, ${ctx?.userAgent ?? null}::text,
           ${ctx?.country ?? null}::text, ${ctx?.asn ?? null}::integer, ${ctx?.requestId ?? null}::text,
           ${flags}::text[]
    FROM ${from}
    RETURNING id`;
}
