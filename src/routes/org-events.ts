/**
 * `GET /api/orgs/:org/events`: an organization's audit events, for its
 * owners and admins (Bearer, `gatehouse:orgs`). The caller's role and the
 * page of events are read in ONE round trip (a batch); the events SELECT
 * itself matches nothing unless the caller is an owner or admin, so a
 * member gets 403 and a stranger 404 with nothing read for either.
 */
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { eventPage, eventsStatement, orgRoleStatement, orgScope } from "../db/audit-read";
import { GatehouseError } from "../error";
import { requireBearer } from "../middleware/bearer";
import { eventFilter, eventsJson } from "./event-query";
import { orgNotFound, orgParam } from "./org-request";

/**
 * Mounted inside the `/api/orgs` group (routes/orgs.ts), after its CORS and rate limit.
 *
 * @example
 * orgs.route("/", orgEvents);
 */
export const orgEvents = new Hono<AppEnv>().get("/:org/events", requireBearer(), async (c) => {
  const ref = orgParam(c.req.param("org"));
  const filter = eventFilter(c);
  const me = c.var.caller.userId;
  const db = await c.var.db();
  const [role, events] = await db.batch([orgRoleStatement(db, me, ref), eventsStatement(db, orgScope(me, ref), filter)]);
  const mine = (role.rows[0] as { role?: string } | undefined)?.role;
  if (mine === undefined) throw orgNotFound();
  if (mine !== "owner" && mine !== "admin") throw new GatehouseError("Forbidden", "Only owners and admins can read the organization's events.");
  return c.json(eventsJson(eventPage(events.rows, filter.limit)));
});
