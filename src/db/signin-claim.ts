/**
 * The sign-in callback's claim on its state, made BEFORE the provider is
 * called, and what duplicate callbacks of the same browser read while they
 * wait for the claimant.
 *
 * Why a claim before the code exchange: providers that follow RFC 6749
 * §4.1.2 revoke every token issued from a code that is presented twice
 * (oidc-provider does). When a browser delivers one callback URL several
 * times at once (double navigation, a restored tab, a retry), every copy
 * that exchanged the code made the provider revoke the winner's tokens. So
 * exactly one copy may call the provider, and deciding which needs an atomic
 * primitive: KV has no compare-and-set (and is eventually consistent), so it
 * is Postgres, at the cost of ONE more round trip per sign-in (the claim,
 * then the sign-in batch of `db/signin.ts`: 2 in all).
 *
 * The claim and the first look at the outcome are one statement, so a late
 * duplicate learns the outcome in that same round trip.
 */
import { sql, type SQL } from "drizzle-orm";
import type { RequestContext } from "../lib/request-context";
import type { Database } from "./client";
import { failedSignInSubjectSql, signInFailureAuditSql, type FailedSignInIdentity } from "./signin-audit";

/** What a duplicate callback sees of the claimant's work. */
export type SignInObservation =
  /** The claimant is still working (or the claim is not visible yet). */
  | { state: "pending" }
  /**
   * The claimant's batch committed. `session` is the session it created, if
   * that session still carries the derived refresh secret (not rotated since,
   * not revoked or expired, user not disabled); otherwise `null`.
   */
  | { state: "signed_in"; session: ObservedSession | null }
  /** The claimant ended with this error code. */
  | { state: "failed"; code: string };

export interface ObservedSession {
  userId: string;
  expiresAt: Date;
  profile: { email: string | null; emailVerified: boolean; name: string | null; image: string | null };
}

/** The session a callback's copies derive (`deriveSignInRefreshToken`). */
export interface DerivedSession {
  sessionId: string;
  secretHash: string;
}

/** The outcome stored for a sign-in that committed. */
export const SIGNED_IN = "signed_in";

/**
 * Claims the state (INSERT … ON CONFLICT DO NOTHING) and, in the same
 * statement, reads what a previous claimant left. One round trip.
 *
 * @example
 * const claim = await claimSignInState(db, stateHash, derived);
 * if (!claim.won) return followWinner(c, claim.seen);
 */
export async function claimSignInState(db: Database, stateHash: string, session: DerivedSession): Promise<{ won: boolean; seen: SignInObservation }> {
  const result = await db.execute(sql`
    WITH claim AS (
      INSERT INTO oauth_consumed_states (state_hash) VALUES (${stateHash})
      ON CONFLICT (state_hash) DO NOTHING
      RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM claim) AS won, o.* FROM (${observeQuery(stateHash, session)}) o`);
  const row = result.rows[0] as Record<string, unknown> | undefined;
  const won = row?.won === true;
  // The claimant's own row is not visible inside its statement: it is pending by definition.
  return { won, seen: won ? { state: "pending" } : observation(row) };
}

/**
 * Reads the claimant's outcome and, once signed in, the derived session. One SELECT.
 *
 * @example
 * const seen = await observeSignIn(db, stateHash, derived);
 */
export async function observeSignIn(db: Database, stateHash: string, session: DerivedSession): Promise<SignInObservation> {
  const result = await db.execute(observeQuery(stateHash, session));
  return observation(result.rows[0] as Record<string, unknown> | undefined);
}

/**
 * Records the error code a claimant ended with, so its duplicates stop
 * waiting and answer the same, and writes its `signin.failure` audit row in
 * the same statement. One UPDATE; only a pending claim changes (and only
 * then is the failure audited).
 *
 * @example
 * await recordSignInFailure(db, stateHash, "AccountNotLinked", { who, reason: "not_linked", context: c.var.request });
 */
export async function recordSignInFailure(
  db: Database,
  stateHash: string,
  code: string,
  audit: { who: FailedSignInIdentity; reason: string | null; context: RequestContext | undefined },
): Promise<void> {
  await db.execute(sql`
    WITH recorded AS (
      UPDATE oauth_consumed_states SET outcome = ${code} WHERE state_hash = ${stateHash} AND outcome IS NULL
      RETURNING ${failedSignInSubjectSql(audit.who)} AS user_id
    ),
    audit AS (${signInFailureAuditSql({ code: sql`${code}::text`, provider: audit.who.provider, reason: audit.reason, context: audit.context }, sql`recorded`)})
    SELECT count(*) FROM recorded`);
}

/**
 * Statement 1: the state becomes `signed_in` only if it was unclaimed or
 * claimed and still pending. Two batches racing on one state serialize on its
 * primary key; the second sees `signed_in` and refuses (`gatehouse_refuse`,
 * SQLSTATE GH001 `state_replayed`, rolling its batch back).
 *
 * @example
 * await db.batch([db.execute(finishStateStatement(stateHash)), …]);
 */
export function finishStateStatement(stateHash: string): SQL {
  return sql`
    WITH finished AS (
      INSERT INTO oauth_consumed_states (state_hash, outcome) VALUES (${stateHash}, ${SIGNED_IN})
      ON CONFLICT (state_hash) DO UPDATE SET outcome = ${SIGNED_IN} WHERE oauth_consumed_states.outcome IS NULL
      RETURNING 1
    )
    SELECT CASE WHEN EXISTS (SELECT 1 FROM finished) THEN NULL ELSE gatehouse_refuse('state_replayed') END AS refused`;
}

function observeQuery(stateHash: string, session: DerivedSession): SQL {
  return sql`
    SELECT c.outcome, u.id AS user_id, extract(epoch FROM s.expires_at)::float8 AS expires_at, u.email, u.email_verified_at IS NOT NULL AS email_verified, u.name, u.image
    FROM (SELECT 1) AS one
    LEFT JOIN oauth_consumed_states c ON c.state_hash = ${stateHash}
    LEFT JOIN sessions s ON s.id = ${session.sessionId}::uuid AND s.secret_hash = ${session.secretHash}
                         AND s.revoked_at IS NULL AND s.expires_at > now() AND s.absolute_expires_at > now()
    LEFT JOIN users u ON u.id = s.user_id AND u.disabled_at IS NULL`;
}

function observation(row: Record<string, unknown> | undefined): SignInObservation {
  const outcome = row?.outcome;
  if (typeof outcome !== "string") return { state: "pending" };
  if (outcome !== SIGNED_IN) return { state: "failed", code: outcome };
  // No live session with the derived secret, or its user is disabled (not joined): nothing to hand out.
  if (!row || typeof row.user_id !== "string" || row.expires_at === null) return { state: "signed_in", session: null };
  return {
    state: "signed_in",
    session: {
      userId: row.user_id,
      expiresAt: new Date(Number(row.expires_at) * 1000),
      profile: { email: text(row.email), emailVerified: row.email_verified === true, name: text(row.name), image: text(row.image) },
    },
  };
}

function text(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
