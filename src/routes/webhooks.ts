/**
 * The webhook management API, built once for two mounts: an organization's
 * endpoints under `/api/orgs/:org/webhooks…` (owners and admins, checked in
 * the statement) and the global endpoints under `/api/admin/webhooks…`
 * (operators: the caller passes the guard that checks it). Bearer access
 * tokens; each write is one statement with its audit row. A new or rotated
 * signing secret is returned once; it is stored sealed (webhooks/secrets.ts).
 */
import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { listWebhookDeliveries, replayWebhookDeliveries } from "../db/webhook-history";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookEndpoints,
  rotateWebhookSecret,
  updateWebhookEndpoint,
  type Refusal,
  type WebhookResult,
  type WebhookScope,
} from "../db/webhooks";
import { GatehouseError } from "../error";
import { array, int, object, oneOf, optional, string, type Shape } from "../lib/shape";
import { requireOperatorToken } from "../admin/operators";
import { requireBearer, type BearerEnv } from "../middleware/bearer";
import { ADMIN_SCOPE } from "../tokens/access-token";
import { methodNotAllowed, requireJsonBody } from "../middleware/csrf";
import { checkEventTypes, MAX_EVENT_TYPES } from "../webhooks/events";
import { sealWebhookSecret } from "../webhooks/secrets";
import { newWebhookSecret } from "../webhooks/sign";
import { checkEndpointUrl } from "../webhooks/url";
import { jsonBody, orgNotFound, orgParam, uuidParam } from "./org-request";

const bool: Shape<boolean> = (input, path = "") => (typeof input === "boolean" ? { ok: true, value: input } : { ok: false, path });
const eventTypes = array(string({ min: 1, max: 64 }), { min: 1, max: MAX_EVENT_TYPES });
const createBody = object({ url: string({ min: 1, max: 2048 }), eventTypes }, { strict: true });
const updateBody = object({ url: optional(string({ min: 1, max: 2048 })), eventTypes: optional(eventTypes), enabled: optional(bool) }, { strict: true });
const STATES = ["pending", "queued", "delivered", "dead"] as const;
const pageQuery = object({ limit: optional(int({ min: 1, max: 100 })), before: optional(string()), state: optional(oneOf(STATES)) });

type Scoped = (c: Context<BearerEnv>) => WebhookScope;

function refused(refusal: Refusal, scope: WebhookScope): GatehouseError {
  if (refusal === "not_member") return orgNotFound();
  if (refusal === "forbidden") return new GatehouseError("Forbidden", "Only owners and admins manage this organization's webhooks.");
  if (refusal === "limit") return new GatehouseError("WebhookEndpointLimit", "No more webhook endpoints can be registered here; delete one first.");
  return new GatehouseError("NotFound", scope.kind === "org" ? "No such webhook endpoint in this organization." : "No such webhook endpoint.");
}

function valueOf<T>(result: WebhookResult<T>, scope: WebhookScope): T {
  if (!result.ok) throw refused(result.refusal, scope);
  return result.value;
}

function invalid(field: string, reason: string): GatehouseError {
  return new GatehouseError("InvalidRequest", "The webhook endpoint is invalid.", { extra: { field, reason } });
}

function checked(c: Context<BearerEnv>, body: { url?: string; eventTypes?: string[] }): { url?: string; eventTypes?: string[] } {
  const out: { url?: string; eventTypes?: string[] } = {};
  if (body.url !== undefined) {
    const url = checkEndpointUrl(body.url, c.var.config.webhooks.allowLocalHttp);
    if (!url.ok) throw invalid("url", url.problem);
    out.url = url.url;
  }
  if (body.eventTypes !== undefined) {
    const types = checkEventTypes(body.eventTypes);
    if (!types.ok) throw invalid("eventTypes", `unknown event type ${types.invalid}`);
    out.eventTypes = types.value;
  }
  return out;
}

function pageOf(c: Context<BearerEnv>): { limit: number; before?: string; state?: (typeof STATES)[number] } {
  const q = c.req.query();
  const parsed = pageQuery({ ...q, ...(q.limit === undefined ? {} : { limit: /^\d{1,3}$/.test(q.limit) ? Number(q.limit) : q.limit }) });
  if (!parsed.ok) throw new GatehouseError("InvalidRequest", "The query is invalid.", { extra: { field: parsed.path } });
  const { limit, before, state } = parsed.value;
  return { limit: limit ?? 50, ...(before === undefined ? {} : { before: uuidParam(before) }), ...(state === undefined ? {} : { state }) };
}

/**
 * The routes, relative to `base` (`/:org/webhooks` inside `/api/orgs`, or `""` for `/api/admin/webhooks`).
 *
 * @example
 * app.route("/api/admin/webhooks", webhookRoutes("", (c) => ({ kind: "global", actorId: c.var.caller.userId }), requireOperator()));
 */
