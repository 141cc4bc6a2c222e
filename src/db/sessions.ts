/**
 * Session rows (refresh-token families). Every function here is exactly one
 * database round trip, and every decision is made inside that statement, so
 * two requests racing on the same row cannot both win.
 *
 * A family is one row: a fixed family-secret hash, the current secret hash,
 * the previous one (for the grace window) and the rotation time. Any token
 * that carries the family secret but not a current (or in-grace previous)
 * secret is a past token of the family, i.e. a copy: presenting it revokes
 * the family. The machinery is generic (nothing here knows about cookies);
 * other refresh-token families (e.g. OAuth clients) can reuse it.
 */
import { and, desc, eq, gt, isNull, sql, type SQL } from "drizzle-orm";
import type { RequestContext } from "../lib/request-context";
import { auditInsert } from "./audit";
import type { Database } from "./client";
import { sessions } from "./schema";

export interface NewSession {
  sessionId: string;
  /** Lowercase hex SHA-256 of the refresh secret. */
  secretHash: string;
  /** Lowercase hex SHA-256 of the family secret (fixed for the session's life). */
  familySecretHash: string;
  /** A user id, or a SQL expression (e.g. a subselect) that yields it inside the same batch. */
  userId: string | SQL;
  /** The identity (`accounts` row) the session was created through, if any: an id or SQL yielding it. */
  accountId?: string | SQL | null;
  ip: string | null;
  userAgent: string | null;
  now: Date;
  refreshTtlSeconds: number;
  absoluteTtlSeconds: number;
  /** The OAuth client owning this family (docs/oauth-server.md); omitted for browser sessions. */
  clientId?: string | undefined;
  /** The passkey the session was created with (an id or SQL yielding it); removing it ends the session. */
  passkeyId?: string | SQL | null;
  /** RFC 8176 methods of the sign-in (`["fed"]`, `["otp"]`, `["hwk","user"]`…); omitted: NULL, read as `["fed"]`. */
  amr?: readonly string[] | null;
}

/**
 * The INSERT for a new session, not executed: put it in the sign-in
 * callback's `db.batch([...])` so the user and the session commit together.
 *
 * @example
 * const { sessionId, secretHash, token } = await mintRefreshToken();
 * await db.batch([upsertUser, insertSessionStatement(db, { sessionId, secretHash, userId: sql`(SELECT id FROM users WHERE …)`, ip, userAgent, now, refreshTtlSeconds, absoluteTtlSeconds })]);
 */
export function insertSessionStatement(db: Database, input: NewSession) {
  const at = input.now.getTime();
  const absoluteExpiresAt = new Date(at + input.absoluteTtlSeconds * 1000);
  const expiresAt = new Date(at + Math.min(input.refreshTtlSeconds, input.absoluteTtlSeconds) * 1000);
  return db.insert(sessions).values({
    id: input.sessionId,
    userId: input.userId,
    accountId: input.accountId ?? null,
    secretHash: input.secretHash,
    familySecretHash: input.familySecretHash,
    createdAt: input.now,
    lastUsedAt: input.now,
    expiresAt,
    absoluteExpiresAt,
    ip: input.ip,
    userAgent: input.userAgent,
    clientId: input.clientId ?? null,
    passkeyId: input.passkeyId ?? null,
    amr: input.amr ? [...input.amr] : null,
  });
}

/**
 * The same new session row as `insertSessionStatement`, as SQL for a
 * data-modifying CTE: `INSERT INTO sessions … SELECT … FROM <from>`, one row
 * per row of `from`, so a statement can create the family only when its
 * other conditions hold (the OAuth code exchange). `userId` is SQL over `from`.
 *
 * @example
 * sql`WITH ok AS (…), family AS (${sessionInsertSql({ …, userId: sql`ok.user_id` }, sql`ok`)}) SELECT …`
 */
export function sessionInsertSql(input: NewSession & { userId: SQL; clientIdSql?: SQL }, from: SQL): SQL {
  const at = input.now.getTime();
  const absoluteExpiresAt = new Date(at + input.absoluteTtlSeconds * 1000).toISOString();
  const expiresAt = new Date(at + Math.min(input.refreshTtlSeconds, input.absoluteTtlSeconds) * 1000).toISOString();
  const now = input.now.toISOString();
  return sql`INSERT INTO sessions (id, user_id, secret_hash, family_secret_hash, created_at, last_used_at, expires_at, absolute_expires_at, ip, user_agent, client_id)
    SELECT ${input.sessionId}::uuid, ${input.userId}, ${input.secretHash}, ${input.familySecretHash}, ${now}::timestamptz, ${now}::timestamptz,
           ${expiresAt}::timestamptz, ${absoluteExpiresAt}::timestamptz, ${input.ip}, ${input.userAgent}, ${input.clientIdSql ?? sql`${input.clientId ?? null}::uuid`}
    FROM ${from}
    RETURNING id`;
}

