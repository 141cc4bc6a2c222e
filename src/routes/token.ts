/**
 * `POST /auth/token`: an access token for an API, for SPAs on ALLOWED_ORIGINS
 * calling with `credentials: "include"`: for an ALLOWED_AUDIENCES backend
 * (the first by default), or, only when named with `resource` (or
 * `audience`) `<AUTH_URL>/api`, for gatehouse's own API with scope
 * `gatehouse:orgs`. Order matters: CORS, then origin and content-type
 * checks, then the body, and only then the cookies, so a refused request
 * never touches the session or the database.
 */
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { rateLimit } from "../middleware/rate-limit";
import { GatehouseError } from "../error";
import { credentialedCors } from "../middleware/cors";
import { limitBody, methodNotAllowed, noStore, requireJsonBody, requireTrustedOrigin } from "../middleware/csrf";
import { orgClaimsFor } from "../orgs/claims";
import { requireSession } from "../sessions/resolve";
import { ADMIN_SCOPE, gatehouseApiAudience, requestedScope, signAccessToken } from "../tokens/access-token";
import { isOperator } from "../admin/operators";

const MAX_BODY_LENGTH = 2048;

export const token = new Hono<AppEnv>()
  .use(noStore())
  .use(credentialedCors(["POST"]))
  // Inside CORS, so an allowed SPA can read its 429 and back off.
  .use(rateLimit("token"))
  .post("/", requireTrustedOrigin(), requireJsonBody(), limitBody(MAX_BODY_LENGTH), async (c) => {
    const config = c.var.config;
    const request = parseTokenRequest(await c.req.text());
    // `resource` (RFC 8707) and `audience` name the same thing; gatehouse's own
    // API is never the default and is granted only when named.
    if (request.resource !== undefined && request.audience !== undefined && request.resource !== request.audience) {
      throw new GatehouseError("InvalidRequest", "resource and audience name different APIs.", { extra: { field: "resource" } });
    }
    const audience = request.resource ?? request.audience ?? config.allowedAudiences[0];
    const ownApi = audience === gatehouseApiAudience(config.authUrl);
    if (typeof audience !== "string" || !(ownApi || config.allowedAudiences.includes(audience))) {
      const field = request.resource !== undefined ? "resource" : "audience";
      throw new GatehouseError("InvalidRequest", "The audience is not one of ALLOWED_AUDIENCES nor gatehouse's own API.", { extra: { field } });
    }
    const scope = requestedScope(request.scope, ownApi ? "gatehouse" : "external");
    if (scope === null) {
      throw new GatehouseError("InvalidRequest", "Unsupported scope.", { extra: { field: "scope" } });
    }
    const s = await requireSession(c);
    // The operators' scope: only for an operator's own session, never for one acting as someone else.
    if (scope.split(" ").includes(ADMIN_SCOPE) && (s.actorId !== null || !isOperator(config, s.userId))) {
      throw new GatehouseError("Forbidden", `Only operators can get the ${ADMIN_SCOPE} scope.`, { extra: { field: "scope" } });
    }
    // With `org`, the token says which organization it acts for and the user's roles
    // there; a non-member gets 403. One read round trip; none without `org`.
    let org: { id: string; roles: string[] } | undefined;
    if (request.org !== undefined) {
      const claims = await orgClaimsFor(await c.var.db(), { userId: s.userId, org: request.org });
      if (!claims) throw new GatehouseError("Forbidden", "You are not a member of this organization.", { extra: { field: "org" } });
      org = { id: claims.org.id, roles: claims.roles };
    }
    // requireTrustedOrigin guarantees an Origin header.
    const clientId = c.req.header("origin") ?? config.authUrl.origin;
    const { token: accessToken, expiresIn } = await signAccessToken(config, {
      userId: s.userId,
      sessionId: s.sessionId,
      audience,
      scope,
      clientId,
      org,
      // An impersonated session's tokens say who acts (RFC 8693) and end with it.
      actorId: s.actorId,
      notAfter: s.actorId === null ? undefined : s.expiresAt,
      now: new Date(),
    });
    return c.json({ access_token: accessToken, token_type: "Bearer", expires_in: expiresIn, scope });
  })
  .all("/", methodNotAllowed("POST"));

/** The JSON body: empty or an object with optional `resource` or `audience`, `scope` and `org` (slug or id). */
function parseTokenRequest(text: string): { resource?: unknown; audience?: unknown; scope?: unknown; org?: unknown } {
  if (text.length > MAX_BODY_LENGTH) throw new GatehouseError("InvalidRequest", "The request body is too large.");
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new GatehouseError("InvalidRequest", "The request body is not valid JSON.");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new GatehouseError("InvalidRequest", "The request body must be a JSON object.");
  }
  const { resource, audience, scope, org } = body as Record<string, unknown>;
  return { resource, audience, scope, org };
}
