/**
 * `GET /auth/sessions` lists the caller's live sessions; `DELETE
 * /auth/sessions/:id` revokes one of them. Each is one query that proves
 * ownership itself (`WHERE user_id = <caller>`), and neither rotates the
 * refresh token.
 */
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { listActiveSessions, revokeSessions } from "../db/sessions";
import { GatehouseError } from "../error";
import { credentialedCors } from "../middleware/cors";
import { methodNotAllowed, noStore, requireTrustedOrigin } from "../middleware/csrf";
import { clearSessionCookies } from "../sessions/browser-session";
import { identifySession } from "../sessions/resolve";
import { denySessionIds } from "../sessions/revoke";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const sessions = new Hono<AppEnv>()
  .use(noStore())
  .use(credentialedCors(["GET", "DELETE"]))
  .get("/", async (c) => {
    const proof = await identifySession(c);
    if (!proof) throw new GatehouseError("Unauthorized", "There is no valid session.");
    const list = await listActiveSessions(await c.var.db(), proof);
    // A refresh proof that failed in SQL matches no rows (a valid one lists at least its own session).
    if (proof.kind === "refresh" && list.length === 0) throw new GatehouseError("Unauthorized", "There is no valid session.");
    return c.json({
      sessions: list.map((s) => ({
        id: s.id,
        createdAt: s.createdAt.toISOString(),
        lastUsedAt: s.lastUsedAt.toISOString(),
        ip: s.ip,
        userAgent: s.userAgent,
        current: s.id === proof.sessionId,
      })),
    });
  })
  .delete("/:id", requireTrustedOrigin(), async (c) => {
    const id = c.req.param("id").toLowerCase();
    const proof = await identifySession(c);
    if (!proof) throw new GatehouseError("Unauthorized", "There is no valid session.");
    // A malformed id cannot name a session: same answer as another user's id.
    const revoked = UUID.test(id) ? await revokeSessions(await c.var.db(), proof, { sessionId: id }, { action: "session.revoke", context: c.var.request }) : [];
    if (revoked.length === 0) throw new GatehouseError("NotFound", "There is no such session.");
    await denySessionIds(c, revoked);
    if (id === proof.sessionId) clearSessionCookies(c);
    return c.json({ revoked: id });
  })
  .all("/", methodNotAllowed("GET"))
  .all("/:id", methodNotAllowed("DELETE"));
