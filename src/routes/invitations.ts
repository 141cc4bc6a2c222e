/**
 * Invitations (docs/orgs.md, "Invitations"), behind the same Bearer access
 * token as the rest of `/api/orgs` (audience `<AUTH_URL>/api`):
 *
 * - {@link orgInvitations}, mounted under `/api/orgs`: owners and admins
 *   invite an address, list and revoke pending invitations. Inviting reveals
 *   nothing about who holds the address, and is rate-limited per inviter.
 * - {@link invitations}, mounted at `/api/invitations`: the signed-in user
 *   lists the invitations addressed to their verified email and accepts one.
 *
 * Each route is one database round trip, audited in the same statement.
 */
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { acceptInvitation, createInvitation, listInvitations, listMyInvitations, revokeInvitation, type InvitationRefusal } from "../db/invitations";
import { GatehouseError } from "../error";
import { normalizeEmail, MAX_EMAIL_LENGTH } from "../lib/email";
import { enforceKeyedRateLimit } from "../lib/rate-limit";
import { object, oneOf, string, withDefault } from "../lib/shape";
import { apiRateLimit, bearerCors, requireBearer } from "../middleware/bearer";
import { limitBody, methodNotAllowed, noStore, requireJsonBody } from "../middleware/csrf";
import { ROLES } from "../orgs/roles";
import { jsonBody, MAX_BODY_LENGTH, orgParam, refusalError, uuidParam } from "./org-request";

const inviteBody = object({ email: string({ max: MAX_EMAIL_LENGTH }), role: withDefault(oneOf(ROLES), "member") }, { strict: true });

const bearer = requireBearer();
const json = requireJsonBody();

/**
 * `/:org/invitations…` for owners and admins; `orgs.ts` mounts it behind its CORS and body limit.
 *
 * @example
 * orgs.route("/", orgInvitations);
 */
export const orgInvitations = new Hono<AppEnv>()
  .post("/:org/invitations", json, bearer, async (c) => {
    const org = orgParam(c.req.param("org"));
    const body = await jsonBody(c, inviteBody);
    const emailNormalized = normalizeEmail(body.email);
    if (emailNormalized === null) throw new GatehouseError("InvalidRequest", "The email address is invalid.", { extra: { field: "email" } });
    // Per inviter: invitations are addressed to strangers' mailboxes by the inviting app.
    await enforceKeyedRateLimit(c.var.rateLimiter, "invite", `user:${c.var.caller.userId}`);
    const result = await createInvitation(await c.var.db(), { actorId: c.var.caller.userId, org, emailNormalized, role: body.role, context: c.var.request });
    if (!result.ok) throw invitationError(result.refusal);
    return c.json({ invitation: result.value }, 201);
  })
  .get("/:org/invitations", bearer, async (c) => {
    const result = await listInvitations(await c.var.db(), { actorId: c.var.caller.userId, org: orgParam(c.req.param("org")) });
    if (!result.ok) throw invitationError(result.refusal);
    return c.json({ invitations: result.value });
  })
  .delete("/:org/invitations/:invitationId", bearer, async (c) => {
    const org = orgParam(c.req.param("org"));
    const invitationId = uuidParam(c.req.param("invitationId"));
    const result = await revokeInvitation(await c.var.db(), { actorId: c.var.caller.userId, org, invitationId, context: c.var.request });
    if (!result.ok) throw invitationError(result.refusal);
    return c.json({ revoked: result.value.id });
  })
  .all("/:org/invitations", methodNotAllowed("GET, POST"))
  .all("/:org/invitations/:invitationId", methodNotAllowed("DELETE"));

/**
 * `/api/invitations`: the caller's own invitations.
 *
 * @example
 * app.route("/api/invitations", invitations);
 */
export const invitations = new Hono<AppEnv>()
  .use(noStore())
  .use(bearerCors())
  // Inside CORS, so an allowed SPA can read its 429.
  .use(apiRateLimit())
  .use(limitBody(MAX_BODY_LENGTH))
  .get("/", bearer, async (c) => c.json({ invitations: await listMyInvitations(await c.var.db(), c.var.caller.userId) }))
  .post("/:invitationId/accept", bearer, async (c) => {
    const invitationId = uuidParam(c.req.param("invitationId"));
    const result = await acceptInvitation(await c.var.db(), { userId: c.var.caller.userId, invitationId, context: c.var.request });
    if (!result.ok) throw invitationError(result.refusal);
    return c.json({ org: { ...result.value.org, role: result.value.role } });
  })
  .all("/", methodNotAllowed("GET"))
  .all("/:invitationId/accept", methodNotAllowed("POST"));

function invitationError(refusal: InvitationRefusal): GatehouseError {
  if (refusal === "target_not_found") return new GatehouseError("NotFound", "No such invitation.");
  if (refusal === "already_member") return new GatehouseError("AlreadyMember", "This address already belongs to a member.");
  return refusalError(refusal);
}
