/**
 * The queue consumer: each message names a claimed delivery row. The row and
 * its endpoint are loaded for the whole batch in one round trip, each due
 * row is signed and POSTed, and every outcome is written in one more round
 * trip; then the messages are acked. A message whose row is no longer
 * `queued` at the attempt count it was claimed at (already delivered, dead,
 * replayed, claimed again) is acked without sending. If the database cannot
 * be read or written, the messages are retried by Queues; a row whose
 * outcome was never written is sent again (at-least-once: receivers dedupe
 * by `webhook-id`).
 */
import type { EncryptionKey } from "../lib/crypto";
import type { Database } from "../db/client";
import { loadDeliveries, recordOutcomes, type DeliveryOutcome, type DeliveryToSend } from "../db/webhook-deliveries";
import { describeError, log } from "../lib/log";
import { countWebhookDelivery } from "../observability/metrics";
import { isUuid } from "../orgs/slugs";
import { nextAttemptDelaySeconds } from "./backoff";
import { postWebhook } from "./deliver";
import { openWebhookSecrets } from "./secrets";
import { webhookId } from "./sign";

/** What the consumer needs besides the batch. */
export interface ConsumeOptions {
  db: Database;
  encryptionKeys: readonly EncryptionKey[];
  now: Date;
  fetcher?: typeof fetch;
  /** In [0, 1): the retry jitter (tests fix it). */
  random?: () => number;
  /** Workers Analytics Engine (`AUTH_ANALYTICS`), if bound: one data point per attempt's outcome. */
  analytics?: AnalyticsEngineDataset;
}

/** `2xx`, `4xx`, `5xx` … from a status, or `network` when no answer came. */
function statusClass(status: number | null): string {
  return status === null ? "network" : `${Math.floor(status / 100)}xx`;
}

function claimOf(body: unknown): { id: string; attempts: number } | null {
  if (typeof body !== "object" || body === null) return null;
  const { id, attempts } = body as { id?: unknown; attempts?: unknown };
  if (typeof id !== "string" || !isUuid(id) || typeof attempts !== "number" || !Number.isInteger(attempts) || attempts < 0) return null;
  return { id, attempts };
}

async function attempt(row: DeliveryToSend, expectedAttempts: number, options: ConsumeOptions): Promise<DeliveryOutcome> {
  const failed = (status: number | null, errorCode: string): DeliveryOutcome => {
    const delay = nextAttemptDelaySeconds(expectedAttempts + 1, (options.random ?? Math.random)());
    return { id: row.id, expectedAttempts, kind: "failed", status, errorCode, nextAttemptAt: delay === null ? null : new Date(options.now.getTime() + delay * 1000) };
  };
  const secrets = await openWebhookSecrets(options.encryptionKeys, row.endpointId, row.current, row.previous);
  if (!secrets) return failed(null, "endpoint_secret");
  const result = await postWebhook({ url: row.url, secrets, id: webhookId(row.id), body: JSON.stringify(row.payload), fetcher: options.fetcher });
  return result.ok ? { id: row.id, expectedAttempts, kind: "delivered", status: result.status } : failed(result.status, result.errorCode);
}

/**
 * Handles one batch from the webhook queue.
 *
 * @example
 * queue: (batch, env) => consumeWebhooks(batch, { db, encryptionKeys: config.encryptionKeys, now: new Date() })
 */
export async function consumeWebhooks(batch: MessageBatch<unknown>, options: ConsumeOptions): Promise<{ sent: number; skipped: number }> {
  const work: { message: Message<unknown>; id: string; attempts: number }[] = [];
  for (const message of batch.messages) {
    const claim = claimOf(message.body);
    if (claim) work.push({ message, ...claim });
    else {
      log("warn", "webhook_message_invalid");
      message.ack();
    }
  }
  let rows: Map<string, DeliveryToSend>;
  try {
    rows = await loadDeliveries(options.db, work.map((w) => w.id), options.now);
  } catch (error) {
    log("error", "webhook_consume_failed", { stage: "load", ...describeError(error) });
    for (const w of work) w.message.retry();
    return { sent: 0, skipped: 0 };
  }
  const due = work.filter((w) => {
    const row = rows.get(w.id);
    return row !== undefined && row.state === "queued" && row.attempts === w.attempts;
  });
  const outcomes = await Promise.all(
    due.map(async (w): Promise<DeliveryOutcome> => {
      const row = rows.get(w.id)!;
      if (!row.enabled) return { id: row.id, expectedAttempts: w.attempts, kind: "paused" };
      return attempt(row, w.attempts, options);
    }),
  );
  for (const o of outcomes) {
    if (o.kind === "delivered") countWebhookDelivery(options.analytics, "delivered", statusClass(o.status));
    if (o.kind === "failed") countWebhookDelivery(options.analytics, o.nextAttemptAt === null ? "dead_lettered" : "retrying", statusClass(o.status));
    if (o.kind === "failed") log("warn", "webhook_attempt_failed", { delivery: o.id, status: o.status ?? 0, errorCode: o.errorCode, dead: o.nextAttemptAt === null });
  }
  try {
    await recordOutcomes(options.db, outcomes, options.now);
  } catch (error) {
    // Redelivered messages find their rows still queued and send again; receivers dedupe by webhook-id.
    log("error", "webhook_consume_failed", { stage: "record", ...describeError(error) });
    for (const w of work) w.message.retry();
    return { sent: outcomes.length, skipped: work.length - due.length };
  }
  for (const w of work) w.message.ack();
  return { sent: outcomes.filter((o) => o.kind !== "paused").length, skipped: work.length - due.length };
}
