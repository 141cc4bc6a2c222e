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
 * The session id and refresh secret of the session a sign-in callback
 * creates, derived from the browser's transaction-binding cookie and the
 * state (HMAC-SHA-256 keyed with the binding). Every copy of one callback
 * (double navigation, a restored tab) carries the same cookie and state, so
 * each copy derives the same token: the copy that claimed the state creates
 * the session, and the others hand the browser that same session once it
 * exists, instead of a second one or an error page.
 *
 * The binding is 256 random bits that only this browser holds (an HttpOnly
 * `__Host-` cookie, cleared by the callback) and KV stores only its SHA-256;
 * the database stores only the secret's SHA-256. So neither store yields the
 * token, and a foreign browser, which lacks the binding, cannot derive it.
 *
 * @example
 * const minted = await deriveSignInRefreshToken(bindingCookieValue, state);
 */
export async function deriveSignInRefreshToken(binding: string, state: string): Promise<MintedRefreshToken> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(binding), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = async (label: string) =>
    new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`gatehouse:signin-session:v1:${label}:${state}`)));
  const idBytes = (await mac("sid")).slice(0, 16);
  // A version 4, variant 1 UUID, like crypto.randomUUID().
  idBytes[6] = ((idBytes[6] ?? 0) & 0x0f) | 0x40;
  idBytes[8] = ((idBytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(idBytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const sessionId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const secret = base64Url(await mac("secret"));
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
  return base64Url(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
