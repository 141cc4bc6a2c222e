/**
 * The two session cookies. Both are `__Host-` prefixed, so browsers only
 * accept them Secure, with Path=/ and without Domain: no subdomain and no
 * plain-http page can set or shadow them.
 */

export const SESSION_COOKIE = "__Host-gh_session";
export const REFRESH_COOKIE = "__Host-gh_refresh";

/** Browsers cap a cookie at 4096 bytes; a bigger value is not one we set. */
const MAX_COOKIE_VALUE_LENGTH = 4096;

/**
 * RFC 6265 optional whitespace: space and tab only. `String#trim` would also
 * strip NBSP, U+2000…, U+FEFF: a sibling subdomain could then toss a cookie
 * named `\u00a0__Host-gh_refresh` (browsers do not treat it as prefixed)
 * that this parser would read as the real `__Host-` cookie.
 */
function trimOws(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, "");
}

/** A cookie as read: absent, one sane value, or something we refuse to interpret. */
export type CookieRead = { kind: "absent" } | { kind: "present"; value: string } | { kind: "invalid" };

/**
 * Reads one cookie from a Cookie header. Sent twice (e.g. a second copy
 * planted with another Path) or oversized is `invalid`: which copy a
 * server picks differs between parsers, so none is trusted.
 *
 * @example
 * readCookie("a=1; __Host-gh_session=eyJ…", SESSION_COOKIE); // { kind: "present", value: "eyJ…" }
 */
export function readCookie(header: string | null | undefined, name: string): CookieRead {
  if (!header) return { kind: "absent" };
  let found: string | undefined;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1 || trimOws(pair.slice(0, eq)) !== name) continue;
    if (found !== undefined) return { kind: "invalid" };
    found = trimOws(pair.slice(eq + 1));
  }
  if (found === undefined) return { kind: "absent" };
  if (found.length === 0 || found.length > MAX_COOKIE_VALUE_LENGTH) return { kind: "invalid" };
  return { kind: "present", value: found };
}

/**
 * A Set-Cookie value with gatehouse's fixed attributes; `maxAge` 0 deletes.
 *
 * @example
 * serializeCookie(SESSION_COOKIE, jwt, 300); // "__Host-gh_session=…; Max-Age=300; Path=/; Secure; HttpOnly; SameSite=Lax"
 */
export function serializeCookie(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}
