/**
 * The route pattern a request was answered by (`/api/orgs/:org/members`),
 * for log lines and counters: never the raw path or query string, which can
 * carry codes, tokens or email addresses.
 */
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";

/**
 * The pattern of the handler that answered. When a middleware answered
 * instead (a 429 from a rate limit, a 401 from the Bearer check) it is the
 * handler the request was headed for; when nothing matched (a 404), the
 * widest middleware pattern that saw it, such as `/*`.
 *
 * @example
 * app.use(async (c, next) => { await next(); console.log(routeOf(c)); }); // "/auth/callback/:provider"
 */
export function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  const index = c.req.routeIndex;
  const current = routes[index]?.path ?? "";
  if (!current.endsWith("*")) return current;
  // A middleware (pattern ending in `*`) ended the request: name the handler it guarded, if any.
  for (let i = routes.length - 1; i > index; i--) {
    const path = routes[i]!.path;
    if (!path.endsWith("*")) return path;
  }
  return current;
}
