/**
 * Counters in Workers Analytics Engine (binding `AUTH_ANALYTICS`, dataset
 * `gatehouse_events`): sign-ins by method, failures by error code, refresh
 * outcomes and webhook deliveries. One data point per event; the queries are
 * in docs/operators.md ("Observability").
 *
 * The binding is optional: without it every counter is a no-op. A counter
 * never fails a request: `writeDataPoint` is synchronous and fire-and-forget
 * (nothing to await), and anything it throws is logged and dropped.
 *
 * Data point layout (the same for every event, so one query shape fits all):
 *   index1  event
 *   blob1   event: "signin" | "failure" | "refresh" | "webhook_delivery"
 *   blob2   provider / method: the sign-in method ("github", "email", …); the
 *           provider of a failed sign-in when known; "browser" | "oauth" for a
 *           refresh; the delivery outcome for a webhook
 *   blob3   code: the error code of a failure; the refresh outcome; the
 *           receiver's status class for a webhook
 *   blob4   country (request.cf.country), "" when unknown or not a request
 *   blob5   route pattern ("/auth/callback/:provider"), "" when not a request
 *   double1 1 (sum it: Analytics Engine samples, so count with `_sample_interval`)
 */
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { describeError, log } from "../lib/log";
import { routeOf } from "./route";

/** What `count` records. */
export type MetricEvent =
  | { event: "signin"; provider: string }
  | { event: "failure"; code: string; provider?: string | undefined }
  | { event: "refresh"; provider: "browser" | "oauth"; code: RefreshOutcome };

/**
 * Refresh-token outcomes. `rejected` is everything the single refresh
 * statement refuses without telling why (unknown, revoked, expired, user
 * disabled); `wrong_resource` is an OAuth refresh for another resource.
 */
export type RefreshOutcome = "rotated" | "grace" | "reuse_detected" | "rejected" | "wrong_resource";

/** How a webhook delivery attempt ended. */
export type WebhookOutcome = "delivered" | "retrying" | "dead_lettered";

const BLOB_MAX = 96;

/**
 * Counts one event of the current request.
 *
 * @example
 * count(c, { event: "signin", provider: "github" });
 * count(c, { event: "refresh", provider: "browser", code: "reuse_detected" });
 */
export function count(c: Context<AppEnv>, metric: MetricEvent): void {
  const binding = c.var.analytics;
  if (!binding) return;
  const provider = "provider" in metric ? metric.provider : undefined;
  const code = "code" in metric ? metric.code : undefined;
  write(binding, [metric.event, provider ?? "", code ?? "", c.var.request.country ?? "", routeOf(c)]);
}

/**
 * Counts one webhook delivery attempt, for the queue consumer (no request:
 * no country, no route). `statusClass` is the receiver's answer: "2xx",
 * "4xx", "5xx", or "network" when none came.
 *
 * @example
 * countWebhookDelivery(env.AUTH_ANALYTICS, "delivered", "2xx");
 */
export function countWebhookDelivery(binding: AnalyticsEngineDataset | undefined, outcome: WebhookOutcome, statusClass: string): void {
  if (!binding) return;
  write(binding, ["webhook_delivery", outcome, statusClass, "", ""]);
}

function write(binding: AnalyticsEngineDataset, blobs: string[]): void {
  try {
    binding.writeDataPoint({ blobs: blobs.map((b) => b.slice(0, BLOB_MAX)), doubles: [1], indexes: [blobs[0]!] });
  } catch (error) {
    log("warn", "metrics_write_failed", describeError(error));
  }
}
