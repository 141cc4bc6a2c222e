/**
 * Refresh tokens: `<session id>.<family secret>.<secret>`. The id is the
 * session row's uuid; both secrets are 256 random bits, base64url. The
 * family secret is fixed for the life of the session; the secret changes on
 * every rotation. Only SHA-256 digests of both are stored, so a database
 * leak yields no usable token.
 *
 * Why two secrets: every token ever issued for a family carries the family
 * secret, so any past token of the family, however many rotations old, is
 * recognisable as reuse (a stolen copy) and not as a guess, while a caller
 * who knows only a session id can never match it and so can never sign
 * anyone out. Tokens minted before family secrets existed have two parts
 * (`<id>.<secret>`); they are accepted once more and upgraded on rotation.
 *
 * The stored hash is compared in SQL (`secret_hash = $presented`). That is
 * safe against timing attacks because what is compared is a digest of the
 * attacker's input, not the input: learning how many leading digest bytes
 * match says nothing about a secret that would produce them.
 */
import { sha256Hex } from "../lib/crypto";

export interface MintedRefreshToken {
  sessionId: string;
  familySecret: string;
  /** Lowercase hex SHA-256 of `familySecret`, what `sessions.family_secret_hash` stores. */
  familySecretHash: string;
  secret: string;
  /** The cookie value: `${sessionId}.${familySecret}.${secret}`. */
  token: string;
  /** Lowercase hex SHA-256 of `secret`, what `sessions.secret_hash` stores. */
  secretHash: string;
}

/** A refresh token split into its parts; `familySecret` is null for a two-part token minted before family secrets. */
export interface ParsedRefreshToken {
  sessionId: string;
  familySecret: string | null;
  secret: string;
}

const SECRET_BYTES = 32;
const TOKEN_PATTERN =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(?:([A-Za-z0-9_-]{43})\.)?([A-Za-z0-9_-]{43})$/;

/**
 * A new session id, family secret and secret, for a new session row.
 *
 * @example
 * const { sessionId, token, secretHash, familySecretHash } = await mintRefreshToken();
 */
export async function mintRefreshToken(): Promise<MintedRefreshToken> {
  return minted(crypto.randomUUID(), randomSecret(), randomSecret());
}

/**
 * The cookie value for a session's parts.
 *
 * @example
 * refreshTokenValue(sessionId, familySecret, next.secret); // "0b5c….Zm9v….YmFy…"
 */
export function refreshTokenValue(sessionId: string, familySecret: string, secret: string): string {
  return `${sessionId}.${familySecret}.${secret}`;
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
  return minted(sessionId, base64Url(await mac("family")), base64Url(await mac("secret")));
}

/** A token's parts with the hashes the session row stores. */
async function minted(sessionId: string, familySecret: string, secret: string): Promise<MintedRefreshToken> {
  return {
    sessionId,
    familySecret,
    familySecretHash: await hashSecret(familySecret),
    secret,
    token: refreshTokenValue(sessionId, familySecret, secret),
    secretHash: await hashSecret(secret),
  };
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
 * The family secret a rotation issues: the presented one, or a fresh one
 * for a two-part token (its row has none yet and adopts this one).
 *
 * @example
 * const family = await familyForRotation(parsed.familySecret);
 */
export async function familyForRotation(presented: string | null): Promise<{ familySecret: string; familySecretHash: string }> {
  const familySecret = presented ?? randomSecret();
  return { familySecret, familySecretHash: await hashSecret(familySecret) };
}

/**
 * Splits a cookie value into its parts; `null` unless it has exactly the
 * shape gatehouse mints (a lowercase uuid, then one or two dot-separated
 * 43-character base64url secrets).
 *
 * @example
 * parseRefreshToken("0b5c…-…-….Zm9v….Qm9i…"); // { sessionId, familySecret, secret }
 * parseRefreshToken("garbage");               // null
 */
export function parseRefreshToken(value: string | null | undefined): ParsedRefreshToken | null {
  const match = value ? TOKEN_PATTERN.exec(value) : null;
  if (!match?.[1] || !match[3]) return null;
  return { sessionId: match[1], familySecret: match[2] ?? null, secret: match[3] };
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
