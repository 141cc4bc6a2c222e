/**
 * The audit rows of a sign-in, as CTEs of the sign-in batch's decision
 * statement (`db/signin.ts`, statement 2): they commit with the sign-in or
 * not at all, and cost no round trip. The suspicious-sign-in flags are
 * computed here, in SQL, from the user's earlier `signin.success` events.
 */
import { sql, type SQL } from "drizzle-orm";
import type { RequestContext } from "../lib/request-context";
import { auditInsert } from "./audit";
import type { SignInBatchInput } from "./signin";
/**
 * The suspicious-sign-in flags of `userId` signing in now, as a scalar
 * subquery over their earlier `signin.success` events (those the retention
 * kept): `new_device` when none had this exact User-Agent (an absent one
 * counts as one value), `new_country` when the country is known and none
 * had it. A user with no earlier sign-in event is never flagged. Inside the
 * sign-in's own statement, its new event is not yet visible.
 *
 * @example
 * sql`SELECT ${signInFlagsSql(sql`signed.id`, c.var.request)} AS flags FROM signed`
 */
export function signInFlagsSql(userId: SQL, context: RequestContext | undefined): SQL {
  const country = context?.country ?? null;
  const userAgent = context?.userAgent ?? null;
  return sql`(SELECT array_remove(ARRAY[
      CASE WHEN count(*) > 0 AND NOT coalesce(bool_or(e.user_agent IS NOT DISTINCT FROM ${userAgent}::text), false) THEN 'new_device' END,
      CASE WHEN count(*) > 0 AND ${country}::text IS NOT NULL AND NOT coalesce(bool_or(e.country = ${country}::text), false) THEN 'new_country' END
    ]::text[], NULL)
    FROM audit_events e WHERE e.subject_user_id = ${userId} AND e.action = 'signin.success')`;
}

/**
 * Statement 2's audit CTEs (written only if it commits):
 * - `user.create` when the sign-in made the user;
 * - `signin.success` for a sign-in (not a link: `link_user_id` set), the
 *   target being the new session, flagged in SQL against the user's earlier
 *   `signin.success` events (those the retention kept): `new_device` when
 *   none had this exact User-Agent (an absent one counts as one value),
 *   `new_country` when the country is known and none had it. A user with no
 *   earlier sign-in event (a new user, or one from before the audit log) is
 *   never flagged;
 * - `account.link` when an identity joined an existing user (an explicit
 *   link, or automatically by its verified email: `automatic`).
 *
 * Needs the CTEs `input`, `decision`, `new_user`, `new_account` and
 * `known_account` of the decision statement; adds `signed_in` (with `flags`).
 *
 * @example
 * sql`WITH input AS (…), …, known_account AS (…), ${signInAuditSql(input)} SELECT (SELECT flags FROM signed_in) …`
 */
export function signInAuditSql(input: SignInBatchInput): SQL {
  const p = input.profile;
  const context = input.context ?? undefined;
  return sql`
    signed_in AS (
      SELECT d.path, COALESCE((SELECT user_id FROM new_account), (SELECT user_id FROM known_account)) AS user_id,
             CASE WHEN d.path IN ('existing', 'email_match') THEN ${signInFlagsSql(sql`d.user_id`, context)} ELSE '{}'::text[] END AS flags
      FROM decision d, input i
      WHERE d.path IN ('new', 'existing', 'email_match') AND i.link_user_id IS NULL
    ),
    linked AS (
      SELECT a.id, a.user_id, d.path = 'email_match' AS automatic FROM new_account a, decision d WHERE d.path IN ('link', 'email_match')
    ),
    audit_user AS (${auditInsert(
      {
        actor: { type: "user", id: sql`new_user.id` },
        action: "user.create",
        orgId: sql`NULL::uuid`,
        targetType: "user",
        targetId: sql`new_user.id::text`,
        metadata: sql`jsonb_build_object('method', ${p.provider}::text)`,
        subjectUserId: sql`new_user.id`,
        context,
      },
      sql`new_user`,
    )}),
    audit_signin AS (${auditInsert(
      {
        actor: { type: "user", id: sql`signed_in.user_id` },
        action: "signin.success",
        orgId: sql`NULL::uuid`,
        targetType: "session",
        targetId: sql`${input.session.sessionId}::text`,
        metadata: sql`jsonb_build_object('method', ${p.provider}::text, 'new_user', signed_in.path = 'new')`,
        subjectUserId: sql`signed_in.user_id`,
        context,
        flags: sql`signed_in.flags`,
      },
      sql`signed_in`,
    )}),
    audit_link AS (${auditInsert(
      {
        actor: { type: "user", id: sql`linked.user_id` },
        action: "account.link",
        orgId: sql`NULL::uuid`,
        targetType: "account",
        targetId: sql`linked.id::text`,
        metadata: sql`jsonb_build_object('provider', ${p.provider}::text, 'automatic', linked.automatic)`,
        subjectUserId: sql`linked.user_id`,
        context,
      },
      sql`linked`,
    )})`;
}

/** What a failed sign-in knew of the identity when it failed (nothing before the provider answered). */
export interface FailedSignInIdentity {
  provider: string;
  /** The provider's subject, once the provider answered; null before. */
  subject: string | null;
  emailNormalized: string | null;
  emailVerified: boolean;
  /** The user who started a link (the callback of `POST /auth/link/:provider`). */
  linkUserId: string | null;
}

/**
 * SQL yielding the user a failed sign-in was about, as the decision
 * statement would have found them: the identity's user, else the linking
 * user, else the owner of the same verified address; NULL when none.
 *
 * @example
 * sql`SELECT ${failedSignInSubjectSql({ provider: "github", subject: "42", emailNormalized: null, emailVerified: false, linkUserId: null })}`
 */
export function failedSignInSubjectSql(who: FailedSignInIdentity): SQL {
  return sql`COALESCE(
    (SELECT a.user_id FROM accounts a WHERE a.provider = ${who.provider}::text AND a.provider_subject = ${who.subject}::text),
    (SELECT u.id FROM users u WHERE u.id = ${who.linkUserId}::uuid),
    (SELECT u.id FROM users u WHERE ${who.emailVerified}::boolean AND u.email_normalized = ${who.emailNormalized}::text
       AND u.email_verified_at IS NOT NULL ORDER BY u.created_at LIMIT 1))`;
}

/**
 * The `signin.failure` row for each row of `from` (a CTE of the statement
 * that already writes on this failure, so it costs no round trip), whose
 * column `user_id` is the subject (or NULL). Metadata: the stable error
 * `code` (SQL yielding text), the provider and, for a refusal, its reason;
 * never a code, token or address.
 *
 * @example
 * sql`WITH recorded AS (UPDATE … RETURNING ${subjectSql} AS user_id), audit AS (${signInFailureAuditSql({ code: sql`'AccountNotLinked'`, provider: "github", reason: "not_linked", context }, sql`recorded`)}) SELECT 1`
 */
export function signInFailureAuditSql(
  input: { code: SQL; provider: string; reason: string | null; context: RequestContext | undefined },
  from: SQL,
): SQL {
  const reason = input.reason === null ? sql`` : sql`, 'reason', ${input.reason}::text`;
  return auditInsert(
    {
      actor: { type: "anonymous" },
      action: "signin.failure",
      orgId: sql`NULL::uuid`,
      targetType: "user",
      targetId: sql`user_id::text`,
      metadata: sql`jsonb_build_object('code', ${input.code}, 'provider', ${input.provider}::text${reason})`,
      subjectUserId: sql`user_id`,
      context: input.context,
    },
    from,
  );
}
