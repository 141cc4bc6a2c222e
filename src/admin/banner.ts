/**
 * While an operator acts as a user, EVERY page says so: this middleware
 * puts the impersonation banner (pages/impersonation-banner.tsx) at the top
 * of each HTML response whose request carries an impersonated session JWT
 * (one with `act`, docs/operators.md "Admin"). Doing it here instead of in
 * each page means no page (error and 404 pages included) can forget it.
 * It costs nothing for everyone else: no `act`, no work (the JWT check is
 * cached per isolate), and no database.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { readCookie, SESSION_COOKIE } from "../lib/cookies";
import { ImpersonationBanner } from "../pages/impersonation-banner";
import { verifySessionJwt } from "../tokens/session-jwt";

/** Responses larger than this are left alone (pages are a few KiB). */
const MAX_PAGE_BYTES = 512 * 1024;

/**
 * Adds the banner to HTML answers of impersonated sessions.
 *
 * @example
 * app.use(impersonationBanner());
 */
export function impersonationBanner(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (!(c.res.headers.get("content-type") ?? "").startsWith("text/html")) return;
    const cookie = readCookie(c.req.header("cookie"), SESSION_COOKIE);
    if (cookie.kind !== "present") return;
    const now = new Date();
    const result = await verifySessionJwt(c.var.config, cookie.value, now);
    if (!result.ok || !result.claims.act || result.claims.sess_exp * 1000 <= now.getTime()) return;
    const html = await c.res.text();
    if (html.length > MAX_PAGE_BYTES || !html.includes("<body>")) return;
    const claims = result.claims;
    const banner = String(ImpersonationBanner({ who: claims.email ?? claims.name ?? claims.sub, until: new Date(claims.sess_exp * 1000), t: c.var.t }));
    const headers = new Headers(c.res.headers);
    headers.delete("content-length");
    // The page now has a POST form: under `no-referrer` its Origin would be `null` and the
    // Origin check would refuse it (lib/security-headers.ts, pageSecurityHeaders).
    headers.set("Referrer-Policy", "same-origin");
    const status = c.res.status;
    // Unset first: assigning over a response merges its old headers (a stale Content-Length among them).
    c.res = undefined;
    c.res = new Response(html.replace("<body>", `<body>${banner}`), { status, headers });
  };
}
