/**
 * Reading `audit_events`: one SELECT, keyset-paginated by `id` descending
 * (newest first; the (subject_user_id, id), (org_id, id) and (action, id)
 * indexes serve it), with filters. Who may read what is decided by the
 * caller's `scope` condition, built here for the three readers: a user's
 * own history, an organization's (owners and admins only, checked in the
 * same statement) and an operator's (everything). Rows carry no secrets:
 * metadata is written secret-free (src/db/audit.ts).
 */
import { sql, type SQL } from "drizzle-orm";
import type { Database } from "./client";
import { orgMatch, toIso, type OrgRef } from "./orgs";

/** One event as the read APIs answer it. */
export interface AuditEventView {
  /** Decimal string: the keyset position (ids are bigint). */
  id: string;
  at: string;
  action: string;
  actor: { type: string; id: string | null };
  orgId: string | null;
  target: { type: string | null; id: string | null };
  subjectUserId: string | null;
  metadata: Record<string, unknown>;
  ip: string | null;
  userAgent: string | null;
  country: string | null;
  asn: number | null;
  requestId: string | null;
  flags: string[];
}

/** Filters every read API accepts (`?action=&since=&until=&cursor=&limit=`). */
export interface EventFilter {
  /** Only these actions (any of them); empty = all. */
  actions: readonly string[];
  since: Date | null;
  until: Date | null;
  /** Only events with an id below this (the cursor). */
  before: bigint | null;
  /** 1…100. */
  limit: number;
  /**
   * A user reading their own history: the client address, User-Agent,
   * country, ASN and request id of events someone else caused (an operator,
   * an organization admin) are left out: they describe that person.
   */
  ownHistory?: boolean;
}

/** The largest page a read API returns. */
export const MAX_EVENTS_PAGE = 100;

/**
 * The SELECT of one page of events matching `scope` (a condition on the row
 * alias `e`) and `filter`: `limit + 1` rows, so {@link eventPage} can tell
 * whether there is more. Not executed: await it, or put it in a batch.
 *
 * @example
 * const page = eventPage((await eventsStatement(db, sql`e.subject_user_id = ${userId}::uuid`, filter)).rows, filter.limit);
 */
export function eventsStatement(db: Database, scope: SQL, filter: EventFilter) {
  const conditions: SQL[] = [scope];
  if (filter.actions.length > 0) conditions.push(sql`e.action = ANY(${`{${filter.actions.join(",")}}`}::text[])`);
  if (filter.since) conditions.push(sql`e.at >= ${filter.since.toISOString()}::timestamptz`);
  if (filter.until) conditions.push(sql`e.at < ${filter.until.toISOString()}::timestamptz`);
  if (filter.before !== null) conditions.push(sql`e.id < ${filter.before.toString()}::bigint`);
  const mine = filter.ownHistory ? sql`(e.actor_id IS NULL OR e.actor_id = e.subject_user_id::text)` : sql`true`;
  return db.execute(sql`
    SELECT e.id::text AS id, e.at, e.action, e.actor_type, e.actor_id, e.org_id, e.target_type, e.target_id,
           e.subject_user_id, e.metadata, e.flags,
           CASE WHEN ${mine} THEN e.ip END AS ip, CASE WHEN ${mine} THEN e.user_agent END AS user_agent,
           CASE WHEN ${mine} THEN e.country END AS country, CASE WHEN ${mine} THEN e.asn END AS asn,
           CASE WHEN ${mine} THEN e.request_id END AS request_id
    FROM audit_events e
    WHERE ${sql.join(conditions, sql` AND `)}
    ORDER BY e.id DESC
    LIMIT ${filter.limit + 1}`);
}

/** Events of the user (their own history: `subject_user_id`). */
export function userScope(userId: string | SQL): SQL {
  return sql`e.subject_user_id = ${userId}::uuid`;
}

