/**
 * The query string every audit read API shares (`/auth/events`,
 * `/api/orgs/:org/events`, `/api/admin/events`): `action` (repeatable or
 * comma-separated), `since`/`until` (ISO 8601), `cursor` (opaque, from the
 * previous page's `next`) and `limit` (1…100, default 50). Anything
 * malformed is a 400 `InvalidRequest` naming the field, before any query.
 */
import type { Context } from "hono";
import type { EventFilter } from "../db/audit-read";
import { MAX_EVENTS_PAGE } from "../db/audit-read";
import { GatehouseError } from "../error";
import { decodeCursor, encodeCursor } from "../lib/cursor";

const ACTION = /^[a-z][a-z_.]{0,63}$/;
const DEFAULT_LIMIT = 50;

function invalid(field: string): GatehouseError {
  return new GatehouseError("InvalidRequest", `The ${field} parameter is invalid.`, { extra: { field } });
}

/**
 * `limit` (1…max, `fallback` when absent).
 *
 * @example
 * const limit = limitParam(c, 20);
 */
export function limitParam(c: Context, fallback = DEFAULT_LIMIT, max = MAX_EVENTS_PAGE): number {
  const raw = c.req.query("limit");
  if (raw === undefined) return fallback;
  if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw invalid("limit");
  return Number(raw);
}

function dateParam(c: Context, field: "since" | "until"): Date | null {
  const raw = c.req.query(field);
  if (raw === undefined) return null;
  const date = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw) ? new Date(raw) : null;
  if (!date || Number.isNaN(date.getTime())) throw invalid(field);
  return date;
}

/**
 * The filter of an event read request.
 *
 * @example
 * const filter = eventFilter(c); // { actions: ["signin.success"], since: null, until: null, before: null, limit: 50 }
 */
export function eventFilter(c: Context): EventFilter {
  const actions = c.req.queries("action")?.flatMap((a) => a.split(",")).map((a) => a.trim()).filter(Boolean) ?? [];
  if (actions.length > 20 || !actions.every((a) => ACTION.test(a))) throw invalid("action");
  const cursor = c.req.query("cursor");
  let before: bigint | null = null;
  if (cursor !== undefined) {
    const key = decodeCursor(cursor);
    if (!key || key.length !== 1 || !/^\d{1,19}$/.test(key[0]!)) throw invalid("cursor");
    before = BigInt(key[0]!);
  }
  return { actions: [...new Set(actions)], since: dateParam(c, "since"), until: dateParam(c, "until"), before, limit: limitParam(c) };
}

/**
 * The JSON of one page: `{ events, next }` with `next` an opaque cursor or null.
 *
 * @example
 * return c.json(eventsJson(eventPage(result.rows, filter.limit)));
 */
export function eventsJson<T>(page: { events: T[]; next: string | null }): { events: T[]; next: string | null } {
  return { events: page.events, next: page.next === null ? null : encodeCursor([page.next]) };
}
