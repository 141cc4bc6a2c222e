/**
 * `POST /auth/signout[?scope=all]`: revokes the session (or every session of
 * the user) in one UPDATE, denylists the revoked sids so their session JWTs
 * stop working at the edge, and clears the cookies. Signing out without a
 * session still clears the cookies: it is idempotent.
 *
 * The cookies are cleared only once the denylist write succeeded: after a
 * failed write (503 StorageUnavailable) the browser keeps its session JWT,
 * which still works at the edge, and can retry; the retry denylists it.
 */
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { revokeSessions } from "../db/sessions";
import { GatehouseError } from "../error";
import { wantsHtml } from "../lib/negotiate";
import { credentialedCors } from "../middleware/cors";
import { methodNotAllowed, noStore, requireTrustedOrigin } from "../middleware/csrf";
import { clearSessionCookies } from "../sessions/browser-session";
import { identifySession } from "../sessions/resolve";
import { denySessionIds } from "../sessions/revoke";

export const signout = new Hono<AppEnv>()
  .use(noStore())
  .use(credentialedCors(["POST"]))
  .post("/", requireTrustedOrigin(), async (c) => {
    const scopeParam = c.req.query("scope");
    if (scopeParam !== undefined && scopeParam !== "all") {
      throw new GatehouseError("InvalidRequest", "scope must be omitted or `all`.", { extra: { field: "scope" } });
    }
    const proof = await identifySession(c);
    const revoked = proof ? await revokeSessions(await c.var.db(), proof, scopeParam === "all" ? "all" : "current", { action: "signout", context: c.var.request }) : [];
    // A verified JWT's sid is denied even if its row was already revoked (a retry after a failed write).
    const denied = proof?.kind === "jwt" ? [...revoked, proof.sessionId] : revoked;
    await denySessionIds(c, denied);
    clearSessionCookies(c);
    c.res.headers.set("Clear-Site-Data", '"cookies"');
    if (wantsHtml(c.req.raw)) return c.redirect("/auth/signin", 303);
    return c.json({ signedOut: true, revokedSessions: revoked.length });
  })
  .all("/", methodNotAllowed("POST"));
