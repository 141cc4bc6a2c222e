/**
 * `GET /account`: the account page (a session is required; otherwise 303 to
 * the sign-in page, which comes back here). Its forms:
 *   - `POST /account/unlink/:provider` removes a sign-in method, never the last,
 *   - `POST /account/passkeys/:id/remove` removes a passkey, never the last method
 *     (adding one needs the passkey script: routes/passkey.ts),
 *   - `POST /account/sessions/:id/revoke` signs one of the user's sessions out,
 *   - `POST /account/apps/:clientId/revoke` ends an OAuth application's
 *     access (its grants and refresh tokens),
 *   - `POST /account/orgs/:org/providers/facebook/disconnect` retires the
 *     Facebook tokens (user and Pages) the user connected to an organization
 *     they own or administer.
 *
 * Each POST: the Origin must be this site's own (not an SPA origin: these
 * are the user's own settings) before any cookie is read; the session is
 * proven without rotating anything (`identifySession`); the write is ONE
 * statement that checks ownership itself; the answer is a 303 back.
 */
import type { MiddlewareHandler } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { accountOverview, disconnectProviderForSession, unlinkAccount } from "../db/account";
import { revokeUserApp } from "../db/oauth-grants";
import { removePasskey } from "../db/passkeys";
import { revokeSessions } from "../db/sessions";
import { GatehouseError } from "../error";
import { denySessions } from "../kv/denylist";
import { pageSecurityHeaders } from "../lib/security-headers";
import { limitBody, methodNotAllowed, noStore } from "../middleware/csrf";
import { parseOrgRef } from "../orgs/slugs";
import { ACCOUNT_NOTICES, AccountPage, type AccountNotice } from "../pages/account";
import { clearSessionCookies } from "../sessions/browser-session";
import { identifySession, resolveSession } from "../sessions/resolve";
import { denySessionIds } from "../sessions/revoke";
import { passkeyScriptUrl } from "./assets";

/** Denylists OAuth families' ids for as long as their access tokens live. */
async function denyFamilies(c: Parameters<typeof denySessionIds>[0], ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  try {
    await denySessions(c.var.kv, ids, c.var.config.sessions.accessTokenTtlSeconds + 60);
  } catch (error) {
    throw new GatehouseError("StorageUnavailable", "The revocation could not be propagated; try again.", { cause: error });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Provider ids are config ids (`github`, an OIDC instance id); anything else names nothing. */
const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const MAX_FORM_LENGTH = 4096;

/** Where an anonymous visitor is sent: sign in, then come back here. */
export const ACCOUNT_SIGNIN_PATH = "/auth/signin?redirect_to=%2Faccount";

/**
 * Unsafe methods must come from a page of this very site: `Origin` equal to
 * AUTH_URL's origin. Missing, `null` (e.g. under `Referrer-Policy:
 * no-referrer`) or any other origin, SPA origins included, is a 403.
 *
 * @example
 * account.post("/unlink/:provider", requireOwnOrigin(), handler);
 */
export function requireOwnOrigin(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.header("origin") !== c.var.config.authUrl.origin) {
      throw new GatehouseError("Forbidden", "Account changes must be made from the account page.");
    }
    await next();
  };
}

/** The urlencoded form of the body; another content type counts as an empty form. */
async function formFields(request: Request): Promise<URLSearchParams> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) return new URLSearchParams();
  // arrayBuffer + decode: workerd warns when .text() reads a non-text content type.
  const body = await request.arrayBuffer();
  if (body.byteLength > MAX_FORM_LENGTH) throw new GatehouseError("InvalidRequest", "The form is too large.");
  return new URLSearchParams(new TextDecoder().decode(body));
}

function noticeFrom(value: string | undefined): AccountNotice | null {
  return value !== undefined && Object.hasOwn(ACCOUNT_NOTICES, value) ? (value as AccountNotice) : null;
}

