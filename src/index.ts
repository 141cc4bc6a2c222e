/**
 * The Worker entry: exports only. `fetch` is the Hono app; `scheduled` runs
 * the crons declared in wrangler.toml (every minute: webhook dispatch;
 * hourly: housekeeping); `queue` consumes the webhook queue.
 */
import { createApp } from "./app";
import { runHousekeeping } from "./housekeeping";
import { WEBHOOK_DISPATCH_CRON } from "./webhooks/cron";
import { handleWebhookBatch, runWebhookDispatch } from "./webhooks/worker";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled: (controller, env, ctx) => {
    const now = new Date(controller.scheduledTime);
    if (controller.cron === WEBHOOK_DISPATCH_CRON) ctx.waitUntil(runWebhookDispatch(env, env.WEBHOOK_QUEUE, now));
    else ctx.waitUntil(runHousekeeping(env, now));
  },
  queue: (batch, env) => handleWebhookBatch(batch, env),
} satisfies ExportedHandler<Env>;
