/**
 * A provider's profile as gatehouse stores it. Profile fields are written by
 * whoever owns the provider account, so they are hostile input: Postgres
 * `text` refuses NUL, lone surrogates are not valid UTF-8, bidirectional
 * overrides reorder what a page shows, and nothing bounds their length.
 */
import { MAX_EMAIL_LENGTH, normalizeEmail } from "./email";

export const MAX_NAME_LENGTH = 200;
export const MAX_IMAGE_URL_LENGTH = 2048;
/** Provider subjects are ids; anything longer is not one. */
export const MAX_SUBJECT_LENGTH = 255;

/** A provider's profile as providers/types.ts `Profile` describes it; declared here so lib/ imports nothing above it. */
export interface ProfileInput {
  provider: string;
  subject: string;
  issuer: string | null;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  image: string | null;
}

/** Profile fields ready for the database. */
export interface StoredProfile {
  provider: string;
  subject: string;
  issuer: string | null;
  /** For display, as given (cleaned); `null` when absent or unusable. */
  email: string | null;
  /** Matching key (lib/email.ts); `null` never matches another user. */
  emailNormalized: string | null;
  emailVerified: boolean;
  name: string | null;
  image: string | null;
}

// C0/C1 controls (NUL included) and bidi embeddings, overrides and isolates.
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

/**
 * Cleans free text: well-formed Unicode (lone surrogates become U+FFFD),
 * no control or bidi-override characters, trimmed, at most `maxLength`
 * code points. Returns `null` when nothing is left.
 *
 * @example
 * cleanText("Ann\u0000\u202Eeve ", 200) // "Anneve"
 */
export function cleanText(value: unknown, maxLength: number): string | null {
  if (typeof value !== "string") return null;
  // Bound the work before scanning a multi-megabyte value.
  const bounded = value.length > maxLength * 4 ? value.slice(0, maxLength * 4) : value;
  const cleaned = bounded.toWellFormed().replace(UNSAFE_CHARACTERS, "").trim();
  if (cleaned.length === 0) return null;
  const codePoints = Array.from(cleaned);
  return codePoints.length > maxLength ? codePoints.slice(0, maxLength).join("").trim() : cleaned;
}

/**
 * An avatar URL worth keeping: absolute https, no credentials, at most 2 KB.
 *
 * @example
 * cleanImageUrl("https://avatars.example.com/u/1") // "https://avatars.example.com/u/1"
 * cleanImageUrl("javascript:alert(1)")            // null
 */
export function cleanImageUrl(value: unknown): string | null {
  if (typeof value !== "string" || value.length > MAX_IMAGE_URL_LENGTH) return null;
  if (/[\u0000-\u0020\u007f-\uffff\\]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" || url.username !== "" || url.password !== "") return null;
  return url.href.length <= MAX_IMAGE_URL_LENGTH ? url.href : null;
}

/**
 * Cleans every field of a provider profile, or returns `null` when the
 * subject itself is unusable (the identity would not be stable).
 *
 * @example
 * const stored = storedProfile(profile);
 * if (!stored) throw new GatehouseError("OAuthCallback", "The provider returned no usable account id.");
 */
export function storedProfile(profile: ProfileInput): StoredProfile | null {
  const subject = typeof profile.subject === "string" ? profile.subject : "";
  if (subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH || subject !== cleanText(subject, MAX_SUBJECT_LENGTH)) {
    return null;
  }
  const email = cleanText(profile.email, MAX_EMAIL_LENGTH + 1);
  const usableEmail = email !== null && email.length <= MAX_EMAIL_LENGTH ? email : null;
  // Matched on the raw value: an address that needed cleaning matches no one.
  const emailNormalized = usableEmail === null ? null : normalizeEmail(typeof profile.email === "string" ? profile.email : null);
  return {
    provider: profile.provider,
    subject,
    issuer: cleanText(profile.issuer, MAX_IMAGE_URL_LENGTH),
    email: usableEmail,
    emailNormalized,
    // A verified claim about an address we cannot match is kept, but never used to match.
    emailVerified: usableEmail !== null && profile.emailVerified === true,
    name: cleanText(profile.name, MAX_NAME_LENGTH),
    image: cleanImageUrl(profile.image),
  };
}
