/**
 * Email sign-in codes: six uniformly random digits, and a comparison whose
 * time does not depend on where two values first differ.
 */

/** What a typed or linked code must look like before anything is looked up. */
export const CODE_PATTERN = /^[0-9]{6}$/;
/** A challenge id: 32 random bytes, base64url. */
export const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

// The largest multiple of 10^6 below 2^32: values at or above it are redrawn, so every code is equally likely.
const LIMIT = 4_294_000_000;

/**
 * Six random digits, leading zeros kept.
 *
 * @example generateCode() // "042917"
 */
export function generateCode(): string {
  const value = new Uint32Array(1);
  do crypto.getRandomValues(value);
  while (value[0]! >= LIMIT);
  return String(value[0]! % 1_000_000).padStart(6, "0");
}

/**
 * Constant-time equality of two strings (of hashes: equal lengths in
 * practice; a length difference is answered without looking at content).
 *
 * @example constantTimeEqual(await sha256Hex(a), await sha256Hex(b))
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
