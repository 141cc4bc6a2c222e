/**
 * The user's side of OAuth grants: which applications have access to the
 * account (for the account page), and revoking one — its remembered consent
 * and every refresh family it holds, audited, in ONE statement. Signing out
 * everywhere does not touch these (docs/oauth-server.md).
 */
import type { RequestContext } from "../lib/request-context";
import { sql } from "drizzle-orm";
import { auditInsert } from "./audit";
import type { Database } from "./client";
import { pgArray } from "./oauth-authorize";
import { ownerOf, type SessionProof } from "./sessions";

/** One application with access to the user's account. */
export interface UserApp {
  clientId: string;
  name: string;
  orgName: string | null;
  scopes: string[];
  lastUsedAt: Date;
}

/**
 * The SELECT of applications holding a live grant or a live refresh family
 * of `userId`, not executed: `db/account.ts` puts it in its batch.
 *
 * @example
 * const [apps] = await db.batch([userAppsStatement(db, userId)]);
 */
export function userAppsStatement(db: Database, userId: string) {
  return db.execute(sql`
    WITH holders AS (
      SELECT client_id, scopes, last_used_at FROM oauth_grants WHERE user_id = ${userId}::uuid AND revoked_at IS NULL
      UNION ALL
      SELECT s.client_id, f.scopes, s.last_used_at FROM sessions s JOIN oauth_families f ON f.session_id = s.id
      WHERE s.user_id = ${userId}::uuid AND s.client_id IS NOT NULL AND s.revoked_at IS NULL AND s.expires_at > now()
    )
    SELECT c.id AS client_id, c.name, o.name AS org_name,
           ARRAY(SELECT DISTINCT x FROM holders h2, unnest(h2.scopes) x WHERE h2.client_id = c.id ORDER BY 1) AS scopes,
           extract(epoch FROM max(h.last_used_at))::float8 AS last_used_at
    FROM holders h
    JOIN oauth_clients c ON c.id = h.client_id
    LEFT JOIN organizations o ON o.id = c.org_id
    GROUP BY c.id, c.name, o.name
    ORDER BY 5 DESC
    LIMIT 100`);
}

/**
 * Rows of `userAppsStatement` as `UserApp`s.
 *
 * @example
 * userAppsOf(result.rows);
 */
export function userAppsOf(rows: readonly unknown[]): UserApp[] {
  return rows.map((raw) => {
    const r = raw as Record<string, unknown>;
    return {
      clientId: String(r.client_id),
      name: String(r.name),
      orgName: typeof r.org_name === "string" ? r.org_name : null,
      scopes: pgArray(r.scopes),
      lastUsedAt: new Date(Number(r.last_used_at) * 1000),
    };
  });
}

/**
 * Revokes the proven user's grants to `clientId` and every refresh family
 * that client holds for them; audited. Returns the family ids (to denylist
 * their access tokens) and whether anything was revoked.
 *
 * @example
 * const r = await revokeUserApp(db, proof, clientId);
 */
export async function revokeUserApp(
  db: Database,
  proof: SessionProof,
  clientId: string,
  context?: RequestContext,
): Promise<{ revoked: boolean; familyIds: string[] }> {
  const result = await db.execute(sql`
    WITH me AS (SELECT ${ownerOf(proof)} AS id),
    grants AS (
      UPDATE oauth_grants SET revoked_at = now()
      WHERE user_id = (SELECT id FROM me) AND client_id = ${clientId}::uuid AND revoked_at IS NULL
      RETURNING id
    ),
    families AS (
      UPDATE sessions SET revoked_at = now()
      WHERE user_id = (SELECT id FROM me) AND client_id = ${clientId}::uuid AND revoked_at IS NULL
      RETURNING id
    ),
    done AS (
      SELECT (SELECT id FROM me) AS user_id WHERE EXISTS (SELECT 1 FROM grants) OR EXISTS (SELECT 1 FROM families)
    ),
    audit AS (${auditInsert(
      {
        actor: { type: "user", id: sql`done.user_id` },
        action: "oauth_grant.revoke",
        orgId: sql`NULL::uuid`,
        targetType: "oauth_client",
        targetId: sql`${clientId}::text`,
        metadata: sql`jsonb_build_object('grants', (SELECT count(*) FROM grants), 'families', (SELECT count(*) FROM families))`,
        subjectUserId: sql`done.user_id`,
        context,
      },
      sql`done`,
    )})
    SELECT EXISTS (SELECT 1 FROM done) AS revoked, ARRAY(SELECT id::text FROM families) AS family_ids`);
  const row = result.rows[0] as { revoked?: unknown; family_ids?: unknown } | undefined;
  return { revoked: row?.revoked === true, familyIds: Array.isArray(row?.family_ids) ? row.family_ids.map(String) : [] };
}
