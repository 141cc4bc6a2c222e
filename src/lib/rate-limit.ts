/**
 * One per-client-IP check against the Workers rate-limiting binding. Used by
 * the route middleware (sign-in, callback, token) and by session resolution
 * before a refresh token costs a database round trip.
 */
import { GatehouseError } from "../error";

/** The binding's period (wrangler.toml `simple.period`): the longest a client waits. */
const RETRY_AFTER_SECONDS = "60";

/**
 * The binding key of one address in one bucket.
 *
 * @example rateLimitKey("refresh", "198.51.100.7"); // "refresh:198.51.100.7"
 */
export function rateLimitKey(bucket: string, ip: string | undefined): string {
  return `${bucket}:${ip ?? "unknown"}`;
}

/**
 * Throws 429 `RateLimited` with `Retry-After` when `ip` is over the limit in `bucket`.
 *
 * @example
 * await enforceRateLimit(c.var.rateLimiter, "refresh", c.req.header("cf-connecting-ip"));
 */
export async function enforceRateLimit(limiter: RateLimit, bucket: string, ip: string | undefined): Promise<void> {
  // Cloudflare sets CF-Connecting-IP at the edge; a client cannot forge it there.
  const { success } = await limiter.limit({ key: rateLimitKey(bucket, ip) });
  if (!success) {
    throw new GatehouseError("RateLimited", "Too many requests from this address.", { headers: { "Retry-After": RETRY_AFTER_SECONDS } });
  }
}
