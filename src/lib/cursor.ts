/**
 * Opaque keyset-pagination cursors for the read APIs (`/api/admin…`,
 * `/auth/events`, `/api/orgs/:org/events`): a base64url JSON array of the
 * last row's sort key. Clients pass it back unchanged; anything that does
 * not decode to the expected shape is refused by the caller (never a 500).
 */

/**
 * Encodes a sort key as a cursor.
 *
 * @example
 * encodeCursor(["123"]); // "WyIxMjMiXQ"
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  const bytes = new TextEncoder().encode(JSON.stringify(key));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Decodes a cursor into its sort key, or `null` when it is not one of ours
 * (wrong alphabet, not JSON, not an array of strings, too long).
 *
 * @example
 * decodeCursor("WyIxMjMiXQ"); // ["123"]
 * decodeCursor("nope!");      // null
 */
export function decodeCursor(cursor: string): string[] | null {
  if (cursor.length === 0 || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const value: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0))));
    if (!Array.isArray(value) || value.length === 0 || value.length > 4 || !value.every((v) => typeof v === "string")) return null;
    return value as string[];
  } catch {
    return null;
  }
}
