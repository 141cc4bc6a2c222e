/**
 * The organizations a service client may read, as SQL: the org named by the
 * request, only if the client's configured list names it (by slug or id).
 * An org outside the list and an org that does not exist look the same.
 */
import { sql, type SQL } from "drizzle-orm";
import { orgMatch, type OrgRef } from "./orgs";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A CTE body yielding the id of `ref` when `allowedOrgs` lists it; no row otherwise.
 *
 * @example
 * sql`WITH client_org AS (${serviceClientOrg(ref, ["acme"])}) SELECT id FROM client_org`
 */
export function serviceClientOrg(ref: OrgRef, allowedOrgs: readonly string[]): SQL {
  const ids = allowedOrgs.filter((o) => UUID.test(o));
  const slugs = allowedOrgs.filter((o) => !UUID.test(o));
  const anyOf = (column: SQL, values: string[], cast: SQL) =>
    values.length === 0 ? sql`false` : sql`${column} IN (${sql.join(values.map((v) => sql`${v}${cast}`), sql`, `)})`;
  return sql`SELECT o.id FROM organizations o
    WHERE ${orgMatch(ref)} AND (${anyOf(sql`o.id`, ids, sql`::uuid`)} OR ${anyOf(sql`o.slug`, slugs, sql`::text`)})`;
}
