/**
 * CORS for the credentialed endpoints SPAs call (`/auth/token`,
 * `/auth/session`, `/auth/sessions`, `/auth/signout`). Only an origin listed
 * in ALLOWED_ORIGINS, compared as an exact string, is echoed back with
 * `Access-Control-Allow-Credentials: true`. There is no `*`, no reflection
 * of an arbitrary origin, no suffix matching, and `null` never matches
 * (config only holds parsed http(s) origins).
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { GatehouseError } from "../error";

const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** Whether `origin` is exactly one of the configured browser origins. */
export function isAllowedOrigin(allowedOrigins: readonly string[], origin: string | undefined): origin is string {
  return origin !== undefined && allowedOrigins.includes(origin);
}

/**
 * Answers preflights from allowed origins and adds CORS headers to their
 * responses (errors included). Other origins get no CORS header at all,
 * so their browser never lets the page read the answer.
 *
 * @example
 * const token = new Hono<AppEnv>().use(credentialedCors(["POST"]));
 */
export function credentialedCors(methods: readonly string[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header("origin");
    const allowed = isAllowedOrigin(c.get("config").allowedOrigins, origin);
    if (c.req.method === "OPTIONS") {
      const requested = c.req.header("access-control-request-method");
      if (!allowed || requested === undefined || !methods.includes(requested)) {
        throw new GatehouseError("Forbidden", "This origin may not call this endpoint.", { headers: { Vary: "Origin" } });
      }
      return c.body(null, 204, {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": methods.join(", "),
        "Access-Control-Allow-Headers": "content-type",
        "Access-Control-Max-Age": String(PREFLIGHT_MAX_AGE_SECONDS),
        Vary: "Origin",
      });
    }
    await next();
    // The answer depends on Origin, whichever origin asked.
    c.res.headers.append("Vary", "Origin");
    if (allowed) {
      c.res.headers.set("Access-Control-Allow-Origin", origin);
      c.res.headers.set("Access-Control-Allow-Credentials", "true");
    }
  };
}