/**
 * SQL revoking the family whose id `familyId` yields (for a data-modifying
 * CTE): used when an authorization code is presented twice.
 *
 * @example
 * sql`WITH gone AS (${revokeFamilySql(sql`(SELECT family_id FROM replayed)`)}) SELECT …`
 */
export function revokeFamilySql(familyId: SQL): SQL {
  return sql`UPDATE sessions SET revoked_at = now() WHERE id = ${familyId} AND revoked_at IS NULL RETURNING id`;
}

export interface SessionProfileRow {
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  image: string | null;
}

/** What one refresh attempt did; see `refreshSession`. */
export type RefreshOutcome =
  | { outcome: "rotated" | "grace"; sessionId: string; userId: string; expiresAt: Date; profile: SessionProfileRow; actorId: string | null }
  | { outcome: "reused"; sessionId: string; userId: string }
  | { outcome: "rejected" };

/** What a refresh attempt presents and, if it wins, stores. */
export interface RefreshInput {
  sessionId: string;
  /** SHA-256 hex of the presented rotating secret. */
  presentedHash: string;
  /** SHA-256 hex of the presented family secret; null for a two-part token minted before family secrets. */
  presentedFamilyHash: string | null;
  /** SHA-256 hex of the secret to store on rotation. */
  nextHash: string;
  /** SHA-256 hex of the family secret the new token carries: the presented one, or a fresh one for a two-part token. */
  nextFamilyHash: string;
  refreshTtlSeconds: number;
  graceSeconds: number;
  /**
   * The OAuth client presenting the token. Omitted: a browser refresh, which
   * only matches families without a client. Given: only that client's
   * families match, and only while the client is not disabled.
   */
  clientId?: string | SQL | undefined;
  /** A further condition on the family row `s` (the OAuth grant's resource); unmet: `rejected`, nothing rotated. */
  familyCondition?: SQL | undefined;
  /** The request (`c.var.request`), for the `refresh.reuse_detected` audit row. */
  context?: RequestContext | undefined;
}

/**
 * Presents a refresh secret's hash and decides, in ONE statement:
 * - `rotated`: the family matches (or the row and the token both predate
 *   family secrets), the hash is current and the session live (not revoked,
 *   not expired, user not disabled): store `nextHash` and `nextFamilyHash`,
 *   keep the old hash as previous, slide the expiry (never past the absolute limit);
 * - `grace`: the hash is the previous one and the rotation happened less
 *   than `graceSeconds` ago (a parallel tab): nothing changes;
 * - `reused`: the family secret matches but the secret is neither current
 *   nor in-grace previous (a token from any earlier generation), or, for a
 *   two-part token, the previous hash past the grace window: the family is
 *   revoked, and a `refresh.reuse_detected` audit row written with it;
 * - `rejected`: anything else (unknown family, unknown id, revoked, expired,
 *   disabled). An unknown family secret never changes the row, so knowing a
 *   session id is not enough to sign anyone out.
 *
 * `FOR UPDATE` serializes racing refreshes of one row; the loser reads the
 * winner's committed row, so it lands in `grace`, never in a second rotation.
 *
 * @example
 * const r = await refreshSession(db, { sessionId, presentedHash, presentedFamilyHash, nextHash, nextFamilyHash, refreshTtlSeconds: 2592000, graceSeconds: 10 });
 */
export async function refreshSession(db: Database, input: RefreshInput): Promise<RefreshOutcome> {
  return refreshOutcomeOf((await refreshSessionStatement(db, input)).rows);
}

/**
 * `refreshSession`'s statement, not awaited: put it in a `db.batch` with a
 * read that needs the rotated row (the OAuth refresh grant), then pass its
 * rows to `refreshOutcomeOf`.
 *
 * @example
 * const [refreshed, meta] = await db.batch([refreshSessionStatement(db, input), metadataRead]);
 * const outcome = refreshOutcomeOf(refreshed.rows);
 */
