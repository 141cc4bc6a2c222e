/**
 * Provider pages (e.g. Facebook Pages) of an organization: the statement
 * builders the connect flow puts in its ONE batch, the members' status list,
 * and the service clients' token read (read + audit in one statement).
 */
import type { RequestContext } from "../lib/request-context";
import { and, eq, inArray, isNotNull, isNull, ne, notExists, notInArray, sql } from "drizzle-orm";
import { auditInsert } from "./audit";
import type { Database } from "./client";
import { callerMembership, toIsoOrNull, type OrgRef } from "./orgs";
import { providerPages, providerTokens } from "./schema";
import { serviceClientOrg } from "./service-scope";
import { fromHex } from "../lib/hex";

/** One page as the provider listed it. */
export interface ProviderPageInput {
  externalId: string;
  name: string;
  category: string | null;
  /** The caller's tasks on the page, e.g. `["MODERATE", "CREATE_CONTENT"]`. */
  tasks: readonly string[];
}

/**
 * Batch items that sync the org's pages of `provider` with what the provider
 * listed to `userId`: upsert each of `pages` (name, category, tasks;
 * `gone_at` cleared), mark the other pages of that (org, provider) gone
 * (`gone_at = now()`, never deleted) and soft-delete the tokens of gone
 * pages. A page another member's active token still serves is NOT marked
 * gone: one admin's Facebook user not managing it says nothing about it.
 * Not executed: spread into one `db.batch`.
 *
 * @example
 * await db.batch([...syncPagesStatements(db, { orgId, userId, provider: "facebook", pages }), ...tokenStatements]);
 */
export function syncPagesStatements(
  db: Database,
  input: {
    orgId: string;
    /** The member whose provider account listed `pages`. */
    userId: string;
    provider: string;
    pages: readonly ProviderPageInput[];
    /**
     * `false` when `pages` is known to be incomplete (the listing hit its cap):
     * pages not in it are then left as they are instead of being marked gone.
     */
    markMissingGone?: boolean;
  },
) {
  const { orgId, provider, pages } = input;
  const samePages = and(eq(providerPages.orgId, orgId), eq(providerPages.provider, provider));
  const keep = pages.map((p) => p.externalId);
  const markGone = db
    .update(providerPages)
    .set({ goneAt: sql`now()`, updatedAt: sql`now()` })
    .where(
      and(
        samePages,
        isNull(providerPages.goneAt),
        keep.length > 0 ? notInArray(providerPages.externalPageId, keep) : undefined,
        notExists(
          db
            .select({ one: sql`1` })
            .from(providerTokens)
            .where(and(eq(providerTokens.pageId, providerPages.id), isNull(providerTokens.deletedAt), ne(providerTokens.userId, input.userId))),
        ),
        // Matches no row: nothing is marked gone, and the batch keeps its shape.
        input.markMissingGone === false ? sql`false` : undefined,
      ),
    );
  const retireGoneTokens = db
    .update(providerTokens)
    .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
    .where(
      and(
        eq(providerTokens.orgId, orgId),
        isNull(providerTokens.deletedAt),
        inArray(providerTokens.pageId, db.select({ id: providerPages.id }).from(providerPages).where(and(samePages, isNotNull(providerPages.goneAt)))),
      ),
    );
  if (pages.length === 0) return [markGone, retireGoneTokens] as const;
  const upsert = db
    .insert(providerPages)
    .values(pages.map((p) => ({ orgId, provider, externalPageId: p.externalId, name: p.name, category: p.category, tasks: [...p.tasks], goneAt: null })))
    .onConflictDoUpdate({
      target: [providerPages.orgId, providerPages.provider, providerPages.externalPageId],
      set: { name: sql`excluded.name`, category: sql`excluded.category`, tasks: sql`excluded.tasks`, goneAt: null, updatedAt: sql`now()` },
    });
  return [upsert, markGone, retireGoneTokens] as const;
}

/** A page with the status of its token; never the token itself. */
export interface PageStatus {
  id: string;
  provider: string;
  externalId: string;
  name: string;
  category: string | null;
  tasks: string[];
  gone: boolean;
  goneAt: string | null;
  token: { active: boolean; expiresAt: string | null; scopes: string[]; updatedAt: string } | null;
}

/**
 * The organization's pages with token status, or `null` when the caller is
 * not a member. Selects no ciphertext.
 *
 * @example
 * const pages = await listPagesForMember(db, userId, ref);
 */
