/**
 * OAuth client registrations and the user's app grants. Every write is one
 * statement that checks the caller (an owner or admin of the client's
 * organization, or the user owning the grant) and writes its audit row in a
 * CTE of that same statement (`db/audit.ts`).
 */
import type { RequestContext } from "../lib/request-context";
import { sql, type SQL } from "drizzle-orm";
import type { ClientRegistration, RegistrationPatch } from "../oauth/client-registration";
import type { DynamicRegistration } from "../oauth/dynamic-registration";
import { auditInsert } from "./audit";
import type { Database } from "./client";
import { pgArray, textArray } from "./oauth-authorize";
import { callerMembership, toIso, type OrgRef } from "./orgs";

/** A client as the org API shows it (never the secret hash). */
export interface ClientRecord {
  clientId: string;
  name: string;
  type: "public" | "confidential";
  applicationType: "web" | "native";
  redirectUris: string[];
  scopes: string[];
  resources: string[];
  firstParty: boolean;
  disabled: boolean;
  createdAt: string;
}

export type ClientWriteResult = { ok: true; client: ClientRecord } | { ok: false; refusal: "not_member" | "forbidden" | "not_found" };

const COLUMNS = sql`c.id, c.name, c.type, c.application_type, c.redirect_uris, c.scopes, c.resources, c.first_party, c.disabled_at, c.created_at`;

function recordOf(row: Record<string, unknown>): ClientRecord {
  return {
    clientId: String(row.id),
    name: String(row.name),
    type: row.type === "confidential" ? "confidential" : "public",
    applicationType: row.application_type === "native" ? "native" : "web",
    redirectUris: pgArray(row.redirect_uris),
    scopes: pgArray(row.scopes),
    resources: pgArray(row.resources),
    firstParty: row.first_party === true,
    disabled: row.disabled_at != null,
    createdAt: toIso(row.created_at),
  };
}

/** CTE `caller` plus `decision` (outcome, org_id) for an owner/admin-only action. */
function adminDecision(actorId: string, org: OrgRef): SQL {
  return sql`caller AS (${callerMembership(actorId, org)}),
    decision AS (
      SELECT CASE WHEN caller.role IS NULL THEN 'not_member' WHEN caller.role NOT IN ('owner', 'admin') THEN 'forbidden' ELSE 'ok' END AS outcome,
             caller.org_id
      FROM (SELECT 1) one LEFT JOIN caller ON true
    )`;
}

function resultOf(row: Record<string, unknown> | undefined): ClientWriteResult {
  if (!row || row.outcome === "not_member") return { ok: false, refusal: "not_member" };
  if (row.outcome === "forbidden") return { ok: false, refusal: "forbidden" };
  if (row.id == null) return { ok: false, refusal: "not_found" };
  return { ok: true, client: recordOf(row) };
}

/**
 * Registers a client for an organization (owners and admins), audited.
 *
 * @example
 * const r = await createOrgClient(db, { actorId, org, registration, secretHash });
 */
export async function createOrgClient(
  db: Database,
  input: { actorId: string; org: OrgRef; registration: ClientRegistration; secretHash: string | null; context?: RequestContext },
): Promise<ClientWriteResult> {
  const r = input.registration;
  const result = await db.execute(sql`
    WITH ${adminDecision(input.actorId, input.org)},
    created AS (
      INSERT INTO oauth_clients (name, type, application_type, secret_hash, redirect_uris, scopes, resources, org_id, created_by)
      SELECT ${r.name}, ${r.type}::oauth_client_type, ${r.applicationType}::oauth_application_type, ${input.secretHash},
             ${textArray(r.redirectUris)}, ${textArray(r.scopes)}, ${textArray(r.resources)}, d.org_id, ${input.actorId}::uuid
      FROM decision d WHERE d.outcome = 'ok'
      RETURNING *
    ),
    audit AS (${auditInsert(
      {
        actor: { type: "user", id: input.actorId },
        action: "oauth_client.create",
        orgId: sql`created.org_id`,
        targetType: "oauth_client",
        targetId: sql`created.id::text`,
        metadata: sql`jsonb_build_object('name', created.name, 'type', created.type, 'redirectUris', to_jsonb(created.redirect_uris))`,
        context: input.context,
      },
      sql`created`,
    )})
    SELECT d.outcome, ${COLUMNS} FROM decision d LEFT JOIN created c ON true`);
  return resultOf(result.rows[0]);
}

/**
 * Changes a client of the organization (name, redirect URIs, scopes,
 * resources, disabled), audited with the fields changed. Disabling stops
 * its refresh tokens at once (the refresh grant checks the client).
 *
 * @example
 * const r = await updateOrgClient(db, { actorId, org, clientId, patch: { disabled: true } });
 */
