/**
 * The token endpoint's database work, one round trip per request:
 * - `exchangeCode`: ONE statement that locks the code row, checks every
 *   binding (client and its secret, redirect URI, PKCE challenge, resource,
 *   expiry, user and client not disabled), consumes the code and creates
 *   the refresh family; or, when the code was already consumed, revokes the
 *   family issued from it (RFC 6749 §4.1.2). `FOR UPDATE` makes concurrent
 *   exchanges queue on the row: exactly one consumes it, every other one sees
 *   it consumed and revokes.
 * - `refreshClientFamily`: ONE batch: the client check, the revocation of a
 *   family whose code was replayed, the session-family rotation of
 *   `db/sessions.ts` bound to the client, and the family's grant.
 * - `revokeClientToken`: ONE batch: the client check and the family revocation.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Database } from "./client";
import { pgArray } from "./oauth-authorize";
import {
  refreshOutcomeOf,
  refreshSessionStatement,
  revokeFamilySql,
  sessionInsertSql,
  type NewSession,
  type RefreshInput,
  type RefreshOutcome,
} from "./sessions";

/**
 * A client id as SQL: a registered client's UUID, or the id of the row a
 * Client ID Metadata Document client (its URL as `client_id`) was given at
 * its authorization request.
 *
 * @example
 * sql`WHERE c.id = ${clientIdSql("https://app.example.com/client.json")}`;
 */