export function refreshSessionStatement(db: Database, input: RefreshInput) {
  const presented = input.presentedHash;
  const family = input.presentedFamilyHash;
  const grace = sql`make_interval(secs => ${input.graceSeconds})`;
  const owner =
    input.clientId === undefined
      ? sql`s.client_id IS NULL`
      : sql`s.client_id = ${typeof input.clientId === "string" ? sql`${input.clientId}::uuid` : input.clientId}
            AND EXISTS (SELECT 1 FROM oauth_clients c WHERE c.id = s.client_id AND c.disabled_at IS NULL)
            ${input.familyCondition === undefined ? sql`` : sql`AND ${input.familyCondition}`}`;
  return db.execute(sql`
    WITH locked AS (
      SELECT s.id, s.user_id, s.secret_hash, s.previous_secret_hash, s.family_secret_hash, s.rotated_at, s.revoked_at, s.impersonator_id,
             s.expires_at, s.absolute_expires_at, u.disabled_at, u.email, u.email_verified_at IS NOT NULL AS email_verified,
             u.name, u.image,
             coalesce(s.family_secret_hash = ${family}::text, false) AS family_match,
             coalesce(s.previous_secret_hash = ${presented} AND s.secret_hash <> ${presented}, false) AS is_previous,
             coalesce(s.rotated_at > now() - ${grace}, false) AS in_grace
      FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.id = ${input.sessionId}::uuid AND ${owner}
      FOR UPDATE OF s
    ),
    live AS (
      SELECT * FROM locked
      WHERE revoked_at IS NULL AND disabled_at IS NULL AND expires_at > now() AND absolute_expires_at > now()
    ),
    rotated AS (
      UPDATE sessions s
      SET secret_hash = ${input.nextHash}, previous_secret_hash = s.secret_hash, family_secret_hash = ${input.nextFamilyHash},
          rotated_at = now(), last_used_at = now(),
          expires_at = least(now() + make_interval(secs => ${input.refreshTtlSeconds}), s.absolute_expires_at)
      FROM live
      WHERE s.id = live.id AND live.secret_hash = ${presented}
        AND (live.family_match OR (live.family_secret_hash IS NULL AND ${family}::text IS NULL))
      RETURNING s.id, s.user_id, s.expires_at
    ),
    reused AS (
      UPDATE sessions s SET revoked_at = now()
      FROM locked
      WHERE s.id = locked.id AND locked.revoked_at IS NULL
        AND ((locked.family_match AND locked.secret_hash <> ${presented} AND NOT (locked.is_previous AND locked.in_grace))
          OR (${family}::text IS NULL AND locked.is_previous AND NOT locked.in_grace))
      RETURNING s.id, s.user_id, s.client_id
    ),
    audit_reuse AS (${auditInsert(
      {
        // Whoever presented the old token is not proven to be anyone.
        actor: { type: "anonymous" },
        action: "refresh.reuse_detected",
        orgId: sql`NULL::uuid`,
        targetType: "session",
        targetId: sql`reused.id::text`,
        metadata: sql`jsonb_strip_nulls(jsonb_build_object('family_id', reused.id, 'client_id', reused.client_id))`,
        subjectUserId: sql`reused.user_id`,
        context: input.context,
      },
      sql`reused`,
    )})
    SELECT 'rotated' AS outcome, r.id, r.user_id, extract(epoch FROM r.expires_at)::float8 AS expires_at, l.email, l.email_verified, l.name, l.image,
           l.impersonator_id
      FROM rotated r JOIN locked l ON l.id = r.id
    UNION ALL
    SELECT 'grace', id, user_id, extract(epoch FROM expires_at)::float8, email, email_verified, name, image, impersonator_id
      FROM live
      WHERE is_previous AND in_grace AND (family_match OR ${family}::text IS NULL)
    UNION ALL
    SELECT 'reused', id, user_id, NULL, NULL, NULL, NULL, NULL, NULL FROM reused
  `);
}

/**
 * The outcome of `refreshSessionStatement`'s rows.
 *
 * @example
 * refreshOutcomeOf([]); // { outcome: "rejected" }
 */
export function refreshOutcomeOf(rows: readonly unknown[]): RefreshOutcome {
  const row = rows[0] as Record<string, unknown> | undefined;
  if (!row) return { outcome: "rejected" };
  const sessionId = String(row.id);
  const userId = String(row.user_id);
  if (row.outcome === "reused") return { outcome: "reused", sessionId, userId };
  if (row.outcome !== "rotated" && row.outcome !== "grace") return { outcome: "rejected" };
  return {
    outcome: row.outcome,
    sessionId,
    userId,
    expiresAt: new Date(Number(row.expires_at) * 1000),
    actorId: nullableString(row.impersonator_id),
    profile: {
      email: nullableString(row.email),
      emailVerified: row.email_verified === true,
      name: nullableString(row.name),
      image: nullableString(row.image),
    },
  };
}

