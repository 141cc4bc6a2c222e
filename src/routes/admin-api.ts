/**
 * `/api/admin…`: the operators' JSON API (docs/operators.md "Admin"). A
 * Bearer access token for gatehouse's own API with scope `gatehouse:admin`
 * whose `sub` is in ADMIN_USER_IDS (checked on every request), minted from
 * the operator's own browser session (never an impersonated one, never an
 * OAuth application's). Reads are one SELECT or batch; every write is ONE
 * statement carrying its audit row; sessions that end are denylisted.
 * Lists are keyset-paginated with opaque cursors (`next`).
 */
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { requireOperatorToken } from "../admin/operators";
import type { AppEnv } from "../context";
import { searchUsers, userDetail, type SearchPosition } from "../db/admin";
import { deleteUser, disableUser, enableUser, revokeUserSessions, type OperatorAct } from "../db/admin-actions";
import { adminScope, eventPage, eventsStatement } from "../db/audit-read";
import { GatehouseError } from "../error";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { apiRateLimit, bearerCors, requireBearer, type BearerEnv } from "../middleware/bearer";
import { limitBody, methodNotAllowed, noStore } from "../middleware/csrf";
import { isUuid } from "../orgs/slugs";
import { denySessionIds } from "../sessions/revoke";
import { ADMIN_SCOPE } from "../tokens/access-token";
import { eventFilter, eventsJson, limitParam } from "./event-query";
import { adminWebhooks } from "./webhooks";
import { MAX_BODY_LENGTH, uuidParam } from "./org-request";

const bearer = requireBearer(ADMIN_SCOPE);
const operator = requireOperatorToken();
const MAX_QUERY_LENGTH = 200;

function act(c: Context<BearerEnv>): OperatorAct {
  return { operatorId: c.var.caller.userId, context: c.var.request };
}

function noSuchUser(): GatehouseError {
  return new GatehouseError("NotFound", "No such user.");
}

/** Operators may not disable, delete or end the sessions of themselves through these routes. */
function notSelf(c: Context<BearerEnv>, userId: string): void {
  if (userId === c.var.caller.userId) {
    throw new GatehouseError("InvalidRequest", "Operators cannot do this to their own account.", { extra: { field: "userId" } });
  }
}

/**
 * The search query of `/users` and the `/admin` page: `q` (≤ 200
 * characters), `cursor` and `limit`.
 *
 * @example
 * const { q, after, limit } = searchQuery(c);
 */
export function searchQuery(c: Context, defaultLimit = 20): { q: string; after: SearchPosition | null; limit: number } {
  const q = c.req.query("q") ?? "";
  if (q.length > MAX_QUERY_LENGTH) throw new GatehouseError("InvalidRequest", "The q parameter is too long.", { extra: { field: "q" } });
  const cursor = c.req.query("cursor");
  let after: SearchPosition | null = null;
  if (cursor !== undefined) {
    const key = decodeCursor(cursor);
    if (!key || key.length !== 2 || !isUuid(key[1]) || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(key[0]!)) {
      throw new GatehouseError("InvalidRequest", "The cursor parameter is invalid.", { extra: { field: "cursor" } });
    }
    after = { createdAt: key[0]!, id: key[1]! };
  }
  return { q, after, limit: limitParam(c, defaultLimit) };
}

/** A search position as the opaque cursor the next request sends. */
export function searchCursor(next: SearchPosition | null): string | null {
  return next === null ? null : encodeCursor([next.createdAt, next.id]);
}

/**
 * The `/api/admin` route group, mounted by `app.ts`.
 *
 * @example
 * app.route("/api/admin", adminApi);
 */
export const adminApi = new Hono<AppEnv>()
  .use(noStore())
  .use(bearerCors())
  .use(apiRateLimit())
  .use(limitBody(MAX_BODY_LENGTH))
  .get("/users", bearer, operator, async (c) => {
    const query = searchQuery(c);
    const { users, next } = await searchUsers(await c.var.db(), query);
    return c.json({ users, next: searchCursor(next) });
  })
  .get("/users/:userId", bearer, operator, async (c) => {
    const detail = await userDetail(await c.var.db(), uuidParam(c.req.param("userId")));
    if (!detail) throw noSuchUser();
    const { eventsNext, ...rest } = detail;
    return c.json({ ...rest, eventsNext: eventsNext === null ? null : encodeCursor([eventsNext]) });
  })
  .post("/users/:userId/disable", bearer, operator, async (c) => {
    const userId = uuidParam(c.req.param("userId"));
    notSelf(c, userId);
    const result = await disableUser(await c.var.db(), act(c), userId);
    if (!result.found) throw noSuchUser();
    await denySessionIds(c, result.sessionIds);
    return c.json({ user: { id: userId, disabled: true }, changed: result.changed, revokedSessions: result.sessionIds });
  })
  .post("/users/:userId/enable", bearer, operator, async (c) => {
    const userId = uuidParam(c.req.param("userId"));
    const result = await enableUser(await c.var.db(), act(c), userId);
    if (!result.found) throw noSuchUser();
    return c.json({ user: { id: userId, disabled: false }, changed: result.changed });
  })
  .delete("/users/:userId", bearer, operator, async (c) => {
    const userId = uuidParam(c.req.param("userId"));
    notSelf(c, userId);
    const result = await deleteUser(await c.var.db(), act(c), userId);
    if (!result.deleted) throw noSuchUser();
    await denySessionIds(c, result.sessionIds);
    return c.json({ deleted: userId, revokedSessions: result.sessionIds });
  })
  .delete("/users/:userId/sessions", bearer, operator, async (c) => {
    const userId = uuidParam(c.req.param("userId"));
    const revoked = await revokeUserSessions(await c.var.db(), act(c), userId, null);
    await denySessionIds(c, revoked);
    return c.json({ revokedSessions: revoked });
  })
  .delete("/users/:userId/sessions/:sessionId", bearer, operator, async (c) => {
    const userId = uuidParam(c.req.param("userId"));
    const sessionId = uuidParam(c.req.param("sessionId"));
    const revoked = await revokeUserSessions(await c.var.db(), act(c), userId, sessionId);
    if (revoked.length === 0) throw new GatehouseError("NotFound", "No such live session of this user.");
    await denySessionIds(c, revoked);
    return c.json({ revokedSessions: revoked });
  })
  .get("/events", bearer, operator, async (c) => {
    const filter = eventFilter(c);
    const user = c.req.query("user")?.toLowerCase() ?? null;
    const org = c.req.query("org")?.toLowerCase() ?? null;
    if (user !== null && !isUuid(user)) throw new GatehouseError("InvalidRequest", "The user parameter is invalid.", { extra: { field: "user" } });
    if (org !== null && !isUuid(org)) throw new GatehouseError("InvalidRequest", "The org parameter is invalid.", { extra: { field: "org" } });
    const result = await eventsStatement(await c.var.db(), adminScope({ userId: user, orgId: org }), filter);
    return c.json(eventsJson(eventPage(result.rows, filter.limit)));
  })
  .all("/users", methodNotAllowed("GET"))
  .all("/users/:userId", methodNotAllowed("GET, DELETE"))
  .all("/users/:userId/disable", methodNotAllowed("POST"))
  .all("/users/:userId/enable", methodNotAllowed("POST"))
  .all("/users/:userId/sessions", methodNotAllowed("DELETE"))
  .all("/users/:userId/sessions/:sessionId", methodNotAllowed("DELETE"))
  .all("/events", methodNotAllowed("GET"))
  // Global webhook endpoints (docs/operators.md "Webhooks").
  .route("/webhooks", adminWebhooks());
