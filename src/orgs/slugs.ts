/**
 * Organization slugs: the short, URL-safe names in `/api/orgs/:org` and in
 * `POST /auth/token {"org": …}`. A slug is lowercase `[a-z0-9-]{3,40}`,
 * starts and ends with a letter or digit, and never looks like a UUID, so
 * `:org` can be a slug or an id without ambiguity. `u-…` is reserved for the
 * personal organizations the sign-in callback creates.
 */
import type { OrgRef } from "../db/orgs";

export type { OrgRef };

const SLUG = /^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Shortest slug: `acme` fits, `ab` does not. */
export const MIN_SLUG_LENGTH = 3;
/** Longest slug, derived ones included (their base is cut to leave room for a suffix). */
export const MAX_SLUG_LENGTH = 40;
/** Personal organizations get `u-` + 16 random characters (src/db/signin.ts). */
const RESERVED_PREFIX = "u-";

/**
 * Whether `value` is a lowercase UUID (the form Postgres returns).
 *
 * @example
 * isUuid("0b5c2f6e-8a1d-4c1e-9f00-6d2b1f0e9a11") // true
 */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/**
 * Whether a slug is well-formed (any slug that may exist, personal ones included).
 *
 * @example
 * isSlug("acme") // true
 * isSlug("Acme") // false
 */
export function isSlug(value: unknown): value is string {
  return typeof value === "string" && SLUG.test(value) && !value.includes("--") && !UUID.test(value);
}

/**
 * Why a slug chosen by a user is refused, or `null` if it is acceptable.
 *
 * @example
 * slugProblem("acme")  // null
 * slugProblem("u-me")  // "reserved"
 */
export function slugProblem(value: unknown): "format" | "reserved" | null {
  if (!isSlug(value)) return "format";
  if (value.startsWith(RESERVED_PREFIX)) return "reserved";
  return null;
}

/**
 * Parses `:org` (a slug or an id); `null` when it can be neither, which the
 * routes answer with 404 before touching the database.
 *
 * @example
 * parseOrgRef("acme") // { kind: "slug", slug: "acme" }
 */
export function parseOrgRef(value: unknown): OrgRef | null {
  if (typeof value !== "string") return null;
  const lower = value.toLowerCase();
  if (UUID.test(lower)) return { kind: "id", id: lower };
  if (isSlug(value)) return { kind: "slug", slug: value };
  return null;
}

/**
 * A slug derived from a display name: diacritics dropped, anything else
 * turned into single hyphens, cut to fit. `null` when too little of the name
 * is Latin letters or digits (e.g. "한국"); the caller then picks a random one.
 *
 * @example
 * slugFromName("Ächme & Co. GmbH") // "achme-co-gmbh"
 */
export function slugFromName(name: string): string | null {
  const base = name
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, MAX_SLUG_LENGTH - 5)
    .replace(/-+$/, "");
  const slug = base.startsWith(RESERVED_PREFIX) ? `org-${base}`.slice(0, MAX_SLUG_LENGTH - 5).replace(/-+$/, "") : base;
  return slugProblem(slug) === null ? slug : null;
}

/**
 * The slugs to try, in order, for a new organization: the requested slug
 * alone, or the name's slug followed by two suffixed variants (the database
 * takes the first free one in the same statement that inserts the row).
 *
 * @example
 * slugCandidates({ name: "Acme" }) // ["acme", "acme-k3f9", "acme-2xq7"]
 */
export function slugCandidates(input: { name: string; slug?: string }): string[] {
  if (input.slug !== undefined) return [input.slug];
  const base = slugFromName(input.name) ?? "org";
  const first = base === "org" ? `org-${randomSuffix()}` : base;
  return [first, `${base}-${randomSuffix()}`, `${base}-${randomSuffix()}`];
}

function randomSuffix(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  return Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => alphabet[b % 32]).join("");
}
