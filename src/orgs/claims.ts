/**
 * Org claims for access tokens: `POST /auth/token {"org": "acme"}` asks for a
 * token scoped to one organization; it carries `org` (the id) and `roles`
 * only when the caller is a member.
 */
import type { Database } from "../db/client";
import { membershipFor } from "../db/orgs";
import { parseOrgRef } from "./slugs";

export interface OrgClaims {
  org: { id: string; slug: string };
  /** The caller's role in the org, e.g. `["admin"]` (roles do not imply each other here). */
  roles: string[];
}

/**
 * The org claims for `userId` in `org` (a slug or an id), or `null` when the
 * user is not an enabled member, the org does not exist or `org` is not a
 * valid slug/id (no database work then). One read round trip otherwise.
 *
 * @example
 * const claims = await orgClaimsFor(await c.var.db(), { userId, org: "acme" });
 * if (!claims) throw new GatehouseError("Forbidden", "You are not a member of this organization.");
 * // sign with { org: claims.org.id, roles: claims.roles }
 */
export async function orgClaimsFor(db: Database, input: { userId: string; org: unknown }): Promise<OrgClaims | null> {
  const ref = parseOrgRef(input.org);
  if (ref === null) return null;
  const membership = await membershipFor(db, input.userId, ref);
  if (!membership) return null;
  return { org: { id: membership.orgId, slug: membership.slug }, roles: [membership.role] };
}
