/**
 * What operators read (docs/operators.md "Admin"): user search and one
 * user's detail, each ONE round trip (a SELECT, or a batch of SELECTs).
 * Search matches the email or name (case-insensitive substring), the exact
 * user id, or the exact provider subject of a linked account, newest users
 * first, keyset-paginated by (created_at, id).
 */
import { sql } from "drizzle-orm";
import type { Database } from "./client";
import { eventPage, eventsStatement, userScope, type AuditEventView } from "./audit-read";
import { toIso, toIsoOrNull } from "./orgs";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A user as search results show them. */
export interface AdminUserSummary {
  id: string;
  email: string | null;
  name: string | null;
  createdAt: string;
  lastSignInAt: string | null;
  disabledAt: string | null;
}

/** Where a search page ends: the last row's (created_at, id). */
export type SearchPosition = { createdAt: string; id: string };

/**
 * One page of users matching `q` (empty: every user), newest first.
 *
 * @example
 * const { users, next } = await searchUsers(db, { q: "ada@", after: null, limit: 20 });
 */
export async function searchUsers(
  db: Database,
  input: { q: string; after: SearchPosition | null; limit: number },
): Promise<{ users: AdminUserSummary[]; next: SearchPosition | null }> {
  const q = input.q.trim();
  const like = `%${q.replaceAll("\\", "\\\\").replaceAll("%", "\\%").replaceAll("_", "\\_")}%`;
  const lower = q.toLowerCase();
  const match =
    q === ""
      ? sql`true`
      : sql`(u.email ILIKE ${like} OR u.name ILIKE ${like}
             ${UUID.test(lower) ? sql`OR u.id = ${lower}::uuid` : sql``}
             OR EXISTS (SELECT 1 FROM accounts a WHERE a.user_id = u.id AND a.provider_subject = ${q}))`;
  const after = input.after
    ? sql`AND (u.created_at, u.id) < (${input.after.createdAt}::timestamptz, ${input.after.id}::uuid)`
    : sql``;
  const result = await db.execute(sql`
    SELECT u.id, u.email, u.name, u.created_at, u.last_sign_in_at, u.disabled_at,
           to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position
    FROM users u
    WHERE ${match} ${after}
    ORDER BY u.created_at DESC, u.id DESC
    LIMIT ${input.limit + 1}`);
  const rows = result.rows as Record<string, unknown>[];
  const users = rows.slice(0, input.limit).map(toSummary);
  const last = rows[input.limit - 1];
  return {
    users,
    // Microsecond precision: a JavaScript Date would cut it to milliseconds and skip rows.
    next: rows.length > input.limit && last ? { createdAt: String(last.position), id: String(last.id) } : null,
  };
}

/** Everything the detail view shows about one user. */
export interface AdminUserDetail {
  user: AdminUserSummary & { emailVerified: boolean; image: string | null };
  accounts: { id: string; provider: string; providerSubject: string; email: string | null; emailVerified: boolean; createdAt: string }[];
  /** Live sessions (browser and OAuth families), most recently used first. */
  sessions: {
    id: string;
    createdAt: string;
    lastUsedAt: string;
    expiresAt: string;
    ip: string | null;
    userAgent: string | null;
    clientId: string | null;
    impersonatorId: string | null;
  }[];
  organizations: { id: string; slug: string; name: string; personal: boolean; role: string }[];
  /** Registered passkeys (docs/passkeys.md): never the public key or credential id. */
  passkeys: { id: string; name: string; deviceType: string; backedUp: boolean; createdAt: string; lastUsedAt: string | null }[];
  events: AuditEventView[];
  /** Cursor position for older events (`/api/admin/events?user=…&cursor=`), or null. */
  eventsNext: string | null;
}

/**
 * One user's detail in ONE round trip, or `null` when there is no such user.
 *
 * @example
 * const detail = await userDetail(db, userId);
 * if (!detail) throw new GatehouseError("NotFound", "No such user.");
 */
export async function userDetail(db: Database, userId: string, eventLimit = 20): Promise<AdminUserDetail | null> {
  const [user, accounts, sessions, orgs, keys, events] = await db.batch([
    db.execute(sql`SELECT id, email, name, image, email_verified_at IS NOT NULL AS email_verified, created_at, last_sign_in_at, disabled_at
      FROM users WHERE id = ${userId}::uuid`),
    db.execute(sql`SELECT id, provider, provider_subject, email, email_verified, created_at FROM accounts
      WHERE user_id = ${userId}::uuid ORDER BY created_at`),
    db.execute(sql`SELECT id, created_at, last_used_at, expires_at, ip, user_agent, client_id, impersonator_id FROM sessions
      WHERE user_id = ${userId}::uuid AND revoked_at IS NULL AND expires_at > now() AND absolute_expires_at > now()
      ORDER BY last_used_at DESC LIMIT 100`),
    db.execute(sql`SELECT o.id, o.slug, o.name, o.personal, m.role::text AS role FROM memberships m
      JOIN organizations o ON o.id = m.org_id WHERE m.user_id = ${userId}::uuid ORDER BY o.personal DESC, o.name LIMIT 200`),
    db.execute(sql`SELECT id, name, device_type, backed_up, created_at, last_used_at FROM passkeys
      WHERE user_id = ${userId}::uuid ORDER BY created_at LIMIT 100`),
    eventsStatement(db, userScope(userId), { actions: [], since: null, until: null, before: null, limit: eventLimit }),
  ]);
  const u = user.rows[0] as Record<string, unknown> | undefined;
  if (!u) return null;
  const page = eventPage(events.rows, eventLimit);
  return {
    user: { ...toSummary(u), emailVerified: u.email_verified === true, image: str(u.image) },
    accounts: (accounts.rows as Record<string, unknown>[]).map((a) => ({
      id: String(a.id),
      provider: String(a.provider),
      providerSubject: String(a.provider_subject),
      email: str(a.email),
      emailVerified: a.email_verified === true,
      createdAt: toIso(a.created_at),
    })),
    sessions: (sessions.rows as Record<string, unknown>[]).map((s) => ({
      id: String(s.id),
      createdAt: toIso(s.created_at),
      lastUsedAt: toIso(s.last_used_at),
      expiresAt: toIso(s.expires_at),
      ip: str(s.ip),
      userAgent: str(s.user_agent),
      clientId: str(s.client_id),
      impersonatorId: str(s.impersonator_id),
    })),
    organizations: (orgs.rows as Record<string, unknown>[]).map((o) => ({
      id: String(o.id),
      slug: String(o.slug),
      name: String(o.name),
      personal: o.personal === true,
      role: String(o.role),
    })),
    passkeys: (keys.rows as Record<string, unknown>[]).map((k) => ({
      id: String(k.id),
      name: String(k.name),
      deviceType: String(k.device_type),
      backedUp: k.backed_up === true,
      createdAt: toIso(k.created_at),
      lastUsedAt: k.last_used_at === null ? null : toIso(k.last_used_at),
    })),
    events: page.events,
    eventsNext: page.next,
  };
}

function toSummary(r: Record<string, unknown>): AdminUserSummary {
  return {
    id: String(r.id),
    email: str(r.email),
    name: str(r.name),
    createdAt: toIso(r.created_at),
    lastSignInAt: toIsoOrNull(r.last_sign_in_at),
    disabledAt: toIsoOrNull(r.disabled_at),
  };
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
