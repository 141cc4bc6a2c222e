/**
 * The gatehouse application: middleware order, routes and the single
 * `onError`. Order matters:
 *   0. the request context, then the request log line (observability/),
 *      whose scope gives every log line the request id,
 *   1. security headers on every response (set after the handler runs),
 *   2. the whole Cookie header bounded (431 HeaderTooLarge),
 *   3. configuration parsed once per request; nothing past this reads `env`,
 *   4. per-IP rate limits on the sign-in start and callback,
 *   5. routes (each route group adds its own CORS/CSRF middleware),
 *   6. the single onError, rendering JSON or the error page.
 */
import { Hono } from "hono/tiny";
import { configFor } from "./config";
import type { AppEnv } from "./context";
import { databaseFor } from "./db/client";
import { classifyDatabaseError } from "./db/errors";
import { ConfigurationError, GatehouseError } from "./error";
import { LANGUAGE_COOKIE, langQuery, languageOf, MESSAGES } from "./i18n";
import { serializeCookie } from "./lib/cookies";
import { describeError, log } from "./lib/log";
import { requestContext } from "./lib/request-context";
import { renderError } from "./pages/render-error";
import { securityHeaders } from "./lib/security-headers";
import { limitCookieHeader } from "./middleware/cookie-header";
import { count } from "./observability/metrics";
import { requestLog } from "./observability/request-log";
import { routeOf } from "./observability/route";
import { rateLimit } from "./middleware/rate-limit";
import { oauthRegister } from "./routes/oauth-register";
import { account } from "./routes/account";
import { admin } from "./routes/admin";
import { adminApi } from "./routes/admin-api";
import { events } from "./routes/events";
import { impersonationBanner } from "./admin/banner";
import { assets } from "./routes/assets";
import { callback } from "./routes/callback";
import { email, sendEmailBinding } from "./routes/email";
import { errorPage } from "./routes/error-page";
import { health } from "./routes/health";
import { home } from "./routes/home";
import { link } from "./routes/link";
import { oauthAuthorize } from "./routes/oauth-authorize";
import { oauthToken } from "./routes/oauth-token";
import { oauthUserinfo } from "./routes/oauth-userinfo";
import { passkey } from "./routes/passkey";
import { orgs } from "./routes/orgs";
import { invitations } from "./routes/invitations";
import { session } from "./routes/session";
import { sessions } from "./routes/sessions";
import { signin } from "./routes/signin";
import { signout } from "./routes/signout";
import { token } from "./routes/token";
import { wellKnown } from "./routes/well-known";

/**
 * Builds the Hono app. `index.ts` exports its `fetch`.
 *
 * @example
 * const app = createApp();
 * const res = await app.request("/health", {}, env);
 */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Request id, client address and the rest, read once: audit rows and log lines carry them.
  app.use(async (c, next) => {
    c.set("request", requestContext(c.req.raw));
    await next();
  });
  // One JSON line per request (route, status, duration, error code); every log() inside carries the request id.
  app.use(requestLog());
  // Every response gets the common headers; every text/html one (pages, error pages, 404s) the CSP and friends.
  app.use(securityHeaders());
  // Before anything parses cookies: an oversized Cookie header is refused outright.
  app.use(limitCookieHeader());
  // The page language; an explicit `?lang=` is remembered for a year (i18n/index.ts).
  app.use(async (c, next) => {
    const lang = languageOf(c.req.raw);
    c.set("lang", lang);
    c.set("t", MESSAGES[lang]);
    await next();
    if (langQuery(c.req.raw) === lang) c.res.headers.append("Set-Cookie", serializeCookie(LANGUAGE_COOKIE, lang, 365 * 86400));
  });

  app.use(async (c, next) => {
    const result = configFor(c.env);
    if (!result.ok) throw new ConfigurationError(result.problems);
    const config = result.config;
    c.set("config", config);
    c.set("db", () => databaseFor(config));
    c.set("kv", c.env.AUTH_KV);
    c.set("rateLimiter", c.env.AUTH_RATE_LIMITER);
    c.set("refreshRateLimiter", c.env.AUTH_REFRESH_RATE_LIMITER);
    c.set("emailRateLimiter", c.env.AUTH_EMAIL_RATE_LIMITER);
    c.set("sendEmail", sendEmailBinding(c.env));
    await next();
  });

  // While an operator acts as a user, every page carries the banner (admin/banner.ts).
  app.use(impersonationBanner());

  app.use("/auth/signin/*", rateLimit("signin"));
  app.use("/auth/callback/*", rateLimit("callback"));
  // /auth/token is limited inside its route, after CORS (src/routes/token.ts).

  app.route("/", home);
  app.route("/health", health);
  app.route("/auth/error", errorPage);
  app.route("/.well-known", wellKnown);
  app.route("/auth/session", session);
  app.route("/auth/sessions", sessions);
  app.route("/auth/events", events);
  app.route("/auth/token", token);
  app.route("/auth/signout", signout);
  app.route("/auth/signin", signin);
  app.route("/auth/callback", callback);
  app.route("/auth/email", email);
  app.route("/auth/passkey", passkey);
  app.route("/assets", assets);
  app.route("/auth/link", link);
  app.route("/account", account);
  app.route("/api/orgs", orgs);
  app.route("/api/admin", adminApi);
  app.route("/admin", admin);
  // gatehouse as an OAuth 2.1 authorization server / OpenID Provider (docs/oauth-server.md).
  app.route("/oauth", oauthAuthorize);
  app.route("/oauth", oauthToken);
  app.route("/oauth", oauthUserinfo);
  app.route("/oauth", oauthRegister);
  app.route("/api/invitations", invitations);

  app.notFound((c) => {
    c.set("errorCode", "NotFound");
    return renderError(c.req.raw, "NotFound");
  });

  app.onError((error, c) => {
    const known = error instanceof GatehouseError ? error : classifyDatabaseError(error);
    const code = known?.code ?? "Internal";
    c.set("errorCode", code);
    const provider = known?.extra.provider;
    count(c, { event: "failure", code, provider: typeof provider === "string" ? provider : undefined });
    if (known) {
      if (known instanceof ConfigurationError) {
        log("error", "configuration_invalid", { problems: known.problems.map((p) => `${p.variable}:${p.problem}`).join(",") });
      } else if (known.status >= 500) {
        log("error", "request_failed", { code: known.code, route: routeOf(c), ...describeError(known.cause) });
      }
      return renderError(c.req.raw, known.code, { extra: known.extra, headers: known.headers, backHref: known.backHref });
    }
    log("error", "unhandled_error", { route: routeOf(c), ...describeError(error) });
    return renderError(c.req.raw, "Internal");
  });

  return app;
}
