/**
 * What a stored provider token's ciphertext holds and what it is bound to.
 * Writers (the sign-in callback, the Facebook connect flow) seal
 * `providerTokenPlaintext(…)` with the AAD below; the service-client read
 * opens it with the same AAD, so a ciphertext copied into another row (other
 * org, other page, other identity) does not decrypt.
 */
import { providerTokenAad } from "../db/signin";
import { unseal, type EncryptionKey, type Sealed } from "../lib/crypto";

export { providerTokenAad };

/**
 * AAD of a page token: bound to the organization, provider and page.
 *
 * @example
 * await seal(config.encryptionKeys, providerTokenPlaintext({ accessToken }), pageTokenAad(orgId, "facebook", page.id));
 */
export function pageTokenAad(orgId: string, provider: string, externalPageId: string): string {
  return `gatehouse:provider_token:page:${orgId}:${provider}:${externalPageId}`;
}

/**
 * The JSON sealed for every provider token (the sign-in callback writes the same shape).
 *
 * @example
 * providerTokenPlaintext({ accessToken: "EAAB…" }) // '{"accessToken":"EAAB…","refreshToken":null,"expiresAt":null,"scopes":[]}'
 */
export function providerTokenPlaintext(input: { accessToken: string; refreshToken?: string | null; expiresAt?: Date | null; scopes?: readonly string[] }): string {
  return JSON.stringify({
    accessToken: input.accessToken,
    refreshToken: input.refreshToken ?? null,
    expiresAt: input.expiresAt?.toISOString() ?? null,
    scopes: input.scopes ?? [],
  });
}

/**
 * Decrypts a stored token and returns its access token, or `null` when it
 * cannot be opened (key version gone, tampered, wrong AAD, unexpected shape).
 *
 * @example
 * const accessToken = await openAccessToken(config.encryptionKeys, row, pageTokenAad(row.orgId, row.provider, row.page.externalId));
 */
export async function openAccessToken(keys: readonly EncryptionKey[], sealed: Sealed, aad: string): Promise<string | null> {
  const json = await unseal(keys, sealed, aad);
  if (json === null) return null;
  try {
    const value = JSON.parse(json) as { accessToken?: unknown };
    return typeof value.accessToken === "string" && value.accessToken !== "" ? value.accessToken : null;
  } catch {
    return null;
  }
}
