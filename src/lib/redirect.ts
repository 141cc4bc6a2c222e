/**
 * Where a browser may be sent after sign-in. Open redirects are the classic
 * way to turn a sign-in service into a phishing tool, so the check is an
 * exact origin match after parsing, with the tricks browsers forgive
 * (backslashes, control characters, protocol-relative URLs, credentials)
 * refused before parsing.
 */
import { isLocalHost } from "./env-value";

/** Longest `redirect_to` accepted; a URL longer than this is not a return address. */
export const MAX_REDIRECT_LENGTH = 2048;

/**
 * Resolves `redirect_to` against the worker's origin and returns the
 * absolute URL to use, or `null` when it is not allowed. An absent value
 * gives the default: the worker's own `/`.
 *
 * Allowed: the worker's own origin, or an origin listed exactly in
 * `allowedRedirectOrigins`; https only, except http on localhost.
 *
 * @example
 * validateRedirect("/account", authUrl, [])                      // "https://auth.example.com/account"
 * validateRedirect("https://app.example.com/x", authUrl, ["https://app.example.com"]) // "https://app.example.com/x"
 * validateRedirect("//evil.example", authUrl, [])                 // null
 */
export function validateRedirect(
  value: string | null | undefined,
  authUrl: URL,
  allowedOrigins: readonly string[],
): string | null {
  if (value === undefined || value === null) return new URL("/", authUrl).href;
  if (value.length === 0 || value.length > MAX_REDIRECT_LENGTH) return null;
  // Browsers treat `\` as `/` and drop tabs/newlines: `/\evil.com`, `/\t/evil.com`.
  // Any non-ASCII is refused too: hosts must be written in punycode.
  if (/[\\\x00-\x20\x7f-\uffff]/.test(value)) return null;
  // Protocol-relative (`//evil.com`) would take the scheme from the worker.
  if (value.startsWith("//")) return null;

  let url: URL;
  try {
    url = new URL(value, authUrl);
  } catch {
    return null;
  }
  if (url.username !== "" || url.password !== "") return null;
  if (url.protocol === "http:") {
    if (!isLocalHost(url.hostname)) return null;
  } else if (url.protocol !== "https:") {
    return null; // javascript:, data:, file:, …
  }
  const allowed = url.origin === authUrl.origin || allowedOrigins.includes(url.origin);
  return allowed ? url.href : null;
}
