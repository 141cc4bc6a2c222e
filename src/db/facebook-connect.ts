/**
 * The database side of connecting a provider's Pages (Facebook) to an
 * organization: statements that join the sign-in callback's ONE batch
 * (`runSignInBatch` with `connect`), and the disconnect statement.
 *
 * The batch runs, in one transaction:
 *   consume state → decide/link the account → … → session (db/signin.ts), then
 *   1. the org role guard: the linking user must STILL be owner or admin
 *      (roles can change between the start and the callback);
 *   2. the pages: upsert the listed ones, mark the others gone (unless
 *      another member's active token still serves them);
 *   3. the user's long-lived token (`token_type='user'`) for (org, user, provider);
 *   4. every page token (`token_type='page'`), two statements for any count;
 *   5. the `provider.connect` audit row.
 * The account id is a subselect on `accounts(provider, provider_subject)`:
 * a first-time connect creates the account in the same batch, so no id
 * exists before it runs.
 */
import type { RequestContext } from "../lib/request-context";
import { sql, type SQL } from "drizzle-orm";
import { auditInsert } from "./audit";
import type { Database } from "./client";
import { callerMembership, orgRoleGuardStatement, type OrgRef } from "./orgs";
import { syncPagesStatements, type ProviderPageInput } from "./pages";
import { replacePageTokensStatements, replaceUserTokenStatements, type SealedTokenInput } from "./provider-tokens";

/** What a connect stores, sealed already (see `orgs/provider-token-secret.ts` for the AADs). */
export interface PagesConnectInput {
  orgId: string;
  pages: readonly ProviderPageInput[];
  /** Sealed with `userTokenAad({ kind: "org", orgId, userId }, provider, subject)`. */
  userToken: SealedTokenInput;
  /** Sealed with `pageTokenAad(orgId, userId, provider, externalPageId)`; pages without a token are left out. */
  pageTokens: readonly { externalPageId: string; token: SealedTokenInput }[];
  /** False when the provider's list was capped: unlisted pages are then not marked gone. */
  listComplete: boolean;
}

/**
 * The connect's batch items, to append after the sign-in statements that
 * create or find the account `(provider, subject)` and link it to `userId`.
 * The first item fails the whole batch unless `userId` is owner or admin of
 * the org (`isOrgRoleRefusal` recognizes it).
 *
 * @example
 * await db.batch([...signInStatements, ...pagesConnectStatements(db, { ...connect, userId, provider: "facebook", subject })]);
 */
export function pagesConnectStatements(
  db: Database,
  input: PagesConnectInput & { userId: string; provider: string; subject: string; context?: RequestContext | null },
) {
  const { orgId, userId, provider, pages } = input;
  const accountId = sql`(SELECT a.id FROM accounts a WHERE a.provider = ${provider}::text AND a.provider_subject = ${input.subject}::text)`;
  const owner = { orgId, userId, accountId, provider };
  const metadata = sql`jsonb_build_object('provider', ${provider}::text, 'pages', ${pages.length}::integer,
    'pageTokens', ${input.pageTokens.length}::integer, 'capped', ${!input.listComplete}::boolean)`;
  return [
    orgRoleGuardStatement(db, { userId, orgId, roles: ["owner", "admin"] }),
    ...syncPagesStatements(db, { orgId, userId, provider, pages, markMissingGone: input.listComplete }),
    ...replaceUserTokenStatements(db, { ...owner, token: input.userToken }),
    ...replacePageTokensStatements(db, { ...owner, pages: input.pageTokens }),
    db.execute(
      auditInsert(
        {
          actor: { type: "user", id: userId },
          action: "provider.connect",
          orgId: sql`${orgId}::uuid`,
          targetType: "organization",
          targetId: sql`${orgId}::text`,
          metadata,
          subjectUserId: sql`${userId}::uuid`,
          context: input.context ?? undefined,
        },
        sql`(SELECT 1) AS one`,
      ),
    ),
  ] as const;
}

/** Outcome of a disconnect: refused, or how many active tokens were soft-deleted. */
export type DisconnectResult =
  | { ok: true; userTokens: number; pageTokens: number }
  | { ok: false; refusal: "not_member" | "forbidden" };

/**
 * Disconnect in ONE statement: when `userId` is owner or admin of `org`,
 * soft-delete every active token (user and page) they hold there for
 * `provider` and write the `provider.disconnect` audit row. Rows are kept.
 * Tokens other admins connected stay. Pages stay listed (their token status
 * shows no active token).
 *
 * @example
 * const result = await disconnectProvider(db, { userId, org: { kind: "slug", slug: "acme" }, provider: "facebook" });
 */
export async function disconnectProvider(
  db: Database,
  input: { userId: string | SQL; org: OrgRef; provider: string; context?: RequestContext },
): Promise<DisconnectResult> {
  const { userId, provider } = input;
  const result = await db.execute(sql`
    WITH caller AS (${callerMembership(userId, input.org, { lock: true })}),
    allowed AS (SELECT org_id FROM caller WHERE role IN ('owner', 'admin')),
    retired AS (
      UPDATE provider_tokens t SET deleted_at = now(), updated_at = now()
      FROM allowed a
      WHERE t.org_id = a.org_id AND t.user_id = ${userId}::uuid AND t.provider = ${provider}::text AND t.deleted_at IS NULL
      RETURNING t.token_type
    ),
    audit AS (${auditInsert(
      {
        actor: { type: "user", id: userId },
        action: "provider.disconnect",
        orgId: sql`allowed.org_id`,
        targetType: "organization",
        targetId: sql`allowed.org_id::text`,
        metadata: sql`jsonb_build_object('provider', ${provider}::text,
          'userTokens', (SELECT count(*) FROM retired WHERE token_type = 'user'),
          'pageTokens', (SELECT count(*) FROM retired WHERE token_type = 'page'))`,
        subjectUserId: sql`${userId}::uuid`,
        context: input.context,
      },
      sql`allowed`,
    )})
    SELECT c.role,
           (SELECT count(*) FROM retired WHERE token_type = 'user')::int AS user_tokens,
           (SELECT count(*) FROM retired WHERE token_type = 'page')::int AS page_tokens
    FROM caller c`);
  const row = result.rows[0];
  if (!row) return { ok: false, refusal: "not_member" };
  if (row.role !== "owner" && row.role !== "admin") return { ok: false, refusal: "forbidden" };
  return { ok: true, userTokens: Number(row.user_tokens), pageTokens: Number(row.page_tokens) };
}
