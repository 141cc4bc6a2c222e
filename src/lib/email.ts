/**
 * Email addresses as matching keys. Two sign-ins meet on one user through
 * their email only when both ARE the same plain-ASCII address up to ASCII
 * case; anything that could be a look-alike never matches anyone.
 */

/** RFC 5321's practical limit: 64 (local) + 1 + 255 (domain). */
export const MAX_EMAIL_LENGTH = 320;

// Printable ASCII without space, checked before any case mapping.
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
// Printable ASCII without space; `@` counted separately.
const ASCII_ADDRESS = /^[\x21-\x3f\x41-\x7e]+@[a-z0-9.-]+$/;

/**
 * The key used to compare addresses: the trimmed address lowercased, only
 * when it is plain printable ASCII with exactly one `@`. Nothing is folded:
 * the ASCII check comes BEFORE any case mapping, because Unicode folding
 * turns look-alikes into ASCII (NFKC maps full-width `ａ` to `a` and `ﬁ` to
 * `fi`; lowercasing maps the Kelvin sign `K` to `k`). Returns `null` for
 * anything unmatchable: no address, too long, a full-width or other
 * look-alike `@` or letter, any non-ASCII character (confusables such as
 * Cyrillic `а` in a Latin address).
 *
 * @example
 * normalizeEmail(" Alice@Example.COM ") // "alice@example.com"
 * normalizeEmail("alice＠example.com")  // null
 * normalizeEmail("ａlice@example.com")  // null (full-width ａ)
 * normalizeEmail("аlice@example.com")   // null (Cyrillic а)
 */
export function normalizeEmail(raw: string | null | undefined): string | null {
  if (typeof raw !== "string") return null;
  const trimmed = raw.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_EMAIL_LENGTH) return null;
  if (!PRINTABLE_ASCII.test(trimmed) || countAt(trimmed) !== 1) return null;
  const normalized = trimmed.toLowerCase();
  if (!ASCII_ADDRESS.test(normalized)) return null;
  const [local, domain] = normalized.split("@") as [string, string];
  if (local.length === 0 || local.length > 64) return null;
  if (!isDomain(domain)) return null;
  return normalized;
}

function countAt(value: string): number {
  let n = 0;
  for (const ch of value) if (ch === "@") n++;
  return n;
}

function isDomain(domain: string): boolean {
  if (domain.length === 0 || domain.length > 255 || !domain.includes(".")) return false;
  return domain.split(".").every((label) => label.length > 0 && label.length <= 63 && !label.startsWith("-") && !label.endsWith("-"));
}
