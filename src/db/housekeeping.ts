/**
 * The cron's database work (`src/housekeeping.ts`): expired rows go in one
 * round trip, after a retention window that keeps recent history explainable.
 */
import { sql } from "drizzle-orm";
import type { Database } from "./client";

/** A consumed state only has to outlive its KV transaction (600 s); keep a day for forensics. */
const CONSUMED_STATE_RETENTION = "1 day";
/** Revoked or expired sessions stay a week so "signed out" and reuse reports remain explainable. */
const SESSION_RETENTION = "7 days";
/** Invitations that ended (expired, revoked or accepted) stay a month; their audit rows stay for good. */
const INVITATION_RETENTION = "30 days";

/**
 * Deletes expired rows in one batch (one round trip) and returns the counts.
 *
 * @example
 * const { sessions, states, invitations } = await deleteExpiredRows(databaseFor(config), new Date()); // { sessions: 12, states: 340, invitations: 3 }
 */
export async function deleteExpiredRows(db: Database, now: Date): Promise<{ sessions: number; states: number; invitations: number }> {
  const at = now.toISOString();
  const [sessions, states, invitations] = await db.batch([
    db.execute(sql`DELETE FROM sessions
      WHERE least(expires_at, absolute_expires_at, coalesce(revoked_at, 'infinity')) < ${at}::timestamptz - ${SESSION_RETENTION}::interval`),
    db.execute(sql`DELETE FROM oauth_consumed_states WHERE consumed_at < ${at}::timestamptz - ${CONSUMED_STATE_RETENTION}::interval`),
    db.execute(sql`DELETE FROM org_invitations
      WHERE least(expires_at, coalesce(revoked_at, 'infinity'), coalesce(accepted_at, 'infinity')) < ${at}::timestamptz - ${INVITATION_RETENTION}::interval`),
  ]);
  return { sessions: sessions.rowCount ?? 0, states: states.rowCount ?? 0, invitations: invitations.rowCount ?? 0 };
}
