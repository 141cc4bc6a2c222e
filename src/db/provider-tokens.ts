/**
 * Provider tokens of an organization: the statement builders the connect
 * flow puts in its ONE batch, disconnect, and the service clients' read of a
 * member's own token (read + audit in one statement).
 *
 * Two rules from the failure catalog shape every insert here:
 * - F12: `token_type` is ALWAYS written explicitly ('user' or 'page'); the
 *   column has no default, so forgetting it is an error, never a wrong value.
 * - F13: the previous active token is soft-deleted first (history is kept),
 *   and the insert still upserts into the active row on conflict, so a
 *   concurrent reconnect can neither violate the partial unique index nor
 *   leave two active tokens.
 */
import type { RequestContext } from "../lib/request-context";
import { and, eq, isNull, sql, type SQL } from "drizzle-orm";
import { auditInsert } from "./audit";
import type { Database } from "./client";
import type { OrgRef } from "./orgs";
import { sealedRow, type SealedTokenRow } from "./pages";
import { providerPages, providerTokens } from "./schema";
import { serviceClientOrg } from "./service-scope";
import { toHex } from "../lib/hex";

/**
 * The AAD version every writer seals with (`provider_tokens.aad_version`;
 * `orgs/provider-token-secret.ts` builds the AADs). NULL marks older rows.
 */
export const TOKEN_AAD_VERSION = 2;

/** A token already sealed with `lib/crypto.ts` `seal` (see `orgs/provider-token-secret.ts` for its AAD). */
export interface SealedTokenInput {
  ciphertext: Uint8Array;
  keyVersion: number;
  scopes: readonly string[];
  expiresAt: Date | null;
}

interface TokenOwner {
  orgId: string;
  /** An id, or SQL yielding one (e.g. a subselect on a row written earlier in the same batch). */
  userId: string | SQL;
  /**
   * The `accounts` row the token was granted to: an id, or SQL yielding one,
   * for a batch that creates the account itself (a first-time connect).
   */
  accountId: string | SQL;
  provider: string;
}

/**
 * Batch items replacing the user's active `token_type='user'` token of
 * (org, user, provider): soft-delete the old one, insert the new one.
 *
 * @example
 * await db.batch([...replaceUserTokenStatements(db, { orgId, userId, accountId, provider: "facebook", token: sealed })]);
 */
export function replaceUserTokenStatements(db: Database, input: TokenOwner & { token: SealedTokenInput }) {
  const { orgId, userId, accountId, provider, token } = input;
  const retire = db
    .update(providerTokens)
    .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
    .where(
      and(
        eq(providerTokens.orgId, orgId),
        eq(providerTokens.userId, userId),
        eq(providerTokens.provider, provider),
        eq(providerTokens.tokenType, "user"),
        isNull(providerTokens.deletedAt),
      ),
    );
  const insert = db
    .insert(providerTokens)
    .values({ orgId, userId, accountId, provider, tokenType: "user", pageId: null, ...sealedColumns(token) })
    .onConflictDoUpdate({
      target: [providerTokens.orgId, providerTokens.userId, providerTokens.provider],
      targetWhere: sql`deleted_at IS NULL AND token_type = 'user'`,
      set: { accountId, tokenType: "user", ...sealedColumns(token), updatedAt: sql`now()` },
    });
  return [retire, insert] as const;
}

/**
 * Batch items replacing the active token of the page `externalPageId` of
 * (org, provider): soft-delete the page's old token (whoever connected it),
 * insert the new one as `token_type='page'`. The page is found by a
 * subselect, so put these AFTER `syncPagesStatements` in the same batch.
 *
 * @example
 * await db.batch([...syncPagesStatements(db, { orgId, userId, provider, pages }), ...pages.flatMap((p, i) => replacePageTokenStatements(db, { orgId, userId, accountId, provider, externalPageId: p.externalId, token: sealed[i] }))]);
 */