/**
 * The proven user's own events in ONE round trip: `owner` is SQL yielding
 * their id (`ownerOf(proof)`, which checks a refresh token's secret in SQL);
 * `null` when it names nobody (a failed proof).
 *
 * @example
 * const page = await ownEvents(db, ownerOf(proof), filter);
 * if (!page) throw new GatehouseError("Unauthorized", "…");
 */
export async function ownEvents(db: Database, owner: SQL, filter: EventFilter): Promise<{ events: AuditEventView[]; next: string | null } | null> {
  const [me, page] = await db.batch([db.execute(sql`SELECT ${owner}::text AS id`), eventsStatement(db, userScope(owner), { ...filter, ownHistory: true })]);
  if (typeof (me.rows[0] as { id?: unknown } | undefined)?.id !== "string") return null;
  return eventPage(page.rows, filter.limit);
}

/**
 * Events of an organization, only when `userId` is an enabled owner or admin
 * of it (a member or stranger matches nothing, the same as an empty history).
 */
export function orgScope(userId: string, ref: OrgRef): SQL {
  return sql`e.org_id = (SELECT o.id FROM organizations o
    JOIN memberships m ON m.org_id = o.id AND m.user_id = ${userId}::uuid AND m.role IN ('owner', 'admin')
    JOIN users u ON u.id = m.user_id AND u.disabled_at IS NULL
    WHERE ${orgMatch(ref)})`;
}

/**
 * The caller's role in the organization (a SELECT for the same batch as the
 * events, so the route can answer 404 to a stranger and 403 to a member).
 *
 * @example
 * const [role, events] = await db.batch([orgRoleStatement(db, userId, ref), eventsStatement(db, orgScope(userId, ref), filter)]);
 */
export function orgRoleStatement(db: Database, userId: string, ref: OrgRef) {
  return db.execute(sql`SELECT m.role::text AS role FROM organizations o
    JOIN memberships m ON m.org_id = o.id AND m.user_id = ${userId}::uuid
    JOIN users u ON u.id = m.user_id AND u.disabled_at IS NULL
    WHERE ${orgMatch(ref)}`);
}

/** Operators: every event, optionally those about or by one user, or of one organization. */
export function adminScope(filter: { userId: string | null; orgId: string | null }): SQL {
  const parts: SQL[] = [sql`true`];
  if (filter.userId) parts.push(sql`(e.subject_user_id = ${filter.userId}::uuid OR e.actor_id = ${filter.userId})`);
  if (filter.orgId) parts.push(sql`e.org_id = ${filter.orgId}::uuid`);
  return sql.join(parts, sql` AND `);
}

/**
 * Rows of {@link eventsStatement} as views, and the id to continue below
 * (`null` on the last page).
 *
 * @example
 * const { events, next } = eventPage(result.rows, 50);
 */
export function eventPage(rows: readonly unknown[], limit: number): { events: AuditEventView[]; next: string | null } {
  const views = rows.slice(0, limit).map((r) => toView(r as Record<string, unknown>));
  return { events: views, next: rows.length > limit ? (views.at(-1)?.id ?? null) : null };
}

function toView(r: Record<string, unknown>): AuditEventView {
  return {
    id: String(r.id),
    at: toIso(r.at),
    action: String(r.action),
    actor: { type: String(r.actor_type), id: text(r.actor_id) },
    orgId: text(r.org_id),
    target: { type: text(r.target_type), id: text(r.target_id) },
    subjectUserId: text(r.subject_user_id),
    metadata: typeof r.metadata === "object" && r.metadata !== null ? (r.metadata as Record<string, unknown>) : {},
    ip: text(r.ip),
    userAgent: text(r.user_agent),
    country: text(r.country),
    asn: typeof r.asn === "number" ? r.asn : null,
    requestId: text(r.request_id),
    flags: Array.isArray(r.flags) ? r.flags.map(String) : [],
  };
}

function text(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