export const account = new Hono<AppEnv>()
  .use(noStore())
  .get("/", async (c) => {
    const session = await resolveSession(c);
    if (!session) return c.redirect(ACCOUNT_SIGNIN_PATH, 303);
    const overview = await accountOverview(await c.var.db(), session.userId);
    const user = overview.user;
    // A deleted or disabled user's session JWT may outlive the user by minutes.
    if (!user) return c.redirect(ACCOUNT_SIGNIN_PATH, 303);
    const config = c.var.config;
    const passkeyScript = config.passkeys ? passkeyScriptUrl(config) : undefined;
    const html = AccountPage({
      overview: { ...overview, user },
      currentSessionId: session.sessionId,
      providers: config.providers.map((p) => ({ id: p.id, name: p.name })),
      accountUrl: new URL("/account", config.authUrl).href,
      notice: noticeFrom(c.req.query("notice")),
      passkeyScript,
      t: c.var.t,
    });
    return c.html("<!doctype html>" + String(html), 200, pageSecurityHeaders({ hasForms: true, linksToProviders: true, script: passkeyScript }));
  })
  .post("/unlink/:provider", requireOwnOrigin(), limitBody(MAX_FORM_LENGTH), async (c) => {
    const provider = c.req.param("provider");
    const form = await formFields(c.req.raw);
    const accountId = form.get("account")?.toLowerCase() ?? null;
    if (accountId !== null && !UUID.test(accountId)) {
      throw new GatehouseError("InvalidRequest", "The account field is not an account id.", { extra: { field: "account" } });
    }
    const proof = await identifySession(c);
    if (!proof) throw new GatehouseError("Unauthorized", "Sign in first.");
    if (!PROVIDER_ID.test(provider)) throw new GatehouseError("NotFound", "There is no such linked account.");
    const result = await unlinkAccount(await c.var.db(), proof, { provider, accountId, context: c.var.request });
    switch (result.outcome) {
      case "unauthorized":
        throw new GatehouseError("Unauthorized", "Sign in first.");
      case "not_found":
        throw new GatehouseError("NotFound", "There is no such linked account.");
      case "last_method":
        throw new GatehouseError("LastSignInMethod", "The only sign-in method cannot be removed.");
      case "unlinked":
        // Sessions created through the unlinked identity ended in the same statement.
        await denySessionIds(c, result.revokedSessions);
        if (result.revokedSessions.includes(proof.sessionId)) {
          clearSessionCookies(c);
          return c.redirect("/auth/signin", 303);
        }
        return c.redirect("/account?notice=unlinked", 303);
    }
  })
  .post("/passkeys/:id/remove", requireOwnOrigin(), async (c) => {
    const id = c.req.param("id").toLowerCase();
    const proof = await identifySession(c);
    if (!proof) throw new GatehouseError("Unauthorized", "Sign in first.");
    // Removing works even with passkeys turned off: a user can always clean up.
    const result = UUID.test(id) ? await removePasskey(await c.var.db(), proof, id, c.var.request) : { outcome: "not_found" as const };
    switch (result.outcome) {
      case "unauthorized":
        throw new GatehouseError("Unauthorized", "Sign in first.");
      case "not_found":
        throw new GatehouseError("NotFound", "There is no such passkey.");
      case "last_method":
        throw new GatehouseError("LastSignInMethod", "The only sign-in method cannot be removed.");
      case "removed":
        // Sessions signed in with the passkey ended in the same statement.
        await denySessionIds(c, result.revokedSessions);
        if (result.revokedSessions.includes(proof.sessionId)) {
          clearSessionCookies(c);
          return c.redirect("/auth/signin", 303);
        }
        return c.redirect("/account?notice=passkey_removed", 303);
    }
  })
  .post("/sessions/:id/revoke", requireOwnOrigin(), async (c) => {
    const id = c.req.param("id").toLowerCase();
    const proof = await identifySession(c);
    if (!proof) throw new GatehouseError("Unauthorized", "Sign in first.");
    // A malformed id cannot name a session: same answer as another user's id.
    const revoked = UUID.test(id) ? await revokeSessions(await c.var.db(), proof, { sessionId: id }, { action: "session.revoke", context: c.var.request }) : [];
    if (revoked.length === 0) throw new GatehouseError("NotFound", "There is no such session.");
    await denySessionIds(c, revoked);
    if (id === proof.sessionId) {
      clearSessionCookies(c);
      return c.redirect("/auth/signin", 303);
    }
    return c.redirect("/account?notice=revoked", 303);
  })
  .post("/orgs/:org/providers/facebook/disconnect", requireOwnOrigin(), async (c) => {
    const proof = await identifySession(c);
    if (!proof) throw new GatehouseError("Unauthorized", "Sign in first.");
    const org = parseOrgRef(c.req.param("org"));
    // A malformed reference names no organization: the same 404 as one the user is not in.
    const result = org ? await disconnectProviderForSession(await c.var.db(), proof, { org, provider: "facebook", context: c.var.request }) : null;
    if (!result || (!result.ok && result.refusal === "not_member")) throw new GatehouseError("NotFound", "There is no such organization.");
    if (!result.ok) throw new GatehouseError("Forbidden", "Only owners and admins can disconnect Facebook from this organization.");
    return c.redirect("/account?notice=disconnected", 303);
  })
  .post("/apps/:clientId/revoke", requireOwnOrigin(), async (c) => {
    const clientId = c.req.param("clientId").toLowerCase();
    const proof = await identifySession(c);
    if (!proof) throw new GatehouseError("Unauthorized", "Sign in first.");
    const result = UUID.test(clientId) ? await revokeUserApp(await c.var.db(), proof, clientId, c.var.request) : { revoked: false, familyIds: [] };
    if (!result.revoked) throw new GatehouseError("NotFound", "This application has no access to your account.");
    // Its access tokens carry the family id as `sid`: userinfo refuses them from now on.
    await denyFamilies(c, result.familyIds);
    return c.redirect("/account?notice=app_revoked", 303);
  })
  .all("/", methodNotAllowed("GET"))
  .all("/unlink/:provider", methodNotAllowed("POST"))
  .all("/sessions/:id/revoke", methodNotAllowed("POST"))
  .all("/passkeys/:id/remove", methodNotAllowed("POST"))
  .all("/apps/:clientId/revoke", methodNotAllowed("POST"))
  .all("/orgs/:org/providers/facebook/disconnect", methodNotAllowed("POST"));
