/**
 * The dispatcher (every-minute cron): moves due outbox rows into the
 * Cloudflare Queue. It claims rows (`queued`, with a lease) and sends their
 * ids; if the send fails, or a message is lost later, the lease runs out
 * and a later run claims the rows again, so nothing is lost. Write paths do
 * not kick it (that would cost them a round trip): a new event is sent
 * within about a minute and a half (the cron's minute plus the queue's batch wait).
 */
import { claimDueDeliveries, type ClaimedDelivery } from "../db/webhook-deliveries";
import type { Database } from "../db/client";
import { describeError, log } from "../lib/log";

/** Rows per claim and per `sendBatch` (Queues' limit is 100 messages a batch). */
export const DISPATCH_BATCH = 100;
/** Claims per run: at most 1000 deliveries a minute leave the outbox. */
export const DISPATCH_MAX_BATCHES = 10;

/** The producer side of the webhook queue (`env.WEBHOOK_QUEUE`). */
export interface WebhookQueue {
  sendBatch(messages: Iterable<MessageSendRequest<ClaimedDelivery>>): Promise<unknown>;
}

/**
 * Claims due deliveries and queues them; returns how many were queued.
 *
 * @example
 * await dispatchWebhooks(db, env.WEBHOOK_QUEUE, new Date());
 */
export async function dispatchWebhooks(db: Database, queue: WebhookQueue, now: Date): Promise<number> {
  let queued = 0;
  for (let i = 0; i < DISPATCH_MAX_BATCHES; i++) {
    // The first claim of a run also deletes finished rows past their retention.
    const claimed = await claimDueDeliveries(db, now, DISPATCH_BATCH, { purge: i === 0 });
    if (claimed.length === 0) break;
    try {
      await queue.sendBatch(claimed.map((body) => ({ body, contentType: "json" as const })));
    } catch (error) {
      // The rows stay claimed until their lease ends; the next run after that sends them.
      log("error", "webhook_dispatch_failed", { claimed: claimed.length, ...describeError(error) });
      break;
    }
    queued += claimed.length;
    if (claimed.length < DISPATCH_BATCH) break;
  }
  if (queued > 0) log("info", "webhook_dispatch", { queued });
  return queued;
}