export function replacePageTokenStatements(db: Database, input: TokenOwner & { externalPageId: string; token: SealedTokenInput }) {
  const { orgId, userId, accountId, provider, token } = input;
  const pageId = sql`(SELECT ${providerPages.id} FROM ${providerPages} WHERE ${providerPages.orgId} = ${orgId}::uuid AND ${providerPages.provider} = ${provider} AND ${providerPages.externalPageId} = ${input.externalPageId})`;
  const retire = db
    .update(providerTokens)
    .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(providerTokens.orgId, orgId), eq(providerTokens.pageId, pageId), isNull(providerTokens.deletedAt)));
  const insert = db
    .insert(providerTokens)
    .values({ orgId, userId, accountId, provider, tokenType: "page", pageId, ...sealedColumns(token) })
    .onConflictDoUpdate({
      target: [providerTokens.orgId, providerTokens.pageId],
      targetWhere: sql`deleted_at IS NULL AND page_id IS NOT NULL`,
      set: { userId, accountId, tokenType: "page", ...sealedColumns(token), updatedAt: sql`now()` },
    });
  return [retire, insert] as const;
}

/**
 * Disconnect: soft-deletes every active token (user and page) the user holds
 * for (org, provider). One statement; rows are kept for the record.
 *
 * @example
 * await disconnectProviderStatement(db, { orgId, userId, provider: "facebook" });
 */
export function disconnectProviderStatement(db: Database, input: { orgId: string; userId: string; provider: string }) {
  return db
    .update(providerTokens)
    .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
    .where(
      and(
        eq(providerTokens.orgId, input.orgId),
        eq(providerTokens.userId, input.userId),
        eq(providerTokens.provider, input.provider),
        isNull(providerTokens.deletedAt),
      ),
    );
}

/**
 * A member's active, unexpired `token_type='user'` token of (org, user,
 * provider) for a service client allowed for the org, and its
 * `provider_token.read` audit row, in ONE statement. `null` for every way
 * it can fail (org not allowed, not a member, disabled user, no token).
 * `providerSubject`, `aadVersion` and `personal` are the AAD inputs (`storedUserTokenAad`).
 * The row's user must be the identity's user (`accounts.user_id`).
 *
 * @example
 * const row = await readUserToken(db, { clientId, allowedOrgs, org: ref, userId, provider: "facebook" });
 */
export async function readUserToken(
  db: Database,
  input: { clientId: string; allowedOrgs: readonly string[]; org: OrgRef; userId: string; provider: string; context?: RequestContext },
): Promise<(SealedTokenRow & { userId: string; providerSubject: string; personal: boolean }) | null> {
  const actor = { type: "service_client", id: input.clientId } as const;
  const result = await db.execute(sql`
    WITH client_org AS (${serviceClientOrg(input.org, input.allowedOrgs)}),
    tok AS (
      SELECT t.id, t.org_id, t.user_id, t.provider, t.ciphertext, t.key_version, t.aad_version, t.scopes, t.expires_at,
             a.provider_subject, o.personal
      FROM provider_tokens t
      JOIN accounts a ON a.id = t.account_id AND a.user_id = t.user_id
      JOIN organizations o ON o.id = t.org_id
      JOIN memberships m ON m.org_id = t.org_id AND m.user_id = t.user_id
      JOIN users u ON u.id = t.user_id AND u.disabled_at IS NULL
      WHERE t.org_id = (SELECT id FROM client_org) AND t.user_id = ${input.userId}::uuid AND t.provider = ${input.provider}::text
        AND t.token_type = 'user' AND t.deleted_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
    ),
    audit AS (${auditInsert(
      {
        actor,
        action: "provider_token.read",
        orgId: sql`tok.org_id`,
        targetType: "provider_token",
        targetId: sql`tok.id::text`,
        metadata: sql`jsonb_build_object('provider', tok.provider, 'userId', tok.user_id)`,
        subjectUserId: sql`tok.user_id`,
        context: input.context,
      },
      sql`tok`,
    )})
    SELECT tok.id, tok.org_id, tok.user_id, tok.provider, encode(tok.ciphertext, 'hex') AS ciphertext_hex, tok.key_version,
           tok.aad_version, tok.scopes, tok.expires_at, tok.provider_subject, tok.personal
    FROM tok`);
  const row = result.rows[0];
  if (!row) return null;
  return { ...sealedRow(row), providerSubject: String(row.provider_subject), personal: row.personal === true };
}

