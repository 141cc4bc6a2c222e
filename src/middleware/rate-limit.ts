/**
 * Per-client-IP rate limit on the abuse-prone endpoints (sign-in start,
 * callback, token), through the Workers rate-limiting binding declared in
 * wrangler.toml. Over the limit: 429 `RateLimited` with `Retry-After`.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { enforceRateLimit } from "../lib/rate-limit";

/**
 * @example app.use("/auth/signin/*", rateLimit("signin"));
 */
export function rateLimit(bucket: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await enforceRateLimit(c.var.rateLimiter, bucket, c.req.header("cf-connecting-ip"));
    await next();
  };
}