export async function updateOrgClient(
  db: Database,
  input: {
    actorId: string;
    org: OrgRef;
    clientId: string;
    patch: RegistrationPatch;
    secretHash?: string;
    applicationType?: "web" | "native";
    context?: RequestContext;
  },
): Promise<ClientWriteResult> {
  const p = input.patch;
  const sets: SQL[] = [sql`updated_at = now()`];
  if (p.name !== undefined) sets.push(sql`name = ${p.name}`);
  if (p.redirectUris !== undefined) sets.push(sql`redirect_uris = ${textArray(p.redirectUris)}`);
  if (p.scopes !== undefined) sets.push(sql`scopes = ${textArray(p.scopes)}`);
  if (p.resources !== undefined) sets.push(sql`resources = ${textArray(p.resources)}`);
  if (p.disabled !== undefined) sets.push(p.disabled ? sql`disabled_at = coalesce(disabled_at, now())` : sql`disabled_at = NULL`);
  if (input.secretHash !== undefined) sets.push(sql`secret_hash = ${input.secretHash}`);
  const fields = [...Object.keys(p), ...(input.secretHash !== undefined ? ["secret"] : [])];
  const action = input.secretHash !== undefined ? "oauth_client.secret_rotate" : "oauth_client.update";
  const result = await db.execute(sql`
    WITH ${adminDecision(input.actorId, input.org)},
    changed AS (
      UPDATE oauth_clients c SET ${sql.join(sets, sql`, `)}
      FROM decision d
      WHERE d.outcome = 'ok' AND c.id = ${input.clientId}::uuid AND c.org_id = d.org_id
        ${input.secretHash !== undefined ? sql`AND c.type = 'confidential'` : sql``}
        ${input.applicationType !== undefined ? sql`AND c.application_type = ${input.applicationType}::oauth_application_type` : sql``}
      RETURNING c.*
    ),
    audit AS (${auditInsert(
      {
        actor: { type: "user", id: input.actorId },
        action,
        orgId: sql`changed.org_id`,
        targetType: "oauth_client",
        targetId: sql`changed.id::text`,
        metadata: sql`jsonb_build_object('fields', to_jsonb(${textArray(fields)}))`,
        context: input.context,
      },
      sql`changed`,
    )})
    SELECT d.outcome, ${COLUMNS} FROM decision d LEFT JOIN changed c ON true`);
  return resultOf(result.rows[0]);
}

/**
 * Deletes a client of the organization: its codes, grants and refresh
 * families go with it (foreign keys cascade). Audited.
 *
 * @example
 * const r = await deleteOrgClient(db, { actorId, org, clientId });
 */
export async function deleteOrgClient(db: Database, input: { actorId: string; org: OrgRef; clientId: string; context?: RequestContext }): Promise<ClientWriteResult> {
  const result = await db.execute(sql`
    WITH ${adminDecision(input.actorId, input.org)},
    deleted AS (
      DELETE FROM oauth_clients c USING decision d
      WHERE d.outcome = 'ok' AND c.id = ${input.clientId}::uuid AND c.org_id = d.org_id
      RETURNING c.*
    ),
    audit AS (${auditInsert(
      {
        actor: { type: "user", id: input.actorId },
        action: "oauth_client.delete",
        orgId: sql`deleted.org_id`,
        targetType: "oauth_client",
        targetId: sql`deleted.id::text`,
        metadata: sql`jsonb_build_object('name', deleted.name)`,
        context: input.context,
      },
      sql`deleted`,
    )})
    SELECT d.outcome, ${COLUMNS} FROM decision d LEFT JOIN deleted c ON true`);
  return resultOf(result.rows[0]);
}

/**
 * The organization's clients (owners and admins); `null` refusal otherwise.
 *
 * @example
 * const r = await listOrgClients(db, { actorId, org });
 */
export async function listOrgClients(db: Database, input: { actorId: string; org: OrgRef }): Promise<{ ok: true; clients: ClientRecord[] } | { ok: false; refusal: "not_member" | "forbidden" }> {
  const result = await db.execute(sql`
    WITH ${adminDecision(input.actorId, input.org)}
    SELECT d.outcome, ${COLUMNS} FROM decision d LEFT JOIN oauth_clients c ON d.outcome = 'ok' AND c.org_id = d.org_id
    ORDER BY c.created_at, c.id`);
  const first = result.rows[0] as Record<string, unknown> | undefined;
  if (!first || first.outcome === "not_member") return { ok: false, refusal: "not_member" };
  if (first.outcome === "forbidden") return { ok: false, refusal: "forbidden" };
  return { ok: true, clients: result.rows.filter((r) => (r as Record<string, unknown>).id != null).map((r) => recordOf(r as Record<string, unknown>)) };
}

/**
 * Stores an RFC 7591 dynamic registration (`POST /oauth/register`): a public
 * client of no organization, never first-party, marked `dynamic` so the cron
 * deletes it while unused. One statement.
 *
 * @example
 * const { clientId, issuedAt } = await registerDynamicClient(db, { registration, resources: config.allowedAudiences });
 */
export async function registerDynamicClient(
  db: Database,
  input: { registration: DynamicRegistration; resources: readonly string[] },
): Promise<{ clientId: string; issuedAt: number }> {
  const r = input.registration;
  const result = await db.execute(sql`
    INSERT INTO oauth_clients (name, type, application_type, redirect_uris, scopes, resources, dynamic)
    VALUES (${r.name}, 'public', ${r.applicationType}::oauth_application_type, ${textArray(r.redirectUris)}, ${textArray(r.scopes)}, ${textArray([...input.resources])}, true)
    RETURNING id, floor(extract(epoch FROM created_at))::int AS issued_at`);
  const row = result.rows[0]!;
  return { clientId: String(row.id), issuedAt: Number(row.issued_at) };
}
