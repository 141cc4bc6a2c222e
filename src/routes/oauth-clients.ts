/**
 * The org API for OAuth clients (docs/oauth-server.md): owners and admins
 * of an organization register, list, change, disable, re-key and delete its
 * applications. Mounted inside `/api/orgs` (Bearer access token). Each route
 * is one statement that checks the caller's role and writes its audit row.
 * A confidential client's secret is returned once, at creation or rotation;
 * only its SHA-256 is stored.
 */
import { Hono } from "hono/tiny";
import type { Config } from "../config";
import type { AppEnv } from "../context";
import { createOrgClient, deleteOrgClient, listOrgClients, updateOrgClient, type ClientRecord, type ClientWriteResult } from "../db/oauth-clients";
import { GatehouseError } from "../error";
import { randomBase64Url, sha256Hex } from "../lib/crypto";
import { requireBearer } from "../middleware/bearer";
import { requireJsonBody } from "../middleware/csrf";
import { validatePatch, validateRegistration } from "../oauth/client-registration";
import { gatehouseApiResource } from "../oauth/resources";
import { orgNotFound, orgParam, uuidParam } from "./org-request";

const MAX_BODY = 8192;

/**
 * Resources a client may be registered for: the operator's APIs
 * (ALLOWED_AUDIENCES) and gatehouse's own API (`${AUTH_URL}/api`).
 *
 * @example
 * registrableResources(config); // ["https://api.example.com", "https://auth.example.com/api"]
 */
export function registrableResources(config: Pick<Config, "allowedAudiences" | "authUrl">): string[] {
  return [...new Set([...config.allowedAudiences, gatehouseApiResource(config.authUrl)])];
}

/**
 * A new client secret (256 bits) and its stored hash.
 *
 * @example
 * const { secret, secretHash } = await newClientSecret();
 */
export async function newClientSecret(): Promise<{ secret: string; secretHash: string }> {
  const secret = randomBase64Url(32);
  return { secret, secretHash: await sha256Hex(secret) };
}

async function body(c: { req: { arrayBuffer(): Promise<ArrayBuffer> } }): Promise<unknown> {
  const bytes = await c.req.arrayBuffer();
  if (bytes.byteLength > MAX_BODY) throw new GatehouseError("InvalidRequest", "The request body is too large.");
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new GatehouseError("InvalidRequest", "The request body is not valid JSON.");
  }
}

function invalid(field: string, problem: string): GatehouseError {
  return new GatehouseError("InvalidRequest", "The client registration is invalid.", { extra: { field, reason: problem } });
}

function refusal(reason: "not_member" | "forbidden" | "not_found"): GatehouseError {
  if (reason === "not_member") return orgNotFound();
  if (reason === "forbidden") return new GatehouseError("Forbidden", "Only owners and admins manage this organization's applications.");
  return new GatehouseError("NotFound", "No such application in this organization.");
}

function written(result: ClientWriteResult): ClientRecord {
  if (!result.ok) throw refusal(result.refusal);
  return result.client;
}

const bearer = requireBearer();
const json = requireJsonBody();

/**
 * Routes under `/api/orgs`: `/:org/clients[/:clientId[/secret]]`.
 *
 * @example
 * orgs.route("/", orgClients);
 */
export const orgClients = new Hono<AppEnv>()
  .get("/:org/clients", bearer, async (c) => {
    const result = await listOrgClients(await c.var.db(), { actorId: c.var.caller.userId, org: orgParam(c.req.param("org")) });
    if (!result.ok) throw refusal(result.refusal);
    return c.json({ clients: result.clients });
  })
  .post("/:org/clients", json, bearer, async (c) => {
    const org = orgParam(c.req.param("org"));
    const checked = validateRegistration(await body(c), registrableResources(c.var.config));
    if (!checked.ok) throw invalid(checked.field, checked.problem);
    const secret = checked.value.type === "confidential" ? await newClientSecret() : null;
    const client = written(
      await createOrgClient(await c.var.db(), { actorId: c.var.caller.userId, org, registration: checked.value, secretHash: secret?.secretHash ?? null, context: c.var.request }),
    );
    return c.json({ client, ...(secret ? { clientSecret: secret.secret } : {}) }, 201);
  })
  .patch("/:org/clients/:clientId", json, bearer, async (c) => {
    const org = orgParam(c.req.param("org"));
    const clientId = uuidParam(c.req.param("clientId"));
    const raw = await body(c);
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw invalid("body", "must be an object");
    // Redirect-URI rules depend on the kind of client, which never changes: a change of
    // redirectUris names it, and the statement only matches a client of that kind.
    const { applicationType, ...rest } = raw as Record<string, unknown>;
    if (applicationType !== undefined && applicationType !== "web" && applicationType !== "native") throw invalid("applicationType", "web or native");
    if (rest.redirectUris !== undefined && applicationType === undefined) throw invalid("applicationType", "required with redirectUris");
    const kind = applicationType === "native" ? "native" : "web";
    const checked = validatePatch(rest, kind, registrableResources(c.var.config));
    if (!checked.ok) throw invalid(checked.field, checked.problem);
    const client = written(
      await updateOrgClient(await c.var.db(), {
        actorId: c.var.caller.userId,
        org,
        clientId,
        patch: checked.value,
        ...(applicationType === undefined ? {} : { applicationType: kind }),
        context: c.var.request,
      }),
    );
    return c.json({ client });
  })
  .post("/:org/clients/:clientId/secret", bearer, async (c) => {
    const org = orgParam(c.req.param("org"));
    const clientId = uuidParam(c.req.param("clientId"));
    const secret = await newClientSecret();
    const client = written(await updateOrgClient(await c.var.db(), { actorId: c.var.caller.userId, org, clientId, patch: {}, secretHash: secret.secretHash, context: c.var.request }));
    return c.json({ client, clientSecret: secret.secret });
  })
  .delete("/:org/clients/:clientId", bearer, async (c) => {
    const org = orgParam(c.req.param("org"));
    const clientId = uuidParam(c.req.param("clientId"));
    const client = written(await deleteOrgClient(await c.var.db(), { actorId: c.var.caller.userId, org, clientId, context: c.var.request }));
    return c.json({ deleted: client.clientId });
  });
