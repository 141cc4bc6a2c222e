/**
 * `/api/orgs…`: organizations and memberships for signed-in users, with a
 * Bearer access token from `POST /auth/token`. Each route is one database
 * round trip, whose statement also checks the caller's membership and role.
 * The service-client token reads are mounted from `org-tokens.ts`.
 */
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { changeMemberRole, removeMember } from "../db/org-members";
import { createOrg, getOrgForMember, listMembers, listOrgsForUser } from "../db/orgs";
import { listPagesForMember } from "../db/pages";
import { GatehouseError } from "../error";
import { object, oneOf, optional, string } from "../lib/shape";
import { apiRateLimit, bearerCors, requireBearer } from "../middleware/bearer";
import { limitBody, methodNotAllowed, noStore, requireJsonBody } from "../middleware/csrf";
import { ROLES } from "../orgs/roles";
import { slugCandidates, slugProblem } from "../orgs/slugs";
import { orgClients } from "./oauth-clients";
import { orgEvents } from "./org-events";
import { orgFacebook } from "./org-facebook";
import { orgInvitations } from "./invitations";
import { orgTokens } from "./org-tokens";
import { orgWebhooks } from "./webhooks";
import { jsonBody, MAX_BODY_LENGTH, orgNotFound, orgParam, refusalError, uuidParam } from "./org-request";

// Printable text without control characters; trimmed.
const orgName = string({ trim: true, min: 1, max: 100, pattern: /^[^\p{Cc}\p{Cf}]+$/u });
const createOrgBody = object({ name: orgName, slug: optional(string({ max: 64 })) }, { strict: true });
const changeRoleBody = object({ role: oneOf(ROLES) }, { strict: true });

const bearer = requireBearer();
const json = requireJsonBody();

/**
 * The `/api/orgs` route group, mounted by `app.ts`.
 *
 * @example
 * app.route("/api/orgs", orgs);
 */
export const orgs = new Hono<AppEnv>()
  .use(noStore())
  // Service clients first: their routes must never fall through to the Bearer ones.
  .route("/", orgTokens)
  .use(bearerCors())
  // Per address, inside CORS so an allowed SPA can read its 429 (service clients are limited in org-tokens.ts).
  .use(apiRateLimit())
  // Bounded while read, as /auth/token is: a Bearer caller cannot make the isolate buffer megabytes.
  .use(limitBody(MAX_BODY_LENGTH))
  .route("/", orgFacebook)
  .route("/", orgClients)
  // People join by invitation only (routes/invitations.ts); nobody is added by email.
  .route("/", orgInvitations)
  .route("/", orgWebhooks)
  // Owners and admins read their organization's audit events.
  .route("/", orgEvents)
  .get("/", bearer, async (c) => {
    return c.json({ orgs: await listOrgsForUser(await c.var.db(), c.var.caller.userId) });
  })
  .post("/", json, bearer, async (c) => {
    const body = await jsonBody(c, createOrgBody);
    if (body.slug !== undefined) {
      const problem = slugProblem(body.slug);
      if (problem) throw new GatehouseError("InvalidRequest", "The slug is invalid.", { extra: { field: "slug", reason: problem } });
    }
    const result = await createOrg(await c.var.db(), { userId: c.var.caller.userId, name: body.name, slugs: slugCandidates(body), context: c.var.request });
    if (!result.ok) {
      if (result.reason === "slug_taken") throw new GatehouseError("SlugTaken", "This slug is taken.", { extra: { field: "slug" } });
      throw new GatehouseError("AccessDenied", "This account cannot create organizations.");
    }
    return c.json({ org: result.org }, 201);
  })
  .get("/:org", bearer, async (c) => {
    const org = await getOrgForMember(await c.var.db(), c.var.caller.userId, orgParam(c.req.param("org")));
    if (!org) throw orgNotFound();
    return c.json({ org });
  })
  .get("/:org/members", bearer, async (c) => {
    const members = await listMembers(await c.var.db(), c.var.caller.userId, orgParam(c.req.param("org")));
    if (!members) throw orgNotFound();
    return c.json({ members });
  })
  .patch("/:org/members/:userId", json, bearer, async (c) => {
    const org = orgParam(c.req.param("org"));
    const targetId = uuidParam(c.req.param("userId"));
    const body = await jsonBody(c, changeRoleBody);
    const result = await changeMemberRole(await c.var.db(), { actorId: c.var.caller.userId, org, targetId, role: body.role, context: c.var.request });
    if (!result.ok) throw refusalError(result.refusal);
    return c.json({ member: { userId: result.member.userId, role: result.member.role }, changed: result.changed });
  })
  .delete("/:org/members/:userId", bearer, async (c) => {
    const org = orgParam(c.req.param("org"));
    const targetId = uuidParam(c.req.param("userId"));
    const result = await removeMember(await c.var.db(), { actorId: c.var.caller.userId, org, targetId, context: c.var.request });
    if (!result.ok) throw refusalError(result.refusal);
    return c.json({ removed: result.member.userId });
  })
  .post("/:org/leave", bearer, async (c) => {
    const org = orgParam(c.req.param("org"));
    const me = c.var.caller.userId;
    const result = await removeMember(await c.var.db(), { actorId: me, org, targetId: me, context: c.var.request });
    if (!result.ok) throw refusalError(result.refusal === "target_not_found" ? "not_member" : result.refusal);
    return c.json({ left: true });
  })
  .get("/:org/pages", bearer, async (c) => {
    const pages = await listPagesForMember(await c.var.db(), c.var.caller.userId, orgParam(c.req.param("org")));
    if (!pages) throw orgNotFound();
    return c.json({ pages });
  })
  // A known path with another method is a 405 naming the allowed ones (docs/errors.md), not a 404.
  .all("/", methodNotAllowed("GET, POST"))
  .all("/:org", methodNotAllowed("GET"))
  .all("/:org/members", methodNotAllowed("GET"))
  .all("/:org/members/:userId", methodNotAllowed("PATCH, DELETE"))
  .all("/:org/leave", methodNotAllowed("POST"))
  .all("/:org/pages", methodNotAllowed("GET"))
  .all("/:org/events", methodNotAllowed("GET"))
  .all("/:org/clients", methodNotAllowed("GET, POST"))
  .all("/:org/clients/:clientId", methodNotAllowed("PATCH, DELETE"))
  .all("/:org/clients/:clientId/secret", methodNotAllowed("POST"))
  .all("/:org/providers/facebook/disconnect", methodNotAllowed("POST"))
  .all("/:org/pages/:pageId/token", methodNotAllowed("POST"))
  .all("/:org/members/:userId/provider-tokens/:provider", methodNotAllowed("POST"));