/**
 * Proof of who is asking, without rotating anything: a verified session
 * JWT, or a refresh token whose secret must match a live session row.
 */
export type SessionProof =
  | { kind: "jwt"; sessionId: string; userId: string }
  | {
      kind: "refresh";
      sessionId: string;
      secretHash: string;
      /** SHA-256 hex of the family secret; null for a two-part token. */
      familySecretHash: string | null;
      /** The previous secret proves the caller too within this many seconds of a rotation (a parallel tab). */
      graceSeconds: number;
    };

/**
 * A SQL expression yielding the proven user's id (NULL, matching nothing, when the proof fails).
 * A refresh proof holds with the current secret, or with the previous one
 * within the grace window (a sign-out racing a rotation in another tab).
 *
 * @example
 * db.delete(accounts).where(eq(accounts.userId, ownerOf(proof)));
 */
export function ownerOf(proof: SessionProof): SQL {
  if (proof.kind === "jwt") return sql`${proof.userId}::uuid`;
  return sql`(SELECT user_id FROM sessions WHERE id = ${proof.sessionId}::uuid
              AND (secret_hash = ${proof.secretHash}
                   OR (previous_secret_hash = ${proof.secretHash} AND rotated_at > now() - make_interval(secs => ${proof.graceSeconds})))
              AND (family_secret_hash = ${proof.familySecretHash}::text OR ${proof.familySecretHash}::text IS NULL)
              AND client_id IS NULL AND revoked_at IS NULL AND expires_at > now())`;
}

/**
 * Revokes, in one statement, the caller's own session (`"current"`), every
 * session of the caller's user (`"all"`), or one session by id that must
 * belong to the caller's user, with one audit row per revoked session
 * (`signout`, or `session.revoke` when the user ends a session from the
 * account page or the API). Returns the ids it revoked (to denylist); an id
 * of another user's session, or an already revoked one, yields none.
 *
 * @example
 * const ids = await revokeSessions(db, { kind: "jwt", sessionId, userId }, "all", { action: "signout", context: c.var.request });
 */
export async function revokeSessions(
  db: Database,
  proof: SessionProof,
  target: "current" | "all" | { sessionId: string },
  audit: { action: "signout" | "session.revoke"; context: RequestContext | undefined },
): Promise<string[]> {
  const which =
    target === "all" ? sql`` : sql`AND s.id = ${target === "current" ? proof.sessionId : target.sessionId}::uuid`;
  const scope = target === "all" ? "all" : target === "current" ? "current" : "one";
  const result = await db.execute(sql`
    WITH revoked AS (
      -- Browser sessions only: apps keep their access until revoked from the account page.
      UPDATE sessions s SET revoked_at = now()
      WHERE s.user_id = ${ownerOf(proof)} AND s.client_id IS NULL AND s.revoked_at IS NULL ${which}
      RETURNING s.id, s.user_id
    ),
    audit AS (${auditInsert(
      {
        actor: { type: "user", id: sql`revoked.user_id` },
        action: audit.action,
        orgId: sql`NULL::uuid`,
        targetType: "session",
        targetId: sql`revoked.id::text`,
        metadata: sql`jsonb_build_object('session_id', revoked.id, 'scope', ${scope}::text)`,
        subjectUserId: sql`revoked.user_id`,
        context: audit.context,
      },
      sql`revoked`,
    )})
    SELECT id::text FROM revoked`);
  return (result.rows as { id: unknown }[]).map((r) => String(r.id));
}

export interface ActiveSession {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/**
 * The proven user's live sessions, most recently used first (at most 100).
 * One SELECT; nothing is rotated.
 *
 * @example
 * const list = await listActiveSessions(db, { kind: "jwt", sessionId, userId });
 */
export async function listActiveSessions(db: Database, proof: SessionProof): Promise<ActiveSession[]> {
  return db
    .select({
      id: sessions.id,
      createdAt: sessions.createdAt,
      lastUsedAt: sessions.lastUsedAt,
      ip: sessions.ip,
      userAgent: sessions.userAgent,
    })
    .from(sessions)
    .where(and(eq(sessions.userId, ownerOf(proof)), isNull(sessions.clientId), isNull(sessions.revokedAt), gt(sessions.expiresAt, sql`now()`)))
    .orderBy(desc(sessions.lastUsedAt))
    .limit(100);
}

function nullableString(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
