/**
 * OAuth scopes gatehouse understands, and how the consent page says them in
 * plain words. Identity scopes (OpenID Connect) decide the id_token and
 * userinfo claims; `offline_access` decides whether a refresh token is
 * issued; any other registered scope is an API scope passed through to the
 * access token for the resource server to interpret.
 */

/** Scopes with a meaning inside gatehouse. */
export const IDENTITY_SCOPES = ["openid", "profile", "email", "offline_access"] as const;

/** What a scope name may look like (RFC 6749 §3.3 allows more; gatehouse keeps it plain). */
const SCOPE_NAME = /^[a-z][a-z0-9:._/-]{0,63}$/;
const MAX_SCOPES = 20;

/**
 * Splits a `scope` parameter into distinct names; `null` when a name is
 * malformed, the list is empty or too long.
 *
 * @example
 * parseScope("openid  email openid"); // ["openid", "email"]
 * parseScope("Admin!");               // null
 */
export function parseScope(value: string): string[] | null {
  const names = [...new Set(value.split(" ").filter((n) => n.length > 0))];
  if (names.length === 0 || names.length > MAX_SCOPES) return null;
  return names.every((n) => SCOPE_NAME.test(n)) ? names : null;
}

/**
 * Whether a scope name is acceptable in a client registration.
 *
 * @example
 * isValidScopeName("orgs:read"); // true
 */
export function isValidScopeName(name: string): boolean {
  return SCOPE_NAME.test(name);
}

/**
 * The scope names in plain words for the consent page, in a stable order.
 *
 * @example
 * describeScopes(["openid", "email"], "api.example.com");
 * // ["Know who you are (your gatehouse user id)", "See your email address"]
 */
export function describeScopes(scopes: readonly string[], resourceHost: string): string[] {
  const out: string[] = [];
  if (scopes.includes("openid")) out.push("Know who you are (your gatehouse user id)");
  if (scopes.includes("profile")) out.push("See your name and profile picture");
  if (scopes.includes("email")) out.push("See your email address");
  for (const s of scopes) {
    if (!(IDENTITY_SCOPES as readonly string[]).includes(s)) out.push(`Use “${s}” on ${resourceHost} as you`);
  }
  if (scopes.includes("offline_access")) out.push("Keep this access when you are not using the app (until you revoke it)");
  return out;
}
