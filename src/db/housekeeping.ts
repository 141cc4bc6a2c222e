/**
 * The cron's database work (`src/housekeeping.ts`): expired rows go in one
 * round trip, after a retention window that keeps recent history explainable.
 */
import { sql } from "drizzle-orm";
import type { Database } from "./client";
import { revokeFamilySql } from "./sessions";

/** A consumed state only has to outlive its KV transaction (600 s); keep a day for forensics. */
const CONSUMED_STATE_RETENTION = "1 day";
/** Revoked or expired sessions stay a week so "signed out" and reuse reports remain explainable. */
const SESSION_RETENTION = "7 days";
/** Invitations that ended (expired, revoked or accepted) stay a month; their audit rows stay as long as AUDIT_RETENTION_DAYS says. */
const INVITATION_RETENTION = "30 days";

/** A dynamic registration (RFC 7591) nobody used within a day goes: anyone can register, so unused ones must not pile up. */
const DYNAMIC_CLIENT_UNUSED = "1 day";

/** What one housekeeping run deleted. */
export interface HousekeepingCounts {
  sessions: number;
  states: number;
  codes: number;
  grants: number;
  invitations: number;
  registrations: number;
  /** Audit events older than AUDIT_RETENTION_DAYS (0 when it is 0: kept forever). */
  auditEvents: number;
}

/**
 * Deletes expired rows in one batch (one round trip) and returns the counts.
 * `auditRetentionDays` 0 keeps every audit event.
 *
 * @example
 * const counts = await deleteExpiredRows(await databaseFor(config), new Date(), { auditRetentionDays: 365 }); // { sessions: 12, states: 340, …, auditEvents: 950 }
 */
export async function deleteExpiredRows(db: Database, now: Date, options: { auditRetentionDays: number }): Promise<HousekeepingCounts> {
  const at = now.toISOString();
  const days = options.auditRetentionDays;
  const [, sessions, states, codes, grants, invitations, , registrations, auditEvents] = await db.batch([
    // A family whose code was replayed while it was being issued is revoked here at the
    // latest (the refresh grant does it sooner), before its code row can be deleted below.
    db.execute(sql`${revokeFamilySql(sql`ANY(ARRAY(SELECT family_id FROM oauth_codes WHERE replayed_at IS NOT NULL AND family_id IS NOT NULL))`)}`),
    db.execute(sql`DELETE FROM sessions
      WHERE least(expires_at, absolute_expires_at, coalesce(revoked_at, 'infinity')) < ${at}::timestamptz - ${SESSION_RETENTION}::interval`),
    db.execute(sql`DELETE FROM oauth_consumed_states WHERE consumed_at < ${at}::timestamptz - ${CONSUMED_STATE_RETENTION}::interval`),
    // A code outlives its 60 s for replay detection (a replay revokes its tokens); a week is plenty.
    db.execute(sql`DELETE FROM oauth_codes WHERE expires_at < ${at}::timestamptz - ${SESSION_RETENTION}::interval`),
    db.execute(sql`DELETE FROM oauth_grants WHERE revoked_at < ${at}::timestamptz - ${SESSION_RETENTION}::interval`),
    db.execute(sql`DELETE FROM org_invitations
      WHERE least(expires_at, coalesce(revoked_at, 'infinity'), coalesce(accepted_at, 'infinity')) < ${at}::timestamptz - ${INVITATION_RETENTION}::interval`),
    // An email code lives 10 minutes; its attempt count, like a consumed state, a day.
    db.execute(sql`DELETE FROM email_code_attempts WHERE created_at < ${at}::timestamptz - ${CONSUMED_STATE_RETENTION}::interval`),
    // Last, after the deletes above: a dynamic or metadata-document client with no code, grant or session left
    // (a document client's row is recreated from its document at its next authorization request;
    // a client an operator disabled stays, so the block survives).
    db.execute(sql`DELETE FROM oauth_clients c
      WHERE (c.dynamic OR c.metadata_url IS NOT NULL) AND c.disabled_at IS NULL AND c.created_at < ${at}::timestamptz - ${DYNAMIC_CLIENT_UNUSED}::interval
        AND NOT EXISTS (SELECT 1 FROM oauth_codes o WHERE o.client_id = c.id)
        AND NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = c.id)
        AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.client_id = c.id)`),
    // Every audit event alike (sign-ins, admin actions, erasure records), by age; 0 days keeps them all.
    db.execute(sql`DELETE FROM audit_events WHERE ${days}::integer > 0 AND at < ${at}::timestamptz - make_interval(days => ${days}::integer)`),
  ]);
  const n = (r: { rowCount?: number | null }) => r.rowCount ?? 0;
  return {
    sessions: n(sessions),
    states: n(states),
    codes: n(codes),
    grants: n(grants),
    invitations: n(invitations),
    registrations: n(registrations),
    auditEvents: n(auditEvents),
  };
}
