/**
 * Audit rows are written by the statement that does the audited thing (a
 * CTE in the same SQL), never by a second round trip that could be lost:
 * an admin action or a token read without its audit row cannot commit.
 */
import { sql, type SQL } from "drizzle-orm";

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
  | "oauth_grant.revoke";

/** Who acted: a signed-in user (by id, or SQL yielding it) or a service client (by its configured id). */
export type AuditActor = { type: "user"; id: string | SQL } | { type: "service_client"; id: string };

export interface AuditRow {
  actor: AuditActor;
  action: AuditAction;
  /** SQL yielding the organization id (usually a CTE column); `NULL` for a user's own actions. */
  orgId: SQL;
  targetType: "organization" | "user" | "provider_page" | "provider_token" | "account" | "oauth_client" | "invitation" | "passkey";
  /** SQL yielding the target's id as text. */
  targetId: SQL;
  /** SQL yielding a jsonb object; never a secret. */
  metadata?: SQL;
}

/**
 * The `INSERT INTO audit_events … SELECT … FROM <from>` of a data-modifying
 * CTE: one audit row per row of `from` (typically the CTE that wrote).
 *
 * @example
 * sql`WITH added AS (INSERT … RETURNING user_id), audit AS (${auditInsert({ actor, action: "member.add", orgId: sql`added.org_id`, targetType: "user", targetId: sql`added.user_id::text` }, sql`added`)}) SELECT …`
 */
export function auditInsert(row: AuditRow, from: SQL): SQL {
  return sql`INSERT INTO audit_events (actor_type, actor_id, action, org_id, target_type, target_id, metadata)
    SELECT ${row.actor.type}::text, ${row.actor.id}::text, ${row.action}::text, ${row.orgId}, ${row.targetType}::text, ${row.targetId},
           ${row.metadata ?? sql`'{}'::jsonb`}
    FROM ${from}
    RETURNING id`;
}
