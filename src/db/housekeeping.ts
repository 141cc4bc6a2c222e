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

/**
 * Deletes expired rows in one batch (one round trip) and returns the counts.
 *
 * @example
 * const { sessions, states } = await deleteExpiredRows(await databaseFor(config), new Date()); // { sessions: 12, states: 340 }
 */
export async function deleteExpiredRows(db: Database, now: Date): Promise<{ sessions: number; states: number }> {
  const at = now.toISOString();
  const [sessions, states] = await db.batch([
    db.execute(sql`DELETE FROM sessions
      WHERE least(expires_at, absolute_expires_at, coalesce(revoked_at, 'infinity')) < ${at}::timestamptz - ${SESSION_RETENTION}::interval`),
    db.execute(sql`DELETE FROM oauth_consumed_states WHERE consumed_at < ${at}::timestamptz - ${CONSUMED_STATE_RETENTION}::interval`),
  ]);
  return { sessions: sessions.rowCount ?? 0, states: states.rowCount ?? 0 };
}
