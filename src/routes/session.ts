/**
 * `GET /auth/session`: the signed-in user and session, for pages and SPAs.
 * With a valid session JWT this is answered from the JWT alone (0 database
 * round trips), so `user` holds what the JWT carries: id, email, name and
 * image as of the last refresh (at most SESSION_TTL_SECONDS old), and
 * `emailVerified`: apps must never authorize by an unverified address.
 */
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { credentialedCors } from "../middleware/cors";
import { methodNotAllowed, noStore } from "../middleware/csrf";
import { requireSession } from "../sessions/resolve";

export const session = new Hono<AppEnv>()
  .use(noStore())
  .use(credentialedCors(["GET"]))
  .get("/", async (c) => {
    const s = await requireSession(c);
    return c.json({
      user: { id: s.userId, email: s.profile.email, emailVerified: s.profile.emailVerified, name: s.profile.name, image: s.profile.image },
      session: { id: s.sessionId, expiresAt: s.expiresAt.toISOString() },
    });
  })
  .all("/", methodNotAllowed("GET"));
