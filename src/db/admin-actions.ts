/**
 * Operators' writes (docs/operators.md "Admin"). Each is ONE statement:
 * the change, its audit row (same statement, `auditInsert`) and, where
 * sessions end, the ids to denylist, all decided in SQL. The operator
 * check itself is configuration (ADMIN_USER_IDS), made by the route before.
 */
import { sql, type SQL } from "drizzle-orm";
import type { RequestContext } from "../lib/request-context";
import { auditInsert, type AuditRow } from "./audit";
import type { Database } from "./client";

/** Who acts and from where: every admin write records both. */
export interface OperatorAct {
  operatorId: string;
  context: RequestContext;
}

function audit(op: OperatorAct, row: Omit<AuditRow, "actor" | "context" | "orgId">, from: SQL): SQL {
  return auditInsert({ ...row, actor: { type: "user", id: op.operatorId }, orgId: sql`NULL::uuid`, context: op.context }, from);
}

/** What a disable or enable did: `found` false = no such user; `changed` false = it already was. */
export interface UserStateChange {
  found: boolean;
  changed: boolean;
  /** Sessions (browser and OAuth families) revoked, to denylist. */
  sessionIds: string[];
}

/**
 * Disables the user and revokes every session and refresh family they have,
 * in ONE statement with its `user.disable` audit row.
 *
 * @example
 * const r = await disableUser(db, { operatorId, context: c.var.request }, userId);
 * await denySessionIds(c, r.sessionIds);
 */
export async function disableUser(db: Database, op: OperatorAct, userId: string): Promise<UserStateChange> {
  const result = await db.execute(sql`
    WITH target AS (SELECT id FROM users WHERE id = ${userId}::uuid FOR UPDATE),
    disabled AS (
      UPDATE users u SET disabled_at = now(), updated_at = now() FROM target
      WHERE u.id = target.id AND u.disabled_at IS NULL RETURNING u.id
    ),
    revoked AS (
      UPDATE sessions s SET revoked_at = now() FROM target
      WHERE s.user_id = target.id AND s.revoked_at IS NULL RETURNING s.id
    ),
    logged AS (${audit(op, {
      action: "user.disable",
      targetType: "user",
      targetId: sql`disabled.id::text`,
      subjectUserId: sql`disabled.id`,
      metadata: sql`jsonb_build_object('sessions_revoked', (SELECT count(*) FROM revoked))`,
    }, sql`disabled`)})
    SELECT EXISTS (SELECT 1 FROM target) AS found, EXISTS (SELECT 1 FROM disabled) AS changed,
           ARRAY(SELECT id::text FROM revoked) AS session_ids`);
  return stateChange(result.rows[0]);
}

/**
 * Enables a disabled user (they may sign in again), with its `user.enable` audit row.
 *
 * @example
 * const r = await enableUser(db, { operatorId, context: c.var.request }, userId);
 */
export async function enableUser(db: Database, op: OperatorAct, userId: string): Promise<UserStateChange> {
  const result = await db.execute(sql`
    WITH target AS (SELECT id FROM users WHERE id = ${userId}::uuid),
    enabled AS (
      UPDATE users u SET disabled_at = NULL, updated_at = now() FROM target
      WHERE u.id = target.id AND u.disabled_at IS NOT NULL RETURNING u.id
    ),
    logged AS (${audit(op, { action: "user.enable", targetType: "user", targetId: sql`enabled.id::text`, subjectUserId: sql`enabled.id` }, sql`enabled`)})
    SELECT EXISTS (SELECT 1 FROM target) AS found, EXISTS (SELECT 1 FROM enabled) AS changed, ARRAY[]::text[] AS session_ids`);
  return stateChange(result.rows[0]);
}

/**
 * Erases the user: one DELETE whose foreign keys cascade to everything of
 * theirs (accounts, sessions, memberships, the personal organization and
 * what it holds, grants, provider tokens, their own audit history). The one
 * `user.delete` row left has no subject (it survives the cascade) and no
 * personal data: the target id only. Returns the sessions that were live
 * (theirs, and those an erased operator was impersonating with), to denylist.
 *
 * @example
 * const r = await deleteUser(db, { operatorId, context: c.var.request }, userId);
 * if (!r.deleted) throw new GatehouseError("NotFound", "No such user.");
 */
export async function deleteUser(db: Database, op: OperatorAct, userId: string): Promise<{ deleted: boolean; sessionIds: string[] }> {
  const result = await db.execute(sql`
    WITH live AS (
      SELECT id FROM sessions
      WHERE (user_id = ${userId}::uuid OR impersonator_id = ${userId}::uuid) AND revoked_at IS NULL AND expires_at > now()
    ),
    gone AS (DELETE FROM users WHERE id = ${userId}::uuid RETURNING id),
    logged AS (${audit(op, { action: "user.delete", targetType: "user", targetId: sql`gone.id::text`, subjectUserId: sql`NULL` }, sql`gone`)})
    SELECT EXISTS (SELECT 1 FROM gone) AS deleted, ARRAY(SELECT l.id::text FROM live l WHERE EXISTS (SELECT 1 FROM gone)) AS session_ids`);
  const row = result.rows[0] as Record<string, unknown> | undefined;
  return { deleted: row?.deleted === true, sessionIds: ids(row?.session_ids) };
}

/**
 * Revokes one live session of the user (`sessionId`) or all of them
 * (`null`), with one `session.revoke` audit row per session. Returns the ids
 * revoked (none: no such live session of this user).
 *
 * @example
 * const revoked = await revokeUserSessions(db, { operatorId, context: c.var.request }, userId, null);
 */
