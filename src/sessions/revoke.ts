/**
 * Revocation reaches the edge through the KV denylist: the database row is
 * the truth for refresh tokens, the denylist stops session JWTs that are
 * still within their lifetime.
 */
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { GatehouseError } from "../error";
import { denySessions } from "../kv/denylist";
import { describeError, log } from "../lib/log";
import { SESSION_CLOCK_TOLERANCE_SECONDS } from "../tokens/session-jwt";

/**
 * Denylists session ids for as long as a session JWT or an access token
 * naming them can still be accepted (the longer lifetime plus the clock
 * tolerance). Awaited; a refused write is tried once more (the puts are
 * idempotent), then it is a 503 `StorageUnavailable`, logged, never skipped silently.
 *
 * @example
 * await denySessionIds(c, revokedIds);
 */
export async function denySessionIds(c: { var: Pick<Context<AppEnv>["var"], "config" | "kv"> }, sessionIds: readonly string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  // Session JWTs and the access tokens minted from the session (checked by gatehouse's own API) both name the sid.
  const { sessionTtlSeconds, accessTokenTtlSeconds } = c.var.config.sessions;
  const ttl = Math.max(sessionTtlSeconds, accessTokenTtlSeconds) + SESSION_CLOCK_TOLERANCE_SECONDS;
  try {
    await denySessions(c.var.kv, sessionIds, ttl);
  } catch (first) {
    log("warn", "denylist_write_retried", { count: sessionIds.length, ...describeError(first) });
    try {
      await denySessions(c.var.kv, sessionIds, ttl);
    } catch (error) {
      log("error", "denylist_write_failed", { count: sessionIds.length, ...describeError(error) });
      throw new GatehouseError("StorageUnavailable", "The sign-out could not be propagated; try again.", { cause: error });
    }
  }
}
