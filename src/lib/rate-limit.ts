/**
 * Checks against the Workers rate-limiting bindings: per client address
 * (the route middleware for sign-in, callback, token and the org API;
 * session resolution before a refresh token costs a database round trip;
 * service-client authentication) or per caller (invitations).
 *
 * Addresses are keyed so that one client cannot escape its limit by
 * changing address within what it controls: IPv4 by the full address,
 * IPv6 by its /64 (one subscriber's prefix; a host picks any of its 2^64
 * addresses freely).
 */
import { GatehouseError } from "../error";

/** The binding's period (wrangler.toml `simple.period`): the longest a client waits. */
const RETRY_AFTER_SECONDS = "60";
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

/**
 * The limiter key of a client address: IPv4 as is, IPv6 as its /64
 * (IPv4-mapped IPv6 as the IPv4 address), anything unparseable as `unknown`.
 *
 * @example
 * rateLimitKey("2001:db8:1:2::1")   // "2001:db8:1:2::/64"
 * rateLimitKey("198.51.100.7")      // "198.51.100.7"
 */
export function rateLimitKey(ip: string | undefined): string {
  const value = ip?.trim().toLowerCase() ?? "";
  if (IPV4.test(value)) return value;
  const mapped = /^::ffff:([0-9.]+)$/.exec(value);
  if (mapped?.[1] && IPV4.test(mapped[1])) return mapped[1];
  const hextets = ipv6Hextets(value);
  if (!hextets) return "unknown";
  return `${hextets.slice(0, 4).map((h) => parseInt(h, 16).toString(16)).join(":")}::/64`;
}

/**
 * Throws 429 `RateLimited` with `Retry-After` when the client address `ip` is over the limit in `bucket`.
 *
 * @example
 * await enforceRateLimit(c.var.refreshRateLimiter, "refresh", c.req.header("cf-connecting-ip"));
 */
export async function enforceRateLimit(limiter: RateLimit, bucket: string, ip: string | undefined): Promise<void> {
  // Cloudflare sets CF-Connecting-IP at the edge; a client cannot forge it there.
  await enforceKeyedRateLimit(limiter, bucket, rateLimitKey(ip));
}

/**
 * Throws 429 `RateLimited` with `Retry-After` when `key` (e.g. `user:<id>`) is over the limit in `bucket`.
 *
 * @example
 * await enforceKeyedRateLimit(c.var.rateLimiter, "invite", `user:${userId}`);
 */
export async function enforceKeyedRateLimit(limiter: RateLimit, bucket: string, key: string): Promise<void> {
  const { success } = await limiter.limit({ key: `${bucket}:${key}` });
  if (!success) {
    throw new GatehouseError("RateLimited", "Too many requests; wait a minute.", { headers: { "Retry-After": RETRY_AFTER_SECONDS } });
  }
}

/** The eight hextets of an IPv6 address (with `::` expanded), or `null`. */
function ipv6Hextets(value: string): string[] | null {
  if (!value.includes(":") || value.length > 45) return null;
  const halves = value.split("::");
  if (halves.length > 2) return null;
  const parts = (half: string | undefined) => (half ? half.split(":") : []);
  const head = parts(halves[0]);
  const tail = parts(halves[1]);
  // An embedded IPv4 address at the end counts as two hextets.
  const last = tail.length > 0 ? tail : head;
  if (last.length > 0 && last[last.length - 1]!.includes(".")) {
    if (!IPV4.test(last[last.length - 1]!)) return null;
    last.splice(last.length - 1, 1, "0", "0");
  }
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  return all.every((h) => HEXTET.test(h)) ? all : null;
}