export function clientIdSql(clientId: string): SQL {
  return UUID.test(clientId) ? sql`${clientId}::uuid` : sql`(SELECT id FROM oauth_clients WHERE metadata_url = ${clientId})`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The user claims an id_token or userinfo may carry. */
export interface OAuthUser {
  id: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  image: string | null;
}

/**
 * The organization an org-scoped grant was given for and the user's role
 * there now, read in the same statement as the token: the access token's
 * `org` and `roles`. Null when the grant names no organization or the user
 * has left it (the token then carries no org claims).
 */
export interface TokenOrg {
  id: string;
  roles: string[];
}

function orgOf(row: Record<string, unknown>): TokenOrg | null {
  return row.org_id == null || typeof row.org_role !== "string" ? null : { id: String(row.org_id), roles: [row.org_role] };
}

export type ExchangeOutcome =
  | { outcome: "issued"; user: OAuthUser; scopes: string[]; resource: string; nonce: string | null; authTime: Date; amr: string[] | null; familyId: string; org: TokenOrg | null }
  | { outcome: "replayed"; familyId: string | null }
  | { outcome: "invalid_client" }
  | { outcome: "invalid_grant" };

/**
 * SQL yielding true when the client exists, is enabled and the presented
 * secret's hash matches (NULL for public clients, which have none). The
 * comparison is of SHA-256 digests: its timing says nothing about the secret.
 */
export function clientAuthenticatedSql(clientId: string, secretHash: string | null): SQL {
  return sql`EXISTS (SELECT 1 FROM oauth_clients c WHERE c.id = ${clientIdSql(clientId)} AND c.disabled_at IS NULL
                     AND c.secret_hash IS NOT DISTINCT FROM ${secretHash}::text)`;
}

/**
 * Exchanges an authorization code in one statement; see the file comment.
 *
 * @example
 * const r = await exchangeCode(db, { codeHash, clientId, secretHash: null, redirectUri, codeChallenge, resource: null, family });
 */
export async function exchangeCode(
  db: Database,
  input: {
    codeHash: string;
    clientId: string;
    secretHash: string | null;
    redirectUri: string;
    /** The S256 challenge computed from the presented verifier. */
    codeChallenge: string;
    resource: string | null;
    /** The refresh family to create when `offline_access` was granted (its id is the family id). */
    family: Omit<NewSession, "userId">;
  },
): Promise<ExchangeOutcome> {
  const f = input.family;
  const familyInsert = sessionInsertSql(
    {
      ...f,
      userId: sql`ok.user_id`,
      clientIdSql: sql`ok.client_id`,
    },
    sql`ok WHERE 'offline_access' = ANY(ok.scopes)`,
  );
  const result = await db.execute(sql`
    WITH locked AS (
      SELECT * FROM oauth_codes WHERE code_hash = ${input.codeHash} FOR UPDATE
    ),
    client_ok AS (SELECT ${clientAuthenticatedSql(input.clientId, input.secretHash)} AS ok),
    ok AS (
      SELECT l.*, u.email, u.email_verified_at, u.name, u.image
      FROM locked l JOIN users u ON u.id = l.user_id
      WHERE l.consumed_at IS NULL AND l.expires_at > now() AND (SELECT ok FROM client_ok)
        AND l.client_id = ${clientIdSql(input.clientId)} AND l.redirect_uri = ${input.redirectUri}
        AND l.code_challenge = ${input.codeChallenge}
        AND (${input.resource}::text IS NULL OR l.resource = ${input.resource}::text)
        AND u.disabled_at IS NULL
    ),
    consumed AS (
      UPDATE oauth_codes o SET consumed_at = now(), family_id = ${f.sessionId}::uuid
      FROM ok WHERE o.code_hash = ok.code_hash RETURNING o.code_hash
    ),
    family AS (${familyInsert}),
    family_grant AS (
      INSERT INTO oauth_families (session_id, client_id, scopes, resource, org_id, auth_time, amr)
      SELECT ${f.sessionId}::uuid, ok.client_id, ok.scopes, ok.resource, ok.org_id, ok.auth_time, ok.amr FROM ok WHERE 'offline_access' = ANY(ok.scopes)
      RETURNING session_id
    ),
    replayed AS (SELECT code_hash, family_id FROM locked WHERE consumed_at IS NOT NULL),
    marked AS (
      UPDATE oauth_codes o SET replayed_at = coalesce(o.replayed_at, now())
      FROM replayed WHERE o.code_hash = replayed.code_hash RETURNING o.code_hash
    ),
    -- Finds the family only when its exchange committed before this statement began;
    -- otherwise the mark above makes the refresh grant revoke it (refreshClientFamily).
    revoked AS (${revokeFamilySql(sql`(SELECT family_id FROM replayed)`)})
    SELECT 'issued' AS outcome, ok.user_id, ok.email, ok.email_verified_at IS NOT NULL AS email_verified, ok.name, ok.image,
           ok.scopes, ok.resource, ok.nonce, extract(epoch FROM ok.auth_time)::float8 AS auth_time, NULL::uuid AS family_id,
           ok.org_id, (SELECT m.role::text FROM memberships m WHERE m.org_id = ok.org_id AND m.user_id = ok.user_id) AS org_role,
           (SELECT count(*) FROM consumed) + (SELECT count(*) FROM family) + (SELECT count(*) FROM family_grant) AS writes,
           ok.amr
      FROM ok
    UNION ALL
    SELECT 'replayed', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, family_id, NULL, NULL,
           (SELECT count(*) FROM revoked) + (SELECT count(*) FROM marked), NULL FROM replayed
    UNION ALL
    SELECT 'rejected', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
      WHERE NOT EXISTS (SELECT 1 FROM ok) AND NOT EXISTS (SELECT 1 FROM replayed) AND NOT (SELECT ok FROM client_ok)
  `);
  const row = result.rows[0] as Record<string, unknown> | undefined;
  if (!row) return { outcome: "invalid_grant" };
  if (row.outcome === "replayed") return { outcome: "replayed", familyId: row.family_id == null ? null : String(row.family_id) };
  if (row.outcome === "rejected") return { outcome: "invalid_client" };
  return {
    outcome: "issued",
    user: userOf(row),
    scopes: pgArray(row.scopes),
    resource: String(row.resource),
    nonce: typeof row.nonce === "string" ? row.nonce : null,
    authTime: new Date(Number(row.auth_time) * 1000),
    amr: amrOf(row.amr),
    familyId: f.sessionId,
    org: orgOf(row),
  };
}

export type ClientRefreshOutcome =
  | { outcome: "invalid_client" }
  | {
      outcome: "refreshed";
      refresh: RefreshOutcome & { outcome: "rotated" | "grace" };
      user: OAuthUser;
      scopes: string[];
      resource: string;
      authTime: Date;
      /** The sign-in's RFC 8176 methods (`sessions.amr`); null: recorded before amr was (federated). */
      amr: string[] | null;
      org: TokenOrg | null;
    }
  | { outcome: "reused"; familyId: string }
  | { outcome: "wrong_resource" }
  | { outcome: "rejected" };

/**
 * The refresh-token grant: one batch (client check, rotation bound to the
 * client, the family's grant and user).
 *
 * @example
 * const r = await refreshClientFamily(db, { clientId, secretHash: null, sessionId, presentedHash, nextHash, refreshTtlSeconds, graceSeconds });
 */
export async function refreshClientFamily(
  db: Database,
  input: Omit<RefreshInput, "clientId" | "familyCondition"> & { clientId: string; secretHash: string | null; resource: string | null },
): Promise<ClientRefreshOutcome> {
  const { secretHash, resource, ...rest } = input;
  // RFC 8707: a refresh may name the grant's resource, never another; checked before anything rotates.
  const refresh: RefreshInput = {
    ...rest,
    clientId: clientIdSql(input.clientId),
    ...(resource === null ? {} : { familyCondition: sql`EXISTS (SELECT 1 FROM oauth_families f WHERE f.session_id = s.id AND f.resource = ${resource})` }),
  };
  const [client, , rotated, grant] = await db.batch([
    db.execute(sql`SELECT ${clientAuthenticatedSql(input.clientId, secretHash)} AS ok`),
    // A family whose code was replayed is revoked before the rotation can see it.
    db.execute(sql`WITH gone AS (${revokeFamilySql(
      sql`(SELECT family_id FROM oauth_codes WHERE family_id = ${input.sessionId}::uuid AND replayed_at IS NOT NULL LIMIT 1)`,
    )}) SELECT count(*) AS n FROM gone`),
    refreshSessionStatement(db, refresh),
    db.execute(sql`
      SELECT f.scopes, f.resource, extract(epoch FROM f.auth_time)::float8 AS auth_time, f.amr, f.org_id,
             (SELECT m.role::text FROM memberships m WHERE m.org_id = f.org_id AND m.user_id = u.id) AS org_role,
             u.id AS user_id, u.email, u.email_verified_at IS NOT NULL AS email_verified, u.name, u.image
      FROM oauth_families f JOIN users u ON u.id = (SELECT user_id FROM sessions WHERE id = f.session_id)
      WHERE f.session_id = ${input.sessionId}::uuid AND f.client_id = ${clientIdSql(input.clientId)}`),
  ]);
  if ((client.rows[0] as { ok?: unknown } | undefined)?.ok !== true) return { outcome: "invalid_client" };
  const outcome = refreshOutcomeOf(rotated.rows);
  if (outcome.outcome === "reused") return { outcome: "reused", familyId: outcome.sessionId };
  const row = grant.rows[0] as Record<string, unknown> | undefined;
  if (outcome.outcome === "rejected" && row && resource !== null && row.resource !== resource) return { outcome: "wrong_resource" };
  if (outcome.outcome === "rejected" || !row) return { outcome: "rejected" };
  return {
    outcome: "refreshed",
    refresh: outcome,
    user: userOf(row),
    scopes: pgArray(row.scopes),
    resource: String(row.resource),
    authTime: new Date(Number(row.auth_time) * 1000),
    amr: amrOf(row.amr),
    org: orgOf(row),
  };
}

/**
 * RFC 7009 for refresh tokens: revokes the family when the token (current or
 * previous secret) belongs to the authenticated client. One batch.
 *
 * @example
 * const r = await revokeClientFamily(db, { clientId, secretHash: null, sessionId, presentedHash });
 */
export async function revokeClientFamily(
  db: Database,
  input: { clientId: string; secretHash: string | null; sessionId: string; presentedHash: string; presentedFamilyHash: string | null },
): Promise<{ clientOk: boolean; revoked: string[] }> {
  const [client, revoked] = await db.batch([
    db.execute(sql`SELECT ${clientAuthenticatedSql(input.clientId, input.secretHash)} AS ok`),
    db.execute(sql`
      UPDATE sessions SET revoked_at = now()
      WHERE id = ${input.sessionId}::uuid AND client_id = ${clientIdSql(input.clientId)} AND revoked_at IS NULL
        AND (secret_hash = ${input.presentedHash} OR previous_secret_hash = ${input.presentedHash}
             -- any token the family ever issued carries its family secret
             OR family_secret_hash = ${input.presentedFamilyHash}::text)
        AND ${clientAuthenticatedSql(input.clientId, input.secretHash)}
      RETURNING id`),
  ]);
  return {
    clientOk: (client.rows[0] as { ok?: unknown } | undefined)?.ok === true,
    revoked: revoked.rows.map((r) => String((r as { id: unknown }).id)),
  };
}

/**
 * Whether the client exists, is enabled and its secret matches. One SELECT.
 *
 * @example
 * if (!(await authenticateClient(db, clientId, secretHash))) return invalidClient();
 */
export async function authenticateClient(db: Database, clientId: string, secretHash: string | null): Promise<boolean> {
  const result = await db.execute(sql`SELECT ${clientAuthenticatedSql(clientId, secretHash)} AS ok`);
  return (result.rows[0] as { ok?: unknown } | undefined)?.ok === true;
}

/**
 * The user for userinfo: `null` when missing or disabled. One SELECT.
 *
 * @example
 * const user = await userForUserinfo(db, claims.sub);
 */
export async function userForUserinfo(db: Database, userId: string): Promise<OAuthUser | null> {
  const result = await db.execute(sql`
    SELECT id AS user_id, email, email_verified_at IS NOT NULL AS email_verified, name, image
    FROM users WHERE id = ${userId}::uuid AND disabled_at IS NULL`);
  const row = result.rows[0] as Record<string, unknown> | undefined;
  return row ? userOf(row) : null;
}

function userOf(row: Record<string, unknown>): OAuthUser {
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return { id: String(row.user_id), email: str(row.email), emailVerified: row.email_verified === true, name: str(row.name), image: str(row.image) };
}

/** `text[]` as the driver returns it (an array, or `{a,b}` text), or null. */
function amrOf(value: unknown): string[] | null {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === "string" && /^\{[a-z,]*\}$/.test(value)) return value.slice(1, -1).split(",").filter(Boolean);
  return null;
}