export async function listPagesForMember(db: Database, userId: string, ref: OrgRef): Promise<PageStatus[] | null> {
  const result = await db.execute(sql`
    WITH caller AS (${callerMembership(userId, ref)})
    SELECT p.id, p.provider, p.external_page_id, p.name, p.category, p.tasks, p.gone_at,
           t.id AS token_id, t.expires_at, t.scopes, t.updated_at AS token_updated_at,
           (t.expires_at IS NULL OR t.expires_at > now()) AS unexpired
    FROM caller c
    LEFT JOIN provider_pages p ON p.org_id = c.org_id
    LEFT JOIN provider_tokens t ON t.page_id = p.id AND t.org_id = p.org_id AND t.deleted_at IS NULL AND t.token_type = 'page'
    ORDER BY p.gone_at IS NOT NULL, p.name, p.id`);
  if (result.rows.length === 0) return null;
  return result.rows
    .filter((r) => r.id !== null)
    .map((r) => {
      const gone = r.gone_at !== null;
      return {
        id: String(r.id),
        provider: String(r.provider),
        externalId: String(r.external_page_id),
        name: String(r.name),
        category: typeof r.category === "string" ? r.category : null,
        tasks: textArray(r.tasks),
        gone,
        goneAt: toIsoOrNull(r.gone_at),
        token:
          r.token_id === null
            ? null
            : { active: !gone && r.unexpired === true, expiresAt: toIsoOrNull(r.expires_at), scopes: textArray(r.scopes), updatedAt: String(toIsoOrNull(r.token_updated_at)) },
      };
    });
}

/** A stored token as read for a service client: still sealed. */
export interface SealedTokenRow {
  tokenId: string;
  orgId: string;
  /** The user the token was granted by (the connecting user for page tokens). */
  userId: string;
  provider: string;
  /** Which AAD the ciphertext was sealed with; NULL for rows written before version 2. */
  aadVersion: number | null;
  ciphertext: Uint8Array;
  keyVersion: number;
  scopes: string[];
  expiresAt: string | null;
}

/**
 * The active, unexpired token of a page that is not gone, for a service
 * client allowed for the org, and its `page_token.read` audit row, in ONE
 * statement. `null` for every way it can fail (org not allowed, unknown or
 * gone page, no token), which the route answers with one 404.
 *
 * @example
 * const row = await readPageToken(db, { clientId: "billing", allowedOrgs: ["acme"], org: ref, pageId });
 */
export async function readPageToken(
  db: Database,
  input: { clientId: string; allowedOrgs: readonly string[]; org: OrgRef; pageId: string; context?: RequestContext },
): Promise<(SealedTokenRow & { page: { id: string; externalId: string; name: string } }) | null> {
  const actor = { type: "service_client", id: input.clientId } as const;
  const result = await db.execute(sql`
    WITH client_org AS (${serviceClientOrg(input.org, input.allowedOrgs)}),
    tok AS (
      SELECT t.id, t.org_id, t.user_id, t.provider, t.ciphertext, t.key_version, t.aad_version, t.scopes, t.expires_at,
             p.id AS page_id, p.external_page_id, p.name
      FROM provider_pages p
      JOIN provider_tokens t ON t.page_id = p.id AND t.org_id = p.org_id
      -- The person who connected the Page must still be an enabled member of the org.
      JOIN memberships m ON m.org_id = t.org_id AND m.user_id = t.user_id
      JOIN users u ON u.id = t.user_id AND u.disabled_at IS NULL
      WHERE p.id = ${input.pageId}::uuid AND p.org_id = (SELECT id FROM client_org) AND p.gone_at IS NULL
        AND t.token_type = 'page' AND t.deleted_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
    ),
    audit AS (${auditInsert(
      {
        actor,
        action: "page_token.read",
        orgId: sql`tok.org_id`,
        targetType: "provider_page",
        targetId: sql`tok.page_id::text`,
        metadata: sql`jsonb_build_object('provider', tok.provider, 'tokenId', tok.id)`,
        context: input.context,
      },
      sql`tok`,
    )})
    SELECT tok.id, tok.org_id, tok.user_id, tok.provider, encode(tok.ciphertext, 'hex') AS ciphertext_hex, tok.key_version, tok.aad_version,
           tok.scopes, tok.expires_at,
           tok.page_id, tok.external_page_id, tok.name
    FROM tok`);
  const row = result.rows[0];
  if (!row) return null;
  return { ...sealedRow(row), page: { id: String(row.page_id), externalId: String(row.external_page_id), name: String(row.name) } };
}

/**
 * A raw token row (with `ciphertext_hex`) as {@link SealedTokenRow}.
 *
 * @example
 * const sealed = sealedRow(result.rows[0]);
 */
export function sealedRow(row: Record<string, unknown>): SealedTokenRow {
  const ciphertext = fromHex(String(row.ciphertext_hex));
  return {
    tokenId: String(row.id),
    orgId: String(row.org_id),
    userId: String(row.user_id),
    provider: String(row.provider),
    aadVersion: row.aad_version === null || row.aad_version === undefined ? null : Number(row.aad_version),
    ciphertext,
    keyVersion: Number(row.key_version),
    scopes: textArray(row.scopes),
    expiresAt: toIsoOrNull(row.expires_at),
  };
}

function textArray(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}
