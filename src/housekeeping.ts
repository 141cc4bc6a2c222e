/**
 * The cron job: deletes expired sessions, consumed sign-in states older
 * than a transaction can live, week-old OAuth codes and revoked grants,
 * invitations that ended a month ago, dynamic client registrations left
 * unused for a day, audit events past AUDIT_RETENTION_DAYS, and logs the
 * counts. One round trip.
 */
import { configFor } from "./config";
import { databaseFor } from "./db/client";
import { deleteExpiredRows, type HousekeepingCounts } from "./db/housekeeping";
import { describeError, log } from "./lib/log";

/** @example await runHousekeeping(env, new Date()); */
export async function runHousekeeping(
  env: object,
  now: Date,
): Promise<HousekeepingCounts | null> {
  const result = configFor(env);
  if (!result.ok) {
    log("error", "housekeeping_skipped_configuration", { problems: result.problems.map((p) => `${p.variable}:${p.problem}`).join(",") });
    throw new Error("gatehouse configuration is invalid; housekeeping did not run");
  }
  try {
    const counts = await deleteExpiredRows(await databaseFor(result.config), now, { auditRetentionDays: result.config.audit.retentionDays });
    log("info", "housekeeping", {
      deletedSessions: counts.sessions,
      deletedStates: counts.states,
      deletedCodes: counts.codes,
      deletedGrants: counts.grants,
      deletedInvitations: counts.invitations,
      deletedRegistrations: counts.registrations,
      deletedAuditEvents: counts.auditEvents,
    });
    return counts;
  } catch (error) {
    log("error", "housekeeping_failed", describeError(error));
    throw error;
  }
}
