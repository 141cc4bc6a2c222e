/**
 * Per-client-IP rate limit on the abuse-prone endpoints (sign-in start,
 * callback, token), through the Workers rate-limiting binding declared in
 * wrangler.toml. Over the limit: 429 `RateLimited` with `Retry-After`.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { GatehouseError } from "../error";

/** The binding's period (wrangler.toml `simple.period`): the longest a client waits. */
const RETRY_AFTER_SECONDS = "60";

/**
 * @example app.use("/auth/token", rateLimit("token"));
 */
export function rateLimit(bucket: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // Cloudflare sets CF-Connecting-IP at the edge; a client cannot forge it there.
    const ip = c.req.header("cf-connecting-ip") ?? "unknown";
    const { success } = await c.var.rateLimiter.limit({ key: `${bucket}:${ip}` });
    if (!success) {
      throw new GatehouseError("RateLimited", "Too many requests from this address.", { headers: { "Retry-After": RETRY_AFTER_SECONDS } });
    }
    await next();
  };
}
