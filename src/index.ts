/**
 * The Worker entry: exports only. `fetch` is the Hono app, `scheduled` the
 * housekeeping cron declared in wrangler.toml.
 */
import { createApp } from "./app";
import { runHousekeeping } from "./housekeeping";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled: (controller, env, ctx) => {
    ctx.waitUntil(runHousekeeping(env, new Date(controller.scheduledTime)));
  },
} satisfies ExportedHandler<Env>;
