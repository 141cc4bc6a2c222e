/**
 * The webhook event types an endpoint can subscribe to, and the check of a
 * subscription list. The mapping from audit actions to these types lives in
 * SQL (the `webhook_event_types` function of the outbox-trigger migration),
 * where the outbox row is written; this list must name the same types.
 */

/** Every event type gatehouse emits (docs/operators.md "Webhooks"). */
export const WEBHOOK_EVENT_TYPES = [
  "user.created",
  "user.updated",
  "user.deleted",
  "session.created",
  "session.revoked",
  "refresh.reuse_detected",
  "signin.suspicious",
  "membership.created",
  "membership.updated",
  "membership.deleted",
  "pages.connected",
  "client.created",
  "client.updated",
  "client.deleted",
  "grant.created",
  "grant.revoked",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const FAMILIES = new Set(WEBHOOK_EVENT_TYPES.map((t) => `${t.split(".")[0]}.*`));
const TYPES = new Set<string>(WEBHOOK_EVENT_TYPES);

/** The most subscriptions one endpoint may list. */
export const MAX_EVENT_TYPES = 32;

/**
 * A subscription list, deduplicated and sorted, or the first entry that is
 * not an event type, a family (`membership.*`) or `*`.
 *
 * @example
 * checkEventTypes(["membership.*", "user.created"]); // { ok: true, value: ["membership.*", "user.created"] }
 * checkEventTypes(["user.exploded"]); // { ok: false, invalid: "user.exploded" }
 */
export function checkEventTypes(values: readonly string[]): { ok: true; value: string[] } | { ok: false; invalid: string } {
  for (const v of values) {
    if (v !== "*" && !TYPES.has(v) && !FAMILIES.has(v)) return { ok: false, invalid: v };
  }
  return { ok: true, value: [...new Set(values)].sort() };
}
