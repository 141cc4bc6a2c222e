/**
 * The webhook entry points `src/index.ts` wires: the every-minute dispatch
 * cron and the queue consumer. Like housekeeping, they parse the
 * configuration themselves (no request, no app middleware).
 */
import { configFor, type Config } from "../config";
import { databaseFor } from "../db/client";
import { log } from "../lib/log";
import { consumeWebhooks } from "./consume";
import { dispatchWebhooks, type WebhookQueue } from "./dispatch";

function configOrThrow(env: object, event: string): Readonly<Config> {
  const result = configFor(env);
  if (!result.ok) {
    log("error", event, { problems: result.problems.map((p) => `${p.variable}:${p.problem}`).join(",") });
    throw new Error("gatehouse configuration is invalid; webhooks did not run");
  }
  return result.config;
}

/**
 * The dispatch cron: due outbox rows into the queue.
 *
 * @example
 * await runWebhookDispatch(env, env.WEBHOOK_QUEUE, new Date(controller.scheduledTime));
 */
export async function runWebhookDispatch(env: object, queue: WebhookQueue, now: Date): Promise<number> {
  const config = configOrThrow(env, "webhook_dispatch_skipped_configuration");
  return dispatchWebhooks(await databaseFor(config), queue, now);
}

/**
 * The queue consumer.
 *
 * @example
 * queue: (batch, env) => handleWebhookBatch(batch, env)
 */
export async function handleWebhookBatch(batch: MessageBatch<unknown>, env: object, now: Date = new Date()): Promise<void> {
  const result = configFor(env);
  if (!result.ok) {
    log("error", "webhook_consume_skipped_configuration", { problems: result.problems.map((p) => `${p.variable}:${p.problem}`).join(",") });
    batch.retryAll();
    return;
  }
  const config = result.config;
  const analytics = (env as { AUTH_ANALYTICS?: AnalyticsEngineDataset }).AUTH_ANALYTICS;
  await consumeWebhooks(batch, { db: await databaseFor(config), encryptionKeys: config.encryptionKeys, now, analytics });
}
