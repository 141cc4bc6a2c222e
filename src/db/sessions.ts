/**
 * Session rows (refresh-token families). Every function here is exactly one
 * database round trip, and every decision is made inside that statement, so
 * two requests racing on the same row cannot both win.
 */
import { and, desc, eq, gt, isNull, sql, type SQL } from "drizzle-orm";
import type { Database } from "./client";
import { sessions } from "./schema";

export interface NewSession {
  sessionId: string;
  /** Lowercase hex SHA-256 of the refresh secret. */
  secretHash: string;
  /** A user id, or a SQL expression (e.g. a subselect) that yields it inside the same batch. */
  userId: string | SQL;
  ip: string | null;
  userAgent: string | null;
  now: Date;
  refreshTtlSeconds: number;
  absoluteTtlSeconds: number;
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
    secretHash: input.secretHash,
    createdAt: input.now,
    lastUsedAt: input.now,
    expiresAt,
    absoluteExpiresAt,
    ip: input.ip,
    userAgent: input.userAgent,
  });
}

export interface SessionProfileRow {
  email: string | null;
  name: string | null;
  image: string | null;
}

/** What one refresh attempt did; see `refreshSession`. */
export type RefreshOutcome =
  | { outcome: "rotated" | "grace"; sessionId: string; userId: string; expiresAt: Date; profile: SessionProfileRow }
  | { outcome: "reused"; sessionId: string; userId: string }
  | { outcome: "rejected" };

/**
 * Presents a refresh secret's hash and decides, in ONE statement:
 * - `rotated`: the hash is current and the session live (not revoked, not
 *   expired, user not disabled): store `nextHash`, keep the old hash as
 *   previous, slide the expiry (never past the absolute limit);
 * - `grace`: the hash is the previous one and the rotation happened less
 *   than `graceSeconds` ago (a parallel tab): nothing changes;
 * - `reused`: the hash is the previous one but older than the grace window:
 *   the family is revoked;
 * - `rejected`: anything else (unknown, older hash, revoked, expired, disabled).
 *
 * `FOR UPDATE` serializes racing refreshes of one row; the loser reads the
 * winner's committed row, so it lands in `grace`, never in a second rotation.
 *
 * @example
 * const r = await refreshSession(db, { sessionId, presentedHash, nextHash, refreshTtlSeconds: 2592000, graceSeconds: 10 });
 */
export async function refreshSession(
  db: Database,
  input: { sessionId: string; presentedHash: string; nextHash: string; refreshTtlSeconds: number; graceSeconds: number },
): Promise<RefreshOutcome> {
  const presented = input.presentedHash;
  const grace = sql`make_interval(secs => ${input.graceSeconds})`;
  const result = await db.execute(sql`
    WITH locked AS (
      SELECT s.id, s.user_id, s.secret_hash, s.previous_secret_hash, s.rotated_at, s.revoked_at, s.expires_at,
             s.absolute_expires_at, u.disabled_at, u.email, u.name, u.image
      FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.id = ${input.sessionId}::uuid
      FOR UPDATE OF s
    ),
    live AS (
      SELECT * FROM locked
      WHERE revoked_at IS NULL AND disabled_at IS NULL AND expires_at > now() AND absolute_expires_at > now()
    ),
    rotated AS (
      UPDATE sessions s
      SET secret_hash = ${input.nextHash}, previous_secret_hash = s.secret_hash, rotated_at = now(), last_used_at = now(),
          expires_at = least(now() + make_interval(secs => ${input.refreshTtlSeconds}), s.absolute_expires_at)
      FROM live
      WHERE s.id = live.id AND live.secret_hash = ${presented}
      RETURNING s.id, s.user_id, s.expires_at
    ),
    reused AS (
      UPDATE sessions s SET revoked_at = now()
      FROM locked
      WHERE s.id = locked.id AND locked.revoked_at IS NULL
        AND locked.previous_secret_hash = ${presented} AND locked.secret_hash <> ${presented}
        AND locked.rotated_at <= now() - ${grace}
      RETURNING s.id, s.user_id
    )
    SELECT 'rotated' AS outcome, r.id, r.user_id, extract(epoch FROM r.expires_at)::float8 AS expires_at, l.email, l.name, l.image
      FROM rotated r JOIN locked l ON l.id = r.id
    UNION ALL
    SELECT 'grace', id, user_id, extract(epoch FROM expires_at)::float8, email, name, image
      FROM live
      WHERE previous_secret_hash = ${presented} AND secret_hash <> ${presented} AND rotated_at > now() - ${grace}
    UNION ALL
    SELECT 'reused', id, user_id, NULL, NULL, NULL, NULL FROM reused
  `);
  const row = result.rows[0] as Record<string, unknown> | undefined;
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
    profile: { email: nullableString(row.email), name: nullableString(row.name), image: nullableString(row.image) },
  };
}

/**
 * Proof of who is asking, without rotating anything: a verified session
 * JWT, or a refresh token whose secret must match a live session row.
 */
export type SessionProof =
  | { kind: "jwt"; sessionId: string; userId: string }
  | { kind: "refresh"; sessionId: string; secretHash: string };

/**
 * A SQL expression yielding the proven user's id (NULL, matching nothing, when the proof fails).
 *
 * @example
 * db.delete(accounts).where(eq(accounts.userId, ownerOf(proof)));
 */
export function ownerOf(proof: SessionProof): SQL {
  if (proof.kind === "jwt") return sql`${proof.userId}::uuid`;
  return sql`(SELECT user_id FROM sessions WHERE id = ${proof.sessionId}::uuid AND secret_hash = ${proof.secretHash}
              AND revoked_at IS NULL AND expires_at > now())`;
}

/**
 * Revokes, in one UPDATE, the caller's own session (`"current"`), every
 * session of the caller's user (`"all"`), or one session by id that must
 * belong to the caller's user. Returns the ids it revoked (to denylist);
 * an id of another user's session, or an already revoked one, yields none.
 *
 * @example
 * const ids = await revokeSessions(db, { kind: "jwt", sessionId, userId }, "all");
 */
export async function revokeSessions(
  db: Database,
  proof: SessionProof,
  target: "current" | "all" | { sessionId: string },
): Promise<string[]> {
  const owner = eq(sessions.userId, ownerOf(proof));
  const which =
    target === "all" ? owner : and(owner, eq(sessions.id, target === "current" ? proof.sessionId : target.sessionId));
  const rows = await db
    .update(sessions)
    .set({ revokedAt: sql`now()` })
    .where(and(which, isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.map((r) => r.id);
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
    .where(and(eq(sessions.userId, ownerOf(proof)), isNull(sessions.revokedAt), gt(sessions.expiresAt, sql`now()`)))
    .orderBy(desc(sessions.lastUsedAt))
    .limit(100);
}

function nullableString(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
