/**
 * `GET/POST /oauth/userinfo` (OIDC Core §5.3): the signed-in user's claims
 * for an OAuth access token gatehouse issued with the `openid` scope. The
 * token must not be revoked (KV denylist by `jti`, and by `sid` for its
 * grant) and the user must still be enabled (one SELECT). An unreadable
 * denylist fails closed: 503 `StorageUnavailable`, never the claims.
 */
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { cors } from "hono/cors";
import type { AppEnv } from "../context";
import { userForUserinfo } from "../db/oauth-tokens";
import { GatehouseError } from "../error";
import { isSessionDenied, isTokenDenied } from "../kv/denylist";
import { describeError, log } from "../lib/log";
import { methodNotAllowed } from "../middleware/csrf";
import { identityClaims, verifyOwnAccessToken } from "../tokens/oauth";

function bearerError(c: Context<AppEnv>, status: 401 | 403, error: "invalid_token" | "insufficient_scope"): Response {
  const header = status === 401 && error === "invalid_token" && !c.req.header("authorization") ? 'Bearer realm="gatehouse"' : `Bearer realm="gatehouse", error="${error}"`;
  return c.json({ error }, status, { "WWW-Authenticate": header, "Cache-Control": "no-store" });
}

async function userinfo(c: Context<AppEnv>): Promise<Response> {
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(c.req.header("authorization") ?? "");
  if (!m?.[1]) return bearerError(c, 401, "invalid_token");
  const claims = await verifyOwnAccessToken(c.var.config, m[1], new Date());
  if (!claims || claims.clientId === null) return bearerError(c, 401, "invalid_token");
  if (!claims.scope.split(" ").includes("openid")) return bearerError(c, 403, "insufficient_scope");
  let denied: boolean;
  try {
    denied = (await isTokenDenied(c.var.kv, claims.jti)) || (claims.sid !== null && (await isSessionDenied(c.var.kv, claims.sid, Date.now())));
  } catch (error) {
    // Fail closed: without the denylist a revoked token's claims could still be read.
    log("warn", "denylist_unavailable", describeError(error));
    throw new GatehouseError("StorageUnavailable", "The token could not be checked; try again.", { cause: error });
  }
  if (denied) return bearerError(c, 401, "invalid_token");
  const user = await userForUserinfo(await c.var.db(), claims.sub);
  if (!user) return bearerError(c, 401, "invalid_token");
  return c.json({ sub: user.id, ...identityClaims(user, claims.scope.split(" ")) }, 200, { "Cache-Control": "no-store" });
}

export const oauthUserinfo = new Hono<AppEnv>()
  .use("/userinfo", cors({ origin: "*", allowMethods: ["GET", "POST"], allowHeaders: ["Authorization"], maxAge: 600 }))
  .get("/userinfo", userinfo)
  .post("/userinfo", userinfo)
  .all("/userinfo", methodNotAllowed("GET, POST"));
