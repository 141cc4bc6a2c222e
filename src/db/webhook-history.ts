/**
 * An endpoint's deliveries for the management API: the keyset-paginated
 * list (newest first) and the replay of one delivery or of every dead one
 * (back to `pending`, attempts reset, due now; the dispatcher sends it
 * within a minute). The same `webhook-id` is kept, so a receiver that
 * already processed it can tell.
 */
import { sql } from "drizzle-orm";
import type { RequestContext } from "../lib/request-context";
import { auditInsert } from "./audit";
import type { Database } from "./client";
import { toIso } from "./orgs";
import { isoOrNull } from "./webhook-deliveries";
import { decisionFor, scopedEndpointFor, type WebhookResult, type WebhookScope } from "./webhooks";

/** A delivery as the API shows it. */
export interface DeliveryRecord {
  id: string;
  eventType: string;
  state: "pending" | "queued" | "delivered" | "dead";
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastErrorCode: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
  deliveredAt: string | null;
}

function deliveryOf(row: Record<string, unknown>): DeliveryRecord {
  const state = String(row.state) as DeliveryRecord["state"];
  return {
    id: String(row.id),
    eventType: String(row.event_type),
    state,
    attempts: Number(row.attempts),
    nextAttemptAt: state === "pending" || state === "queued" ? isoOrNull(row.next_attempt_at) : null,
    lastStatus: row.last_status == null ? null : Number(row.last_status),
    lastErrorCode: row.last_error_code == null ? null : String(row.last_error_code),
    payload: JSON.parse(String(row.payload)) as Record<string, unknown>,
    createdAt: toIso(row.created_at),
    deliveredAt: isoOrNull(row.delivered_at),
  };
}

/**
 * A page of an endpoint's deliveries, newest first; `next` is the cursor
 * (`before`) of the following page, or null.
 *
 * @example
 * const r = await listWebhookDeliveries(db, scope, endpointId, { limit: 50, state: "dead" });
 */
export async function listWebhookDeliveries(
  db: Database,
  scope: WebhookScope,
  endpointId: string,
  page: { limit: number; before?: string; state?: DeliveryRecord["state"] },
): Promise<WebhookResult<{ deliveries: DeliveryRecord[]; next: string | null }>> {
  const result = await db.execute(sql`
    WITH ${decisionFor(scope)}, ${scopedEndpointFor(endpointId)},
    cursor AS (SELECT w.created_at, w.id FROM webhook_deliveries w JOIN ep ON w.endpoint_id = ep.id WHERE w.id = ${page.before ?? null}::uuid)
    SELECT d.outcome, (SELECT id FROM ep) AS endpoint_id, w.id, w.event_type, w.state, w.attempts, w.next_attempt_at, w.last_status,
           w.last_error_code, w.payload::text AS payload, w.created_at, w.delivered_at
    FROM decision d
    LEFT JOIN LATERAL (
      SELECT w.* FROM webhook_deliveries w
      WHERE w.endpoint_id = (SELECT id FROM ep)
        ${page.state ? sql`AND w.state = ${page.state}` : sql``}
        ${page.before ? sql`AND (w.created_at, w.id) < (SELECT created_at, id FROM cursor)` : sql``}
      ORDER BY w.created_at DESC, w.id DESC
      LIMIT ${page.limit + 1}
    ) w ON true
    ORDER BY w.created_at DESC, w.id DESC`);
  const first = result.rows[0];
  if (!first || first.outcome === "not_member") return { ok: false, refusal: "not_member" };
  if (first.outcome === "forbidden") return { ok: false, refusal: "forbidden" };
  if (first.endpoint_id == null) return { ok: false, refusal: "not_found" };
  const rows = result.rows.filter((r) => r.id != null).map(deliveryOf);
  const more = rows.length > page.limit;
  const deliveries = more ? rows.slice(0, page.limit) : rows;
  return { ok: true, value: { deliveries, next: more ? deliveries.at(-1)!.id : null } };
}

/**
 * Replays one delivery (any state) or, without `deliveryId`, every dead
 * delivery of the endpoint. Audited (`webhook.replay`, with the count) when
 * anything was replayed. One statement.
 *
 * @example
 * const r = await replayWebhookDeliveries(db, scope, endpointId, { deliveryId });
 */
export async function replayWebhookDeliveries(
  db: Database,
  scope: WebhookScope,
  endpointId: string,
  input: { deliveryId?: string; context?: RequestContext },
): Promise<WebhookResult<{ replayed: number }>> {
  const result = await db.execute(sql`
    WITH ${decisionFor(scope)}, ${scopedEndpointFor(endpointId)},
    replayed AS (
      UPDATE webhook_deliveries w
      SET state = 'pending', attempts = 0, next_attempt_at = now(), delivered_at = NULL
      FROM ep WHERE w.endpoint_id = ep.id
        AND ${input.deliveryId ? sql`w.id = ${input.deliveryId}::uuid` : sql`w.state = 'dead'`}
      RETURNING w.id
    ),
    summary AS (SELECT ep.id, ep.org_id, (SELECT count(*) FROM replayed)::integer AS n FROM ep),
    audit AS (${auditInsert(
      {
        actor: { type: "user", id: scope.actorId },
        action: "webhook.replay",
        orgId: sql`summary.org_id`,
        targetType: "webhook_endpoint",
        targetId: sql`summary.id::text`,
        metadata: sql`jsonb_build_object('count', summary.n, 'delivery', ${input.deliveryId ?? null}::text)`,
        ...(input.context ? { context: input.context } : {}),
      },
      sql`summary WHERE summary.n > 0`,
    )})
    SELECT d.outcome, (SELECT id FROM ep) AS endpoint_id, (SELECT count(*) FROM replayed)::integer AS n FROM decision d`);
  const row = result.rows[0];
  if (!row || row.outcome === "not_member") return { ok: false, refusal: "not_member" };
  if (row.outcome === "forbidden") return { ok: false, refusal: "forbidden" };
  const n = Number(row.n);
  if (row.endpoint_id == null || (input.deliveryId && n === 0)) return { ok: false, refusal: "not_found" };
  return { ok: true, value: { replayed: n } };
}
