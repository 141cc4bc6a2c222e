/**
 * Request parsing shared by the org routes: `:org` and other path ids, JSON
 * bodies, and the mapping of a refused membership change to its HTTP error.
 * Anything malformed fails here, before the database is touched.
 */
import type { Context } from "hono";
import type { MemberChangeRefusal } from "../db/org-members";
import type { OrgRef } from "../db/orgs";
import { GatehouseError } from "../error";
import type { Shape } from "../lib/shape";
import { isUuid, parseOrgRef } from "../orgs/slugs";

/** The largest JSON body the org routes read (bytes); `limitBody` enforces it while reading. */
export const MAX_BODY_LENGTH = 4096;

/**
 * The same 404 for an org that does not exist and one the caller may not see.
 *
 * @example
 * if (!org) throw orgNotFound();
 */
export function orgNotFound(): GatehouseError {
  return new GatehouseError("NotFound", "No such organization.");
}

/**
 * `:org` as an OrgRef; a value that can be neither a slug nor an id is a 404.
 *
 * @example
 * const ref = orgParam(c.req.param("org"));
 */
export function orgParam(value: string | undefined): OrgRef {
  const ref = parseOrgRef(value);
  if (!ref) throw orgNotFound();
  return ref;
}

/**
 * A path id that must be a UUID (`:userId`, `:pageId`); anything else is a 404.
 *
 * @example
 * const userId = uuidParam(c.req.param("userId"));
 */
export function uuidParam(value: string | undefined): string {
  const lower = value?.toLowerCase();
  if (!isUuid(lower)) throw new GatehouseError("NotFound", "Not found.");
  return lower;
}

/**
 * Parses a small JSON body with a shape (`lib/shape.ts`); a problem names the field.
 *
 * @example
 * const body = await jsonBody(c, object({ role: oneOf(ROLES) }, { strict: true }));
 */
export async function jsonBody<T>(c: Context, shape: Shape<T>): Promise<T> {
  const text = await c.req.text();
  if (text.length > MAX_BODY_LENGTH) throw new GatehouseError("InvalidRequest", "The request body is too large.");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatehouseError("InvalidRequest", "The request body is not valid JSON.");
  }
  const result = shape(value);
  if (!result.ok) {
    const field = result.path || undefined;
    throw new GatehouseError("InvalidRequest", "The request body is invalid.", { extra: field ? { field } : {} });
  }
  return result.value;
}

/**
 * The HTTP error for a refused membership change. A non-member learns
 * nothing (404); a member without the role learns that (403).
 *
 * @example
 * if (!result.ok) throw refusalError(result.refusal);
 */
export function refusalError(refusal: MemberChangeRefusal): GatehouseError {
  switch (refusal) {
    case "not_member":
      return orgNotFound();
    case "forbidden":
      return new GatehouseError("Forbidden", "Your role in this organization does not allow this.");
    case "target_not_found":
      return new GatehouseError("NotFound", "No such member.");
    case "already_member":
      return new GatehouseError("AlreadyMember", "This user is already a member.");
    case "last_owner":
      return new GatehouseError("LastOwner", "An organization must keep at least one owner.");
    case "personal":
      return new GatehouseError("PersonalOrganization", "A personal organization has only its owner.");
  }
}
