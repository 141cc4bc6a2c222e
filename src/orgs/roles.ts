/**
 * Membership roles. What each may do is decided inside the SQL statement
 * that writes (src/db/org-members.ts), never in a separate check; the table
 * of who may do what is in docs/orgs.md and every cell is tested in
 * test/orgs/members.test.ts.
 */

/** Strongest first. Roles do not imply each other in access tokens. */
export const ROLES = ["owner", "admin", "member"] as const;
export type Role = (typeof ROLES)[number];

/**
 * Whether `value` is a role name.
 *
 * @example
 * isRole("admin") // true
 */
export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}
