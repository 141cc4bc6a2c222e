/**
 * `/admin`: the operators' page (docs/operators.md "Admin"), on the
 * browser session of a user named in ADMIN_USER_IDS (checked on every
 * request; an impersonated session is refused). Search, a user's detail,
 * and each action behind a confirmation page whose form POSTs here: the
 * Origin must be this site's own before any cookie is read, the form must
 * say `confirm=yes`, the write is ONE statement with its audit row, and the
 * answer is a 303 back. `POST /admin/impersonation/end` is the banner's
 * button: the impersonated session itself ends there.
 */
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import { operatorSession } from "../admin/operators";
import type { AppEnv } from "../context";
import { searchUsers, userDetail } from "../db/admin";
import { deleteUser, disableUser, enableUser, endImpersonation, revokeUserSessions, startImpersonation, type OperatorAct } from "../db/admin-actions";
import { ownerOf } from "../db/sessions";
import { GatehouseError } from "../error";
import { pageSecurityHeaders } from "../lib/security-headers";
import { limitBody, methodNotAllowed, noStore } from "../middleware/csrf";
import { isUuid } from "../orgs/slugs";
import { ADMIN_ACTIONS, ADMIN_NOTICES, AdminConfirmPage, AdminSearchPage, AdminUserPage, type AdminAction, type AdminNotice } from "../pages/admin";
import { clearSessionCookies, setSessionCookies } from "../sessions/browser-session";
import { mintRefreshToken } from "../sessions/refresh-token";
import { identifySession } from "../sessions/resolve";
import { denySessionIds } from "../sessions/revoke";
import { requireOwnOrigin } from "./account";
import { searchCursor, searchQuery } from "./admin-api";

/** How long an impersonation lasts at most (its session's absolute expiry). */
export const IMPERSONATION_SECONDS = 3600;
/** Where a signed-out visitor is sent: sign in, then come back here. */
export const ADMIN_SIGNIN_PATH = "/auth/signin?redirect_to=%2Fadmin";
const MAX_FORM_LENGTH = 1024;

type Page = ReturnType<typeof AdminSearchPage>;

function html(c: Context<AppEnv>, page: Page) {
  return c.html("<!doctype html>" + String(page), 200, pageSecurityHeaders({ hasForms: true }));
}

function noticeFrom(value: string | undefined): AdminNotice | null {
  return value !== undefined && Object.hasOwn(ADMIN_NOTICES, value) ? (value as AdminNotice) : null;
}

function userParam(value: string | undefined): string {
  const id = value?.toLowerCase();
  if (!isUuid(id)) throw new GatehouseError("NotFound", "No such user.", { backHref: "/admin" });
  return id;
}

/** The confirmed form of an action (`confirm=yes`), with its optional `session` id. */
async function confirmedForm(c: Context<AppEnv>): Promise<{ session: string | null }> {
  const type = c.req.header("content-type") ?? "";
  const body = type.toLowerCase().startsWith("application/x-www-form-urlencoded") ? new TextDecoder().decode(await c.req.arrayBuffer()) : "";
  const form = new URLSearchParams(body);
  if (form.get("confirm") !== "yes") throw new GatehouseError("InvalidRequest", "Confirm the action first.", { extra: { field: "confirm" }, backHref: "/admin" });
  const session = form.get("session")?.toLowerCase() ?? null;
  if (session !== null && !isUuid(session)) throw new GatehouseError("InvalidRequest", "The session field is invalid.", { extra: { field: "session" } });
  return { session };
}

/** The operator of an action POST (a 401 when signed out, 403 for anyone else). */
async function operatorAct(c: Context<AppEnv>): Promise<OperatorAct> {
  const session = await operatorSession(c);
  if (!session) throw new GatehouseError("Unauthorized", "Sign in first.");
  return { operatorId: session.userId, context: c.var.request };
}

function notSelf(op: OperatorAct, userId: string): void {
  if (op.operatorId === userId) throw new GatehouseError("InvalidRequest", "Operators cannot do this to their own account.", { backHref: "/admin" });
}

function noSuchUser(): GatehouseError {
  return new GatehouseError("NotFound", "No such user.", { backHref: "/admin" });
}

const own = requireOwnOrigin();
const bounded = limitBody(MAX_FORM_LENGTH);

