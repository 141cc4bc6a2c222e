/**
 * Email addresses as matching keys. Two sign-ins meet on one user through
 * their email only when both normalize to the same plain-ASCII address;
 * anything that could be a look-alike never matches anyone.
 */

/** RFC 5321's practical limit: 64 (local) + 1 + 255 (domain). */
export const MAX_EMAIL_LENGTH = 320;

// Printable ASCII without space; `@` counted separately.
const ASCII_ADDRESS = /^[\x21-\x3f\x41-\x7e]+@[a-z0-9.-]+$/;

/**
 * The key used to compare addresses: NFKC, lowercased, and only when the
 * result is plain ASCII with exactly one `@` that was already an ASCII `@`
 * before normalization. Returns `null` for anything unmatchable: no address,
 * too long, a full-width or other look-alike `@`, mixed scripts or any other
 * non-ASCII letter (confusables such as Cyrillic `а` in a Latin address).
 *
 * @example
 * normalizeEmail(" Alice@Example.COM ") // "alice@example.com"
 * normalizeEmail("alice＠example.com")  // null
 * normalizeEmail("аlice@example.com")   // null (Cyrillic а)
 */
export function normalizeEmail(raw: string | null | undefined): string | null {
  if (typeof raw !== "string") return null;
  const trimmed = raw.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_EMAIL_LENGTH) return null;
  // A look-alike `@` (U+FF20, U+FE6B, …) would become a real one under NFKC.
  if (countAt(trimmed) !== 1) return null;
  const normalized = trimmed.normalize("NFKC").toLowerCase();
  if (normalized.length > MAX_EMAIL_LENGTH || countAt(normalized) !== 1) return null;
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
