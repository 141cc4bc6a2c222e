/**
 * Membership roles and what each may do. The database makes the decisions
 * (every check runs inside the statement that writes, see src/db/orgs.ts);
 * this table is the specification those statements implement, and what
 * docs/orgs.md prints.
 */

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

/** Actions on an organization, as audited (`audit_events.action`) where they write. */
export type OrgAction =
  | "org.read"
  | "members.list"
  | "pages.list"
  | "member.add"
  | "member.remove"
  | "member.role_change"
  | "member.leave";

/**
 * Who may do what. `owner` grants and revokes `owner`; admins manage members
 * and admins but never touch owners; an organization always keeps one owner.
 */
export const PERMISSIONS: Readonly<Record<OrgAction, readonly Role[]>> = {
  "org.read": ["owner", "admin", "member"],
  "members.list": ["owner", "admin", "member"],
  "pages.list": ["owner", "admin", "member"],
  "member.add": ["owner", "admin"],
  "member.remove": ["owner", "admin"],
  "member.role_change": ["owner", "admin"],
  "member.leave": ["owner", "admin", "member"],
};

/**
 * Whether `actor` may change a member whose role is `from` to role `to`
 * (`to` = null: remove them). Mirrors the SQL in src/db/orgs.ts.
 *
 * @example
 * mayChangeMember("admin", "owner", "member") // false: only owners touch owners
 */
export function mayChangeMember(actor: Role, from: Role, to: Role | null): boolean {
  if (actor === "member") return false;
  if (actor === "owner") return true;
  return from !== "owner" && to !== "owner";
}
