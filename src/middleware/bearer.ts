/**
 * The org API (`/api/orgs…`) takes a user access token minted by
 * `POST /auth/token` for gatehouse's own API (`resource: <AUTH_URL>/api`)
 * as `Authorization: Bearer <jwt>` and checks it the way any backend would
 * (src/tokens/verify-local.ts), plus what only gatehouse can check: the
 * `gatehouse:orgs` scope and the session denylist (`deny:sid:`), fail
 * closed, since these are administrative writes. Tokens minted for
 * ALLOWED_AUDIENCES (other backends) never pass. No cookies are read, so
 * these routes need no CSRF defence; CORS lets ALLOWED_ORIGINS call them
 * without credentials.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { GatehouseError } from "../error";
import { isSessionDenied } from "../kv/denylist";
import { describeError, log } from "../lib/log";
import { enforceRateLimit } from "../lib/rate-limit";
import { gatehouseApiAudience, ORGS_SCOPE } from "../tokens/access-token";
import { verifyAccessTokenLocal } from "../tokens/verify-local";
import { isOAuthClientToken, oauthTokenAllowedAtOwnApi } from "../oauth/resources";
import { isAllowedOrigin } from "./cors";

/** The caller, as its verified access token says. */
export interface BearerCaller {
  userId: string;
  /** The browser session the token was minted from (checked against the denylist). */
  sessionId: string;
  /** `act.sub`: the operator acting as the user (an impersonated session's token), else null. */
  actorId: string | null;
  /** Whether an OAuth application holds the token (granted by the user at the consent page), not the user's own browser. */
  viaOAuthClient: boolean;
}

/** AppEnv plus the verified caller: what handlers behind {@link requireBearer} see. */
export interface BearerEnv {
  Bindings: AppEnv["Bindings"];
  Variables: AppEnv["Variables"] & { caller: BearerCaller };
}

const INVALID_TOKEN = { "WWW-Authenticate": 'Bearer error="invalid_token"' };
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Requires a valid access token for gatehouse's own API; sets `c.var.caller`.
 * A missing, malformed, expired, foreign-audience, sid-less or signed-out
 * (denylisted) token is a 401 with `WWW-Authenticate: Bearer
 * error="invalid_token"`; one without `gatehouse:orgs` is a 403
 * `insufficient_scope`; an unreadable denylist is a 503 `StorageUnavailable`.
 * All before any database work.
 *
 * @example
 * orgs.get("/", requireBearer(), (c) => c.json({ me: c.var.caller.userId }));
 */
export function requireBearer(requiredScope: string = ORGS_SCOPE): MiddlewareHandler<BearerEnv> {
  return async (c, next) => {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(c.req.header("authorization")?.trim() ?? "");
    if (!match?.[1]) throw unauthorized("An access token is required: Authorization: Bearer <token>.");
    const result = await verifyAccessTokenLocal(c.var.config, match[1], gatehouseApiAudience(c.var.config.authUrl));
    if (!result.ok) throw unauthorized("The access token is not valid.");
    // An OAuth client's token is for the resource the user granted it, not for this API
    // (unless that resource is this API itself: docs/oauth-server.md).
    if (isOAuthClientToken(result.claims) && !oauthTokenAllowedAtOwnApi(result.claims, c.var.config.authUrl)) {
      throw unauthorized("This access token was issued to an application for another resource.");
    }
    const { sid, scope } = result.claims;
    if (typeof sid !== "string" || sid === "") throw unauthorized("The access token is not valid.");
    if (typeof scope !== "string" || !scope.split(" ").includes(requiredScope)) {
      throw new GatehouseError("Forbidden", `The access token lacks the ${requiredScope} scope.`, {
        headers: { "WWW-Authenticate": `Bearer error="insufficient_scope", scope="${requiredScope}"` },
      });
    }
    let denied: boolean;
    try {
      denied = await isSessionDenied(c.var.kv, sid, Date.now(), { fresh: true });
    } catch (error) {
      // Fail closed: without the denylist a signed-out session's token could still write.
      log("warn", "denylist_unavailable", describeError(error));
      throw new GatehouseError("StorageUnavailable", "The session could not be checked; try again.", { cause: error });
    }
    if (denied) throw unauthorized("The session this token was minted from has ended.");
    const act = (result.claims as { act?: { sub?: unknown } }).act;
    c.set("caller", { userId: result.claims.sub, sessionId: sid, actorId: typeof act?.sub === "string" ? act.sub : null,
      viaOAuthClient: isOAuthClientToken(result.claims),
    });
    await next();
  };
}

/**
 * CORS for the Bearer API: an origin listed in ALLOWED_ORIGINS (exact match)
 * may send `Authorization` and JSON; no credentials (cookies) are involved.
 *
 * @example
 * orgs.use("*", bearerCors());
 */
export function bearerCors(): MiddlewareHandler<AppEnv> {
  const methods = "GET, POST, PATCH, DELETE";
  return async (c, next) => {
    const origin = c.req.header("origin");
    const allowed = isAllowedOrigin(c.var.config.allowedOrigins, origin);
    if (c.req.method === "OPTIONS") {
      if (!allowed || c.req.header("access-control-request-method") === undefined) {
        throw new GatehouseError("Forbidden", "This origin may not call this endpoint.", { headers: { Vary: "Origin" } });
      }
      return c.body(null, 204, {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": "authorization, content-type",
        "Access-Control-Max-Age": String(PREFLIGHT_MAX_AGE_SECONDS),
        Vary: "Origin",
      });
    }
    await next();
    c.res.headers.append("Vary", "Origin");
    if (allowed) c.res.headers.set("Access-Control-Allow-Origin", origin);
  };
}

/**
 * The org API's per-address limit: 300 requests a minute (the refresh-token
 * limiter's budget: every request may cost a database round trip). Put it
 * after `bearerCors()` so an allowed SPA can read the 429.
 *
 * @example
 * orgs.use(bearerCors()).use(apiRateLimit());
 */
export function apiRateLimit(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await enforceRateLimit(c.var.refreshRateLimiter, "api", c.req.header("cf-connecting-ip"));
    await next();
  };
}

function unauthorized(message: string): GatehouseError {
  return new GatehouseError("Unauthorized", message, { headers: INVALID_TOKEN });
}