export function webhookRoutes(base: string, scopeOf: Scoped, guard?: MiddlewareHandler<BearerEnv>, requiredScope?: string) {
  const bearer = requireBearer(requiredScope);
  const auth: MiddlewareHandler<BearerEnv> = guard
    ? async (c, next) => {
        await bearer(c, async () => {
          // A guard may throw (a GatehouseError) or answer itself.
          const answer = await guard(c, next);
          if (answer instanceof Response) c.res = answer;
        });
      }
    : bearer;
  const json = requireJsonBody();
  const list = base === "" ? "/" : base;
  return new Hono<AppEnv>()
    .get(list, auth, async (c) => {
      const scope = scopeOf(c);
      return c.json({ endpoints: valueOf(await listWebhookEndpoints(await c.var.db(), scope), scope) });
    })
    .post(list, json, auth, async (c) => {
      const scope = scopeOf(c);
      const body = checked(c, await jsonBody(c, createBody));
      const id = crypto.randomUUID();
      const secret = newWebhookSecret();
      const sealed = await sealWebhookSecret(c.var.config.encryptionKeys, id, secret);
      const endpoint = valueOf(
        await createWebhookEndpoint(await c.var.db(), scope, { id, url: body.url!, eventTypes: body.eventTypes!, secret: sealed, context: c.var.request }),
        scope,
      );
      return c.json({ endpoint, secret }, 201);
    })
    .patch(`${base}/:id`, json, auth, async (c) => {
      const scope = scopeOf(c);
      const raw = await jsonBody(c, updateBody);
      if (raw.url === undefined && raw.eventTypes === undefined && raw.enabled === undefined) throw invalid("body", "nothing to change");
      const patch = { ...checked(c, raw), ...(raw.enabled === undefined ? {} : { enabled: raw.enabled }) };
      const id = uuidParam(c.req.param("id"));
      return c.json({ endpoint: valueOf(await updateWebhookEndpoint(await c.var.db(), scope, id, patch, c.var.request), scope) });
    })
    .delete(`${base}/:id`, auth, async (c) => {
      const scope = scopeOf(c);
      const id = uuidParam(c.req.param("id"));
      return c.json({ deleted: valueOf(await deleteWebhookEndpoint(await c.var.db(), scope, id, c.var.request), scope).id });
    })
    .post(`${base}/:id/secret`, auth, async (c) => {
      const scope = scopeOf(c);
      const id = uuidParam(c.req.param("id"));
      const secret = newWebhookSecret();
      const sealed = await sealWebhookSecret(c.var.config.encryptionKeys, id, secret);
      return c.json({ endpoint: valueOf(await rotateWebhookSecret(await c.var.db(), scope, id, sealed, c.var.request), scope), secret });
    })
    .get(`${base}/:id/deliveries`, auth, async (c) => {
      const scope = scopeOf(c);
      const id = uuidParam(c.req.param("id"));
      return c.json(valueOf(await listWebhookDeliveries(await c.var.db(), scope, id, pageOf(c)), scope));
    })
    .post(`${base}/:id/deliveries/replay`, auth, async (c) => {
      const scope = scopeOf(c);
      const id = uuidParam(c.req.param("id"));
      return c.json(valueOf(await replayWebhookDeliveries(await c.var.db(), scope, id, { context: c.var.request }), scope));
    })
    .post(`${base}/:id/deliveries/:deliveryId/replay`, auth, async (c) => {
      const scope = scopeOf(c);
      const id = uuidParam(c.req.param("id"));
      const deliveryId = uuidParam(c.req.param("deliveryId"));
      return c.json(valueOf(await replayWebhookDeliveries(await c.var.db(), scope, id, { deliveryId, context: c.var.request }), scope));
    })
    .all(list, methodNotAllowed("GET, POST"))
    .all(`${base}/:id`, methodNotAllowed("PATCH, DELETE"))
    .all(`${base}/:id/secret`, methodNotAllowed("POST"))
    .all(`${base}/:id/deliveries`, methodNotAllowed("GET"))
    .all(`${base}/:id/deliveries/replay`, methodNotAllowed("POST"))
    .all(`${base}/:id/deliveries/:deliveryId/replay`, methodNotAllowed("POST"));
}

/**
 * `/api/orgs/:org/webhooks…`, mounted inside the `/api/orgs` group (after its CORS, rate limit and body limit).
 *
 * @example
 * orgs.route("/", orgWebhooks);
 */
export const orgWebhooks = webhookRoutes("/:org/webhooks", (c) => ({ kind: "org", actorId: c.var.caller.userId, org: orgParam(c.req.param("org")) }));

/**
 * `/api/admin/webhooks…`: the global endpoints, for operators: a Bearer
 * token with `gatehouse:admin`, then `isOperator` (by default the admin
 * API's own guard: an operator acting as themself). Mounted inside
 * `/api/admin`, which applies CORS, the rate limit and the body limit.
 *
 * @example
 * adminApi.route("/webhooks", adminWebhooks());
 */
export function adminWebhooks(isOperator: MiddlewareHandler<BearerEnv> = requireOperatorToken()) {
  return webhookRoutes("", (c) => ({ kind: "global", actorId: c.var.caller.userId }), isOperator, ADMIN_SCOPE);
}
