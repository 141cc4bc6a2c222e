/** The cron expression (wrangler.toml `[triggers]`) that runs the webhook dispatcher; every other cron is housekeeping. */
export const WEBHOOK_DISPATCH_CRON = "* * * * *";
