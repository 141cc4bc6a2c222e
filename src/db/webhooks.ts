/**
 * Webhook endpoints and their deliveries, for the management API: an
 * organization's (its owners and admins) or the global ones (org_id NULL;
 * operators, whose check the route does). Every write is one statement that
 * checks the caller, changes the rows and writes its audit row (`db/audit.ts`).
 */
import { sql, type SQL } from "drizzle-orm";
import type { Sealed } from "../lib/crypto";
import type { RequestContext } from "../lib/request-context";
import { byteaLiteral } from "../lib/hex";
import { auditInsert, type AuditAction } from "./audit";
import type { Database } from "./client";
import { pgArray, textArray } from "./oauth-authorize";
import { callerMembership, toIso, type OrgRef } from "./orgs";
import { isoOrNull } from "./webhook-deliveries";

/** Whose endpoints: an organization's (the caller must be an owner or admin) or the global ones (the caller is an operator). */
export type WebhookScope = { kind: "org"; actorId: string; org: OrgRef } | { kind: "global"; actorId: string };

/** The most endpoints one organization (or the global list) may have. */
export const MAX_ENDPOINTS = 20;
/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_HOURS = 24;

/** An endpoint as the API shows it (never a secret). */
export interface EndpointRecord {
  id: string;
  orgId: string | null;
  url: string;
  eventTypes: string[];
  enabled: boolean;
  /** Until when the previous secret still signs, after a rotation. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export type Refusal = "not_member" | "forbidden" | "not_found" | "limit";
export type WebhookResult<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

const COLUMNS = sql`e.id, e.org_id, e.url, e.event_types, e.enabled, e.previous_secret_expires_at, e.created_at, e.updated_at`;

function recordOf(row: Record<string, unknown>): EndpointRecord {
  const expires = isoOrNull(row.previous_secret_expires_at);
  return {
    id: String(row.id),
    orgId: row.org_id == null ? null : String(row.org_id),
    url: String(row.url),
    eventTypes: pgArray(row.event_types),
    enabled: row.enabled === true,
    previousSecretExpiresAt: expires !== null && Date.parse(expires) > Date.now() ? expires : null,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

/**
 * CTE `decision` (outcome, org_id): who may manage which endpoints.
 *
 * @example
 * sql`WITH ${decisionFor(scope)}, ${scopedEndpointFor(id)} SELECT …`
 */
export function decisionFor(scope: WebhookScope): SQL {
  if (scope.kind === "global") return sql`decision AS (SELECT 'ok'::text AS outcome, NULL::uuid AS org_id)`;
  return sql`caller AS (${callerMembership(scope.actorId, scope.org)}),
    decision AS (
      SELECT CASE WHEN caller.role IS NULL THEN 'not_member' WHEN caller.role NOT IN ('owner', 'admin') THEN 'forbidden' ELSE 'ok' END AS outcome,
             caller.org_id
      FROM (SELECT 1) one LEFT JOIN caller ON true
    )`;
}

/**
 * CTE `ep`: the endpoint `id` when the caller may manage it (after {@link decisionFor}).
 *
 * @example
 * sql`WITH ${decisionFor(scope)}, ${scopedEndpointFor(id)} SELECT …`
 */
export function scopedEndpointFor(endpointId: string): SQL {
  return sql`ep AS (
    SELECT e.id, e.org_id FROM webhook_endpoints e, decision d
    WHERE d.outcome = 'ok' AND e.id = ${endpointId}::uuid AND e.org_id IS NOT DISTINCT FROM d.org_id
  )`;
}

function refusalOf(row: Record<string, unknown> | undefined): Refusal | null {
  if (!row || row.outcome === "not_member") return "not_member";
  if (row.outcome === "forbidden") return "forbidden";
  if (row.outcome === "limit") return "limit";
  return null;
}

function endpointResult(row: Record<string, unknown> | undefined): WebhookResult<EndpointRecord> {
  const refusal = refusalOf(row);
  if (refusal) return { ok: false, refusal };
  if (row!.id == null) return { ok: false, refusal: "not_found" };
  return { ok: true, value: recordOf(row!) };
}

function audit(scope: WebhookScope, action: AuditAction, from: string, context: RequestContext | undefined, metadata: SQL): SQL {
  const alias = sql.raw(from);
  return auditInsert(
    {
      actor: { type: "user", id: scope.actorId },
      action,
      orgId: sql`${alias}.org_id`,
      targetType: "webhook_endpoint",
      targetId: sql`${alias}.id::text`,
      metadata,
      ...(context ? { context } : {}),
    },
    alias,
  );
}

/**
 * Registers an endpoint with its sealed secret (sealed for `id`), audited.
 *
 * @example
 * const r = await createWebhookEndpoint(db, scope, { id, url, eventTypes, secret: sealed, context: c.var.request });
 */
export async function createWebhookEndpoint(
  db: Database,
  scope: WebhookScope,
  input: { id: string; url: string; eventTypes: readonly string[]; secret: Sealed; context?: RequestContext },
): Promise<WebhookResult<EndpointRecord>> {
  const result = await db.execute(sql`
    WITH ${decisionFor(scope)},
    allowed AS (
      SELECT CASE WHEN d.outcome <> 'ok' THEN d.outcome
                  WHEN (SELECT count(*) FROM webhook_endpoints x WHERE x.org_id IS NOT DISTINCT FROM d.org_id) >= ${MAX_ENDPOINTS} THEN 'limit'
                  ELSE 'ok' END AS outcome, d.org_id
      FROM decision d
    ),
    created AS (
      INSERT INTO webhook_endpoints (id, org_id, url, event_types, secret_ciphertext, secret_key_version, created_by)
      SELECT ${input.id}::uuid, a.org_id, ${input.url}, ${textArray(input.eventTypes)}, ${byteaLiteral(input.secret.ciphertext)}::bytea,
             ${input.secret.keyVersion}::integer, ${scope.actorId}::uuid
      FROM allowed a WHERE a.outcome = 'ok'
      RETURNING *
    ),
    audit AS (${audit(scope, "webhook.endpoint_create", "created", input.context, sql`jsonb_build_object('url', created.url, 'eventTypes', to_jsonb(created.event_types))`)})
    SELECT a.outcome, ${COLUMNS} FROM allowed a LEFT JOIN created e ON true`);
  return endpointResult(result.rows[0]);
}

/**
 * The endpoints in scope, oldest first.
 *
 * @example
 * const r = await listWebhookEndpoints(db, scope);
 */
export async function listWebhookEndpoints(db: Database, scope: WebhookScope): Promise<WebhookResult<EndpointRecord[]>> {
  const result = await db.execute(sql`
    WITH ${decisionFor(scope)}
    SELECT d.outcome, ${COLUMNS} FROM decision d
    LEFT JOIN webhook_endpoints e ON d.outcome = 'ok' AND e.org_id IS NOT DISTINCT FROM d.org_id
    ORDER BY e.created_at, e.id`);
  const refusal = refusalOf(result.rows[0]);
  if (refusal) return { ok: false, refusal };
  return { ok: true, value: result.rows.filter((r) => r.id != null).map(recordOf) };
}

/** What an update may change. */
export interface EndpointPatch {
  url?: string;
  eventTypes?: readonly string[];
  enabled?: boolean;
}

/**
 * Changes an endpoint's URL, events or enabled flag, audited with the fields changed.
 *
 * @example
 * const r = await updateWebhookEndpoint(db, scope, endpointId, { enabled: false });
 */
export async function updateWebhookEndpoint(
  db: Database,
  scope: WebhookScope,
  endpointId: string,
  patch: EndpointPatch,
  context?: RequestContext,
): Promise<WebhookResult<EndpointRecord>> {
  const sets: SQL[] = [sql`updated_at = now()`];
  if (patch.url !== undefined) sets.push(sql`url = ${patch.url}`);
  if (patch.eventTypes !== undefined) sets.push(sql`event_types = ${textArray(patch.eventTypes)}`);
  if (patch.enabled !== undefined) sets.push(sql`enabled = ${patch.enabled}`);
  return writeEndpoint(db, scope, endpointId, sql`UPDATE webhook_endpoints e SET ${sql.join(sets, sql`, `)} FROM ep WHERE e.id = ep.id RETURNING e.*`, {
    action: "webhook.endpoint_update",
    metadata: sql`jsonb_build_object('fields', to_jsonb(${textArray(Object.keys(patch))}), 'enabled', written.enabled)`,
    context,
  });
}

/**
 * Deletes an endpoint; its deliveries go with it (cascade). Audited.
 *
 * @example
 * const r = await deleteWebhookEndpoint(db, scope, endpointId);
 */
export function deleteWebhookEndpoint(db: Database, scope: WebhookScope, endpointId: string, context?: RequestContext): Promise<WebhookResult<EndpointRecord>> {
  return writeEndpoint(db, scope, endpointId, sql`DELETE FROM webhook_endpoints e USING ep WHERE e.id = ep.id RETURNING e.*`, {
    action: "webhook.endpoint_delete",
    metadata: sql`jsonb_build_object('url', written.url)`,
    context,
  });
}

/**
 * Replaces the signing secret; the old one keeps signing for
 * {@link ROTATION_OVERLAP_HOURS} hours (both signatures are sent). Audited.
 *
 * @example
 * const r = await rotateWebhookSecret(db, scope, endpointId, await sealWebhookSecret(keys, endpointId, newWebhookSecret()));
 */
export function rotateWebhookSecret(db: Database, scope: WebhookScope, endpointId: string, secret: Sealed, context?: RequestContext): Promise<WebhookResult<EndpointRecord>> {
  return writeEndpoint(
    db,
    scope,
    endpointId,
    sql`UPDATE webhook_endpoints e
        SET previous_secret_ciphertext = e.secret_ciphertext, previous_secret_key_version = e.secret_key_version,
            previous_secret_expires_at = now() + make_interval(hours => ${ROTATION_OVERLAP_HOURS}),
            secret_ciphertext = ${byteaLiteral(secret.ciphertext)}::bytea, secret_key_version = ${secret.keyVersion}::integer, updated_at = now()
        FROM ep WHERE e.id = ep.id RETURNING e.*`,
    { action: "webhook.secret_rotate", metadata: sql`'{}'::jsonb`, context },
  );
}

async function writeEndpoint(
  db: Database,
  scope: WebhookScope,
  endpointId: string,
  write: SQL,
  how: { action: AuditAction; metadata: SQL; context: RequestContext | undefined },
): Promise<WebhookResult<EndpointRecord>> {
  const result = await db.execute(sql`
    WITH ${decisionFor(scope)}, ${scopedEndpointFor(endpointId)},
    written AS (${write}),
    audit AS (${audit(scope, how.action, "written", how.context, how.metadata)})
    SELECT d.outcome, ${COLUMNS} FROM decision d LEFT JOIN written e ON true`);
  return endpointResult(result.rows[0]);
}
