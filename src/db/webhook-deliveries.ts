/**
 * The delivery side of the webhook outbox: the dispatcher's claim of due
 * rows, the consumer's load of a batch and its one write of every outcome.
 * Rows are written by the `audit_events` trigger (custom migration), never
 * here. Times come from the caller (`now`), so tests can walk the schedule.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Sealed } from "../lib/crypto";
import { fromHex } from "../lib/hex";
import type { Database } from "./client";
import { toIso } from "./orgs";

/** How long a claimed (`queued`) row belongs to its queue message before the dispatcher claims it again. */
export const QUEUE_LEASE_SECONDS = 300;

/** Delivered and dead rows are deleted this many days after they were created. */
export const DELIVERY_RETENTION_DAYS = 30;
/** Finished rows deleted per claim at most (the next minute's run continues). */
const PURGE_BATCH = 1000;

/** A claimed row: the queue message's body. */
export interface ClaimedDelivery {
  id: string;
  /** Attempts made before this one; the consumer's outcome only applies while it still matches. */
  attempts: number;
}

/**
 * Claims up to `limit` due rows of enabled endpoints (`pending` whose
 * attempt is due, or `queued` whose lease ran out), marking them `queued`
 * with a fresh lease. One statement; `FOR UPDATE SKIP LOCKED` lets two
 * dispatchers run at once without claiming the same row. With `purge`, the
 * same statement deletes finished rows past {@link DELIVERY_RETENTION_DAYS}.
 *
 * @example
 * const claimed = await claimDueDeliveries(db, new Date(), 100);
 */
export async function claimDueDeliveries(db: Database, now: Date, limit: number, options: { purge?: boolean } = {}): Promise<ClaimedDelivery[]> {
  const at = now.toISOString();
  const result = await db.execute(sql`
    WITH ${
      options.purge
        ? sql`purged AS (
      DELETE FROM webhook_deliveries WHERE id IN (
        SELECT id FROM webhook_deliveries
        WHERE state IN ('delivered', 'dead') AND created_at < ${at}::timestamptz - make_interval(days => ${DELIVERY_RETENTION_DAYS})
        LIMIT ${PURGE_BATCH})
    ),`
        : sql``
    }
    due AS (
      SELECT d.id FROM webhook_deliveries d
      JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled
      WHERE d.state IN ('pending', 'queued') AND d.next_attempt_at <= ${at}::timestamptz
      ORDER BY d.next_attempt_at, d.id
      LIMIT ${limit}
      FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries d
    SET state = 'queued', next_attempt_at = ${at}::timestamptz + make_interval(secs => ${QUEUE_LEASE_SECONDS})
    FROM due WHERE d.id = due.id
    RETURNING d.id, d.attempts`);
  return result.rows.map((r) => ({ id: String(r.id), attempts: Number(r.attempts) }));
}

/** What the consumer needs to send one delivery. */
export interface DeliveryToSend {
  id: string;
  state: string;
  attempts: number;
  payload: Record<string, unknown>;
  endpointId: string;
  url: string;
  enabled: boolean;
  current: Sealed;
  /** The previous secret while its rotation window lasts. */
  previous: Sealed | null;
}

/**
 * The rows and endpoints of a batch of delivery ids (missing ones: the
 * endpoint was deleted). One statement.
 *
 * @example
 * const rows = await loadDeliveries(db, ids, new Date());
 */
export async function loadDeliveries(db: Database, ids: readonly string[], now: Date): Promise<Map<string, DeliveryToSend>> {
  if (ids.length === 0) return new Map();
  const result = await db.execute(sql`
    SELECT d.id, d.state, d.attempts, d.payload::text AS payload, e.id AS endpoint_id, e.url, e.enabled,
           encode(e.secret_ciphertext, 'hex') AS current_hex, e.secret_key_version,
           CASE WHEN e.previous_secret_expires_at > ${now.toISOString()}::timestamptz THEN encode(e.previous_secret_ciphertext, 'hex') END AS previous_hex,
           e.previous_secret_key_version
    FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
    WHERE d.id = ANY(${uuidArray(ids)})`);
  const map = new Map<string, DeliveryToSend>();
  for (const r of result.rows) {
    map.set(String(r.id), {
      id: String(r.id),
      state: String(r.state),
      attempts: Number(r.attempts),
      payload: JSON.parse(String(r.payload)) as Record<string, unknown>,
      endpointId: String(r.endpoint_id),
      url: String(r.url),
      enabled: r.enabled === true,
      current: { ciphertext: fromHex(String(r.current_hex)), keyVersion: Number(r.secret_key_version) },
      previous: r.previous_hex == null ? null : { ciphertext: fromHex(String(r.previous_hex)), keyVersion: Number(r.previous_secret_key_version) },
    });
  }
  return map;
}

/** How one attempt ended. */
export type DeliveryOutcome =
  | { id: string; expectedAttempts: number; kind: "delivered"; status: number }
  | { id: string; expectedAttempts: number; kind: "failed"; status: number | null; errorCode: string; nextAttemptAt: Date | null }
  /** The endpoint was disabled meanwhile: back to `pending`, no attempt counted (the dispatcher skips disabled endpoints). */
  | { id: string; expectedAttempts: number; kind: "paused" };

/**
 * Writes every outcome of a batch in one statement. A row only changes while
 * it is still `queued` with the attempt count its message was claimed at: a
 * stale or duplicated message cannot undo a newer outcome.
 *
 * @example
 * await recordOutcomes(db, outcomes, new Date());
 */
export async function recordOutcomes(db: Database, outcomes: readonly DeliveryOutcome[], now: Date): Promise<number> {
  if (outcomes.length === 0) return 0;
  const rows = outcomes.map((o) => {
    const state = o.kind === "delivered" ? "delivered" : o.kind === "paused" ? "pending" : o.nextAttemptAt === null ? "dead" : "pending";
    const counted = o.kind === "paused" ? 0 : 1;
    const status = o.kind === "paused" ? null : o.status;
    const errorCode = o.kind === "failed" ? o.errorCode : null;
    const next = o.kind === "failed" && o.nextAttemptAt ? o.nextAttemptAt.toISOString() : now.toISOString();
    return sql`(${o.id}::uuid, ${o.expectedAttempts}::integer, ${state}::text, ${counted}::integer, ${status}::integer, ${errorCode}::text, ${next}::timestamptz)`;
  });
  const result = await db.execute(sql`
    UPDATE webhook_deliveries d
    SET state = v.state, attempts = d.attempts + v.counted,
        last_status = CASE WHEN v.counted = 1 THEN v.status ELSE d.last_status END,
        last_error_code = CASE WHEN v.counted = 1 THEN v.error_code ELSE d.last_error_code END,
        next_attempt_at = v.next_at,
        delivered_at = CASE WHEN v.state = 'delivered' THEN ${now.toISOString()}::timestamptz ELSE d.delivered_at END
    FROM (VALUES ${sql.join(rows, sql`, `)}) AS v(id, expected, state, counted, status, error_code, next_at)
    WHERE d.id = v.id AND d.state = 'queued' AND d.attempts = v.expected
    RETURNING d.id`);
  return result.rows.length;
}

/** A `uuid[]` parameter. */
export function uuidArray(values: readonly string[]): SQL {
  return sql`${`{${values.join(",")}}`}::uuid[]`;
}

/** ISO time of a timestamp column, or null. */
export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : toIso(value);
}