export const admin = new Hono<AppEnv>()
  .use(noStore())
  .get("/", async (c) => {
    if (!(await operatorSession(c))) return c.redirect(ADMIN_SIGNIN_PATH, 303);
    const query = searchQuery(c);
    const { users, next } = await searchUsers(await c.var.db(), query);
    const cursor = searchCursor(next);
    const nextHref = cursor === null ? null : `/admin?${new URLSearchParams({ q: query.q, cursor }).toString()}`;
    return html(c, AdminSearchPage({ q: query.q, users, nextHref, notice: noticeFrom(c.req.query("notice")), t: c.var.t }));
  })
  .get("/users/:userId", async (c) => {
    if (!(await operatorSession(c))) return c.redirect(ADMIN_SIGNIN_PATH, 303);
    const detail = await userDetail(await c.var.db(), userParam(c.req.param("userId")));
    if (!detail) throw noSuchUser();
    return html(c, AdminUserPage({ detail, notice: noticeFrom(c.req.query("notice")), t: c.var.t }));
  })
  .get("/users/:userId/confirm/:action", async (c) => {
    if (!(await operatorSession(c))) return c.redirect(ADMIN_SIGNIN_PATH, 303);
    const action = c.req.param("action");
    if (!(ADMIN_ACTIONS as readonly string[]).includes(action)) throw new GatehouseError("NotFound", "No such action.", { backHref: "/admin" });
    const session = c.req.query("session")?.toLowerCase() ?? null;
    if (action === "revokeOne" && !isUuid(session)) throw new GatehouseError("InvalidRequest", "Which session?", { extra: { field: "session" } });
    const detail = await userDetail(await c.var.db(), userParam(c.req.param("userId")), 1);
    if (!detail) throw noSuchUser();
    return html(c, AdminConfirmPage({ user: detail.user, action: action as AdminAction, sessionId: action === "revokeOne" ? session : null, t: c.var.t }));
  })
  .post("/users/:userId/disable", own, bounded, async (c) => {
    const userId = userParam(c.req.param("userId"));
    await confirmedForm(c);
    const op = await operatorAct(c);
    notSelf(op, userId);
    const result = await disableUser(await c.var.db(), op, userId);
    if (!result.found) throw noSuchUser();
    await denySessionIds(c, result.sessionIds);
    return c.redirect(`/admin/users/${userId}?notice=disabled`, 303);
  })
  .post("/users/:userId/enable", own, bounded, async (c) => {
    const userId = userParam(c.req.param("userId"));
    await confirmedForm(c);
    const result = await enableUser(await c.var.db(), await operatorAct(c), userId);
    if (!result.found) throw noSuchUser();
    return c.redirect(`/admin/users/${userId}?notice=enabled`, 303);
  })
  .post("/users/:userId/delete", own, bounded, async (c) => {
    const userId = userParam(c.req.param("userId"));
    await confirmedForm(c);
    const op = await operatorAct(c);
    notSelf(op, userId);
    const result = await deleteUser(await c.var.db(), op, userId);
    if (!result.deleted) throw noSuchUser();
    await denySessionIds(c, result.sessionIds);
    return c.redirect("/admin?notice=deleted", 303);
  })
  .post("/users/:userId/revoke", own, bounded, async (c) => {
    const userId = userParam(c.req.param("userId"));
    const { session } = await confirmedForm(c);
    const revoked = await revokeUserSessions(await c.var.db(), await operatorAct(c), userId, session);
    if (session !== null && revoked.length === 0) throw new GatehouseError("NotFound", "No such live session of this user.", { backHref: "/admin" });
    await denySessionIds(c, revoked);
    return c.redirect(`/admin/users/${userId}?notice=revoked`, 303);
  })
  .post("/users/:userId/impersonate", own, bounded, async (c) => {
    const userId = userParam(c.req.param("userId"));
    await confirmedForm(c);
    const op = await operatorAct(c);
    notSelf(op, userId);
    const minted = await mintRefreshToken();
    const started = await startImpersonation(await c.var.db(), op, userId, { ...minted, ttlSeconds: IMPERSONATION_SECONDS });
    // A missing or disabled user: nothing was written.
    if (!started.ok) throw noSuchUser();
    // The operator's browser now holds the user's session, whose tokens say who acts (`act`).
    await setSessionCookies(c, {
      userId,
      sessionId: minted.sessionId,
      refreshToken: minted.token,
      now: new Date(),
      profile: started.profile,
      sessionExpiresAt: started.expiresAt,
      actorId: op.operatorId,
    });
    return c.redirect("/account", 303);
  })
  .post("/impersonation/end", own, async (c) => {
    const proof = await identifySession(c);
    if (!proof) throw new GatehouseError("Unauthorized", "Sign in first.");
    const ended = await endImpersonation(await c.var.db(), c.var.request, proof.sessionId, ownerOf(proof));
    if (!ended) throw new GatehouseError("NotFound", "This session is not an impersonation.", { backHref: "/account" });
    await denySessionIds(c, [proof.sessionId]);
    clearSessionCookies(c);
    return c.redirect(ADMIN_SIGNIN_PATH, 303);
  })
  .all("/", methodNotAllowed("GET"))
  .all("/users/:userId", methodNotAllowed("GET"))
  .all("/users/:userId/confirm/:action", methodNotAllowed("GET"))
  .all("/users/:userId/:action", methodNotAllowed("POST"))
  .all("/impersonation/end", methodNotAllowed("POST"));
