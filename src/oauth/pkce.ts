/**
 * PKCE (RFC 7636), S256 only: OAuth 2.1 requires it of every client, and
 * `plain` offers nothing against an attacker who can read the request.
 */
import { base64UrlEncode } from "../lib/crypto";

/** A code_verifier: 43–128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** An S256 challenge: base64url of 32 bytes. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Whether a `code_challenge` has the shape of an S256 challenge.
 *
 * @example
 * isS256Challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"); // true
 */
export function isS256Challenge(value: string): boolean {
  return CHALLENGE.test(value);
}

/**
 * The S256 challenge of a verifier, or `null` for a malformed verifier.
 *
 * @example
 * await s256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); // "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
 */
export async function s256Challenge(verifier: string): Promise<string | null> {
  if (!VERIFIER.test(verifier)) return null;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64UrlEncode(new Uint8Array(digest));
}
