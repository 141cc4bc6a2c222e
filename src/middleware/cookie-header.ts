/**
 * Bounds the whole `Cookie` header. Browsers send every cookie of the
 * parent domain (Domain=.example.com) to this worker as well, so a sibling
 * subdomain can plant kilobytes of junk that would be parsed on every
 * request. Past the limit the request ends with 431 `HeaderTooLarge` before
 * configuration, rate limits or routes run: no database, no cookie set.
 * 8 KiB is the per-header line limit common servers use (nginx, Apache);
 * gatehouse's own cookies need well under 5 KiB together.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { GatehouseError } from "../error";

/** The largest `Cookie` header accepted, in bytes (UTF-8). */
export const MAX_COOKIE_HEADER_BYTES = 8192;

/**
 * Whether a `Cookie` header is within {@link MAX_COOKIE_HEADER_BYTES}.
 *
 * @example
 * cookieHeaderFits("a=1") // true
 */
export function cookieHeaderFits(header: string | null | undefined): boolean {
  if (!header) return true;
  if (header.length > MAX_COOKIE_HEADER_BYTES) return false;
  // A UTF-8 character is at most 3 bytes per UTF-16 unit: count bytes only when it could matter.
  return header.length * 3 <= MAX_COOKIE_HEADER_BYTES || new TextEncoder().encode(header).byteLength <= MAX_COOKIE_HEADER_BYTES;
}

/**
 * Refuses a request whose `Cookie` header is over the limit.
 *
 * @example
 * app.use(limitCookieHeader());
 */
export function limitCookieHeader(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!cookieHeaderFits(c.req.header("cookie"))) {
      throw new GatehouseError("HeaderTooLarge", "The request's Cookie header is too large.", {
        extra: { limitBytes: MAX_COOKIE_HEADER_BYTES },
      });
    }
    await next();
  };
}
