/**
 * Operators are the users named in ADMIN_USER_IDS (src/config.ts); nothing
 * in the database makes anyone an operator, so removing an id from the
 * configuration takes the power away on the next request. Both doors check
 * it on every request: the admin API (a Bearer token with `gatehouse:admin`
 * whose `sub` is an operator) and the `/admin` page (the browser session).
 * A session or token that carries `act` (an impersonation) is never an
 * operator's, even when the impersonated user is one, and neither is an
 * OAuth application's token.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Config } from "../config";
import type { AppEnv } from "../context";
import { GatehouseError } from "../error";
import type { BearerEnv } from "../middleware/bearer";
import { resolveSession, type ResolvedSession } from "../sessions/resolve";

/**
 * Whether `userId` is named in ADMIN_USER_IDS.
 *
 * @example
 * isOperator(c.var.config, session.userId); // false when ADMIN_USER_IDS is unset
 */
export function isOperator(config: Pick<Config, "adminUserIds">, userId: string): boolean {
  return config.adminUserIds.includes(userId.toLowerCase());
}

/**
 * After `requireBearer(ADMIN_SCOPE)`: the caller must be an operator acting
 * as themself with their own browser's token; else 403 `Forbidden`, before
 * any database work.
 *
 * @example
 * adminApi.use(requireBearer(ADMIN_SCOPE), requireOperatorToken());
 */
export function requireOperatorToken(): MiddlewareHandler<BearerEnv> {
  return async (c, next) => {
    const caller = c.var.caller;
    if (caller.actorId !== null) throw new GatehouseError("Forbidden", "An impersonated session cannot use the admin API.");
    if (caller.viaOAuthClient || !isOperator(c.var.config, caller.userId)) {
      throw new GatehouseError("Forbidden", "Only operators can use the admin API.");
    }
    await next();
  };
}

/**
 * The `/admin` page's gate: the browser session of an operator acting as
 * themself. Signed out: `null` (the caller redirects to sign-in). Signed in
 * as anyone else, or impersonating: 403 `Forbidden`.
 *
 * @example
 * const session = await operatorSession(c);
 * if (!session) return c.redirect(ADMIN_SIGNIN_PATH, 303);
 */
export async function operatorSession(c: Context<AppEnv>): Promise<ResolvedSession | null> {
  const session = await resolveSession(c);
  if (!session) return null;
  if (session.actorId !== null) throw new GatehouseError("Forbidden", "End the impersonation first.", { backHref: "/account" });
  if (!isOperator(c.var.config, session.userId)) throw new GatehouseError("Forbidden", "Only operators can open this page.", { backHref: "/account" });
  return session;
}