export async function revokeUserSessions(db: Database, op: OperatorAct, userId: string, sessionId: string | null): Promise<string[]> {
  const one = sessionId === null ? sql`` : sql`AND s.id = ${sessionId}::uuid`;
  const result = await db.execute(sql`
    WITH revoked AS (
      UPDATE sessions s SET revoked_at = now()
      WHERE s.user_id = ${userId}::uuid AND s.revoked_at IS NULL AND s.expires_at > now() ${one}
      RETURNING s.id, s.user_id
    ),
    logged AS (${audit(op, {
      action: "session.revoke",
      targetType: "session",
      targetId: sql`revoked.id::text`,
      subjectUserId: sql`revoked.user_id`,
      metadata: sql`jsonb_build_object('session_id', revoked.id, 'by', 'operator')`,
    }, sql`revoked`)})
    SELECT id::text AS id FROM revoked`);
  return (result.rows as { id: string }[]).map((r) => r.id);
}

/** The new impersonated session's row values (a freshly minted refresh token). */
export interface ImpersonationSession {
  sessionId: string;
  secretHash: string;
  familySecretHash: string;
  ttlSeconds: number;
}

/** The impersonated user's profile (for the session JWT) and when the impersonation ends. */
export type ImpersonationStart =
  | { ok: true; profile: { email: string | null; emailVerified: boolean; name: string | null; image: string | null }; expiresAt: Date }
  | { ok: false };

/**
 * Starts an impersonation: a new session of `userId` marked with the
 * operator (`impersonator_id`), ending after `ttlSeconds` whatever happens
 * (its absolute expiry), and the `impersonation.start` audit row, in ONE
 * statement. Refused (`ok: false`, nothing written) for a missing or
 * disabled user and for the operator themself.
 *
 * @example
 * const r = await startImpersonation(db, op, userId, { sessionId, secretHash, familySecretHash, ttlSeconds: 3600 });
 */
export async function startImpersonation(db: Database, op: OperatorAct, userId: string, s: ImpersonationSession): Promise<ImpersonationStart> {
  const ends = sql`now() + make_interval(secs => ${s.ttlSeconds})`;
  const result = await db.execute(sql`
    WITH target AS (
      SELECT id, email, email_verified_at IS NOT NULL AS email_verified, name, image FROM users
      WHERE id = ${userId}::uuid AND disabled_at IS NULL AND id <> ${op.operatorId}::uuid
    ),
    started AS (
      INSERT INTO sessions (id, user_id, secret_hash, family_secret_hash, created_at, last_used_at, expires_at, absolute_expires_at,
                            ip, user_agent, impersonator_id)
      SELECT ${s.sessionId}::uuid, target.id, ${s.secretHash}, ${s.familySecretHash}, now(), now(), ${ends}, ${ends},
             ${op.context.ip}, ${op.context.userAgent}, ${op.operatorId}::uuid
      FROM target
      RETURNING id, user_id, expires_at
    ),
    logged AS (${audit(op, {
      action: "impersonation.start",
      targetType: "user",
      targetId: sql`started.user_id::text`,
      subjectUserId: sql`started.user_id`,
      metadata: sql`jsonb_build_object('session_id', started.id, 'expires_at', started.expires_at)`,
    }, sql`started`)})
    SELECT t.email, t.email_verified, t.name, t.image, extract(epoch FROM st.expires_at)::float8 AS expires_at
    FROM target t JOIN started st ON st.user_id = t.id`);
  const row = result.rows[0] as Record<string, unknown> | undefined;
  if (!row) return { ok: false };
  return {
    ok: true,
    profile: { email: str(row.email), emailVerified: row.email_verified === true, name: str(row.name), image: str(row.image) },
    expiresAt: new Date(Number(row.expires_at) * 1000),
  };
}

/**
 * Ends the impersonated session `sessionId` (revoked), with its
 * `impersonation.end` audit row whose actor is the operator, in ONE
 * statement. `owner` is SQL yielding the session's proven user (a refresh
 * proof's check, `ownerOf`). Returns false when it is not a live impersonated session.
 *
 * @example
 * const ended = await endImpersonation(db, c.var.request, proof.sessionId, ownerOf(proof));
 */
export async function endImpersonation(db: Database, context: RequestContext, sessionId: string, owner: SQL): Promise<boolean> {
  const result = await db.execute(sql`
    WITH ended AS (
      UPDATE sessions SET revoked_at = now()
      WHERE id = ${sessionId}::uuid AND user_id = ${owner} AND impersonator_id IS NOT NULL AND revoked_at IS NULL
      RETURNING id, user_id, impersonator_id
    ),
    logged AS (${auditInsert({
      actor: { type: "user", id: sql`ended.impersonator_id` },
      action: "impersonation.end",
      orgId: sql`NULL::uuid`,
      targetType: "user",
      targetId: sql`ended.user_id::text`,
      subjectUserId: sql`ended.user_id`,
      metadata: sql`jsonb_build_object('session_id', ended.id)`,
      context,
    }, sql`ended`)})
    SELECT id FROM ended`);
  return result.rows.length > 0;
}

function stateChange(row: unknown): UserStateChange {
  const r = row as Record<string, unknown> | undefined;
  return { found: r?.found === true, changed: r?.changed === true, sessionIds: ids(r?.session_ids) };
}

function ids(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
