/**
 * `GET /auth/events`: the signed-in user's own recent activity (their audit
 * history: sign-ins, sign-outs, linked methods, operators' actions on their
 * account…), newest first, keyset-paginated. Authenticated like
 * `/auth/sessions` (the browser session; SPAs on ALLOWED_ORIGINS with
 * credentials), one round trip (a batch that also proves a refresh-token
 * session), nothing rotated.
 */
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { ownEvents } from "../db/audit-read";
import { ownerOf } from "../db/sessions";
import { GatehouseError } from "../error";
import { credentialedCors } from "../middleware/cors";
import { methodNotAllowed, noStore } from "../middleware/csrf";
import { identifySession } from "../sessions/resolve";
import { eventFilter, eventsJson } from "./event-query";

export const events = new Hono<AppEnv>()
  .use(noStore())
  .use(credentialedCors(["GET"]))
  .get("/", async (c) => {
    const filter = eventFilter(c);
    const proof = await identifySession(c);
    if (!proof) throw new GatehouseError("Unauthorized", "There is no valid session.");
    const page = await ownEvents(await c.var.db(), ownerOf(proof), filter);
    // A refresh proof that failed in SQL names nobody.
    if (!page) throw new GatehouseError("Unauthorized", "There is no valid session.");
    return c.json(eventsJson(page));
  })
  .all("/", methodNotAllowed("GET"));