/**
 * {@link replacePageTokenStatements} for any number of pages in TWO batch
 * items, whatever the count: soft-delete the active tokens of those pages,
 * then insert the new ones as `token_type='page'` (F12), upserting into an
 * active row a concurrent reconnect may have inserted meanwhile (F13). The
 * tokens travel as one JSON parameter, so 1,000 pages stay far below
 * Postgres's parameter limit. Put these AFTER `syncPagesStatements`; a page
 * not in `provider_pages` gets no token. `externalPageId`s must be distinct.
 *
 * @example
 * await db.batch([...syncPagesStatements(db, { orgId, userId, provider, pages }), ...replacePageTokensStatements(db, { orgId, userId, accountId, provider, pages: sealed })]);
 */
export function replacePageTokensStatements(
  db: Database,
  input: TokenOwner & { pages: readonly { externalPageId: string; token: SealedTokenInput }[] },
) {
  const { orgId, provider, pages } = input;
  if (pages.length === 0) return [];
  const ids = JSON.stringify(pages.map((p) => p.externalPageId));
  const rows = JSON.stringify(
    pages.map((p) => ({
      external_page_id: p.externalPageId,
      ciphertext: toHex(p.token.ciphertext),
      key_version: p.token.keyVersion,
      scopes: p.token.scopes,
      expires_at: p.token.expiresAt?.toISOString() ?? null,
    })),
  );
  const retire = db.execute(sql`
    UPDATE provider_tokens t SET deleted_at = now(), updated_at = now()
    FROM provider_pages p
    WHERE p.org_id = ${orgId}::uuid AND p.provider = ${provider}::text
      AND p.external_page_id IN (SELECT jsonb_array_elements_text(${ids}::jsonb))
      AND t.org_id = p.org_id AND t.page_id = p.id AND t.deleted_at IS NULL`);
  const insert = db.execute(sql`
    INSERT INTO provider_tokens (org_id, user_id, account_id, page_id, provider, token_type, ciphertext, key_version, aad_version, scopes, expires_at)
    SELECT p.org_id, ${idValue(input.userId)}, ${idValue(input.accountId)}, p.id, p.provider, 'page'::provider_token_type,
           decode(x.ciphertext, 'hex'), x.key_version, ${TOKEN_AAD_VERSION}::integer, ARRAY(SELECT jsonb_array_elements_text(x.scopes)), x.expires_at
    FROM jsonb_to_recordset(${rows}::jsonb) AS x(external_page_id text, ciphertext text, key_version integer, scopes jsonb, expires_at timestamptz)
    JOIN provider_pages p ON p.org_id = ${orgId}::uuid AND p.provider = ${provider}::text AND p.external_page_id = x.external_page_id
    ON CONFLICT (org_id, page_id) WHERE deleted_at IS NULL AND page_id IS NOT NULL
    DO UPDATE SET user_id = EXCLUDED.user_id, account_id = EXCLUDED.account_id, token_type = 'page'::provider_token_type,
                  ciphertext = EXCLUDED.ciphertext, key_version = EXCLUDED.key_version, aad_version = EXCLUDED.aad_version, scopes = EXCLUDED.scopes,
                  expires_at = EXCLUDED.expires_at, updated_at = now()`);
  return [retire, insert] as const;
}

/** A uuid value for raw SQL: a literal id cast to uuid, or the caller's SQL as is. */
function idValue(value: string | SQL): SQL {
  return typeof value === "string" ? sql`${value}::uuid` : value;
}

function sealedColumns(token: SealedTokenInput) {
  return { ciphertext: token.ciphertext, keyVersion: token.keyVersion, aadVersion: TOKEN_AAD_VERSION, scopes: [...token.scopes], expiresAt: token.expiresAt };
}
