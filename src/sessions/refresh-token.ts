/**
 * Refresh tokens, Lucia style: `<session id>.<secret>`. The id is the
 * session row's uuid; the secret is 256 random bits, base64url. Only the
 * SHA-256 of the secret is stored, so a database leak yields no usable token.
 *
 * The stored hash is compared in SQL (`secret_hash = $presented`). That is
 * safe against timing attacks because what is compared is a digest of the
 * attacker's input, not the input: learning how many leading digest bytes
 * match says nothing about a secret that would produce them.
 */
import { sha256Hex } from "../lib/crypto";

export interface MintedRefreshToken {
  sessionId: string;
  secret: string;
  /** The cookie value: `${sessionId}.${secret}`. */
  token: string;
  /** Lowercase hex SHA-256 of `secret`, what `sessions.secret_hash` stores. */
  secretHash: string;
}

const SECRET_BYTES = 32;
const TOKEN_PATTERN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

/**
 * A new session id and secret, for a new session row.
 *
 * @example
 * const { sessionId, token, secretHash } = await mintRefreshToken();
 */
export async function mintRefreshToken(): Promise<MintedRefreshToken> {
  const sessionId = crypto.randomUUID();
  const secret = randomSecret();
  return { sessionId, secret, token: `${sessionId}.${secret}`, secretHash: await hashSecret(secret) };
}

/**
 * A new secret for an existing session (rotation).
 *
 * @example
 * const { secret, secretHash } = await mintRotatedSecret();
 */
export async function mintRotatedSecret(): Promise<{ secret: string; secretHash: string }> {
  const secret = randomSecret();
  return { secret, secretHash: await hashSecret(secret) };
}

/**
 * Splits a cookie value into id and secret; `null` unless it has exactly
 * the shape gatehouse mints (a lowercase uuid, a dot, 43 base64url characters).
 *
 * @example
 * parseRefreshToken("0b5c…-…-….Qm9i…"); // { sessionId, secret }
 * parseRefreshToken("garbage");          // null
 */
export function parseRefreshToken(value: string | null | undefined): { sessionId: string; secret: string } | null {
  const match = value ? TOKEN_PATTERN.exec(value) : null;
  if (!match?.[1] || !match[2]) return null;
  return { sessionId: match[1], secret: match[2] };
}

/**
 * Lowercase hex SHA-256 of a secret.
 *
 * @example
 * await hashSecret("abc"); // "ba7816bf…"
 */
export function hashSecret(secret: string): Promise<string> {
  return sha256Hex(secret);
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
