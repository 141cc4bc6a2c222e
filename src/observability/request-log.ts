/**
 * One structured log line per request, written when the response is ready:
 *
 *   {"level":"info","event":"request","requestId":"8f1c…-ICN","method":"GET",
 *    "route":"/api/orgs/:org/members","status":200,"durationMs":38,"country":"KR"}
 *
 * `route` is the matched pattern, never the URL (query strings carry codes
 * and tokens); `errorCode` is the GatehouseError code `app.onError` rendered.
 * Every other `log()` line written while the request runs carries the same
 * `requestId` (lib/log.ts). Levels: 5xx error, 429 warn, other 4xx and the
 * rest info. Workers' clock advances only on I/O, so `durationMs` is time
 * spent waiting (database, KV, providers), not CPU.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { log, withLogFields } from "../lib/log";
import { routeOf } from "./route";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * The request-log middleware; mounted right after the request context.
 * Also hands the optional Analytics Engine binding to the counters.
 *
 * @example
 * app.use(requestLog());
 */
export function requestLog(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = Date.now();
    const { requestId, country } = c.var.request;
    c.set("analytics", c.env.AUTH_ANALYTICS);
    await withLogFields({ requestId }, next);
    const status = c.res.status;
    log(status >= 500 ? "error" : status === 429 ? "warn" : "info", "request", {
      requestId,
      method: METHODS.has(c.req.method) ? c.req.method : "OTHER",
      route: routeOf(c),
      status,
      durationMs: Date.now() - started,
      errorCode: c.var.errorCode,
      country,
    });
  };
}
