/**
 * What a stored provider token's ciphertext holds and what it is bound to.
 * Writers (the sign-in callback, the Facebook connect flow) seal
 * `providerTokenPlaintext(…)` with the AAD below; the service-client read
 * opens it with the AAD its row calls for, so a ciphertext copied into
 * another row (other organization, other user, other page, other identity,
 * other token type) does not decrypt.
 *
 * AAD versions (`provider_tokens.aad_version`):
 * - 2 (every write now): token type, organization, user, provider, and the
 *   identity or page. The sign-in callback's token for the user's personal
 *   organization cannot name ids the sign-in statement itself creates (a
 *   new user's id, their personal organization's id), so it names the
 *   personal organization of the identity instead; the read checks that the
 *   row's organization is personal and that the row's user is the identity's.
 * - NULL (rows written before version 2): `user:provider:subject` or
 *   `page:org:provider:page`. Still opened, lazily: the next write of that
 *   token (the next sign-in, the next connect) replaces it with version 2.
 *   The key lives in the worker, so SQL alone cannot re-encrypt.
 */
import { unseal, type EncryptionKey, type Sealed } from "../lib/crypto";

/** Who a user token was granted to: an organization and user, or the identity's own personal organization. */
export type UserTokenBinding = { kind: "org"; orgId: string; userId: string } | { kind: "personal" };

/**
 * AAD (version 2) of a user token.
 *
 * @example
 * await seal(keys, json, userTokenAad({ kind: "org", orgId, userId }, "facebook", subject));
 * await seal(keys, json, userTokenAad({ kind: "personal" }, "github", subject)); // the sign-in callback
 */
export function userTokenAad(binding: UserTokenBinding, provider: string, subject: string): string {
  const owner = binding.kind === "personal" ? "personal" : `${binding.orgId}:${binding.userId}`;
  return `gatehouse:provider_token:v2:user:${owner}:${provider}:${subject}`;
}

/**
 * AAD (version 2) of a page token: bound to the organization, the user who connected it, the provider and the page.
 *
 * @example
 * await seal(keys, providerTokenPlaintext({ accessToken }), pageTokenAad(orgId, userId, "facebook", page.id));
 */
export function pageTokenAad(orgId: string, userId: string, provider: string, externalPageId: string): string {
  return `gatehouse:provider_token:v2:page:${orgId}:${userId}:${provider}:${externalPageId}`;
}

/** What a stored row says about its binding, as the reads return it. */
export interface StoredTokenBinding {
  /** NULL for rows written before version 2. */
  aadVersion: number | null;
  orgId: string;
  userId: string;
  provider: string;
  /** Whether `orgId` is the personal organization of `userId` (user tokens). */
  personal?: boolean;
}

/**
 * The AAD a stored user token was sealed with, from its row.
 *
 * @example
 * const aad = storedUserTokenAad({ ...row, providerSubject });
 */
export function storedUserTokenAad(row: StoredTokenBinding & { providerSubject: string }): string {
  if (row.aadVersion === null) return `gatehouse:provider_token:user:${row.provider}:${row.providerSubject}`;
  const binding: UserTokenBinding = row.personal ? { kind: "personal" } : { kind: "org", orgId: row.orgId, userId: row.userId };
  return userTokenAad(binding, row.provider, row.providerSubject);
}

/**
 * The AAD a stored page token was sealed with, from its row.
 *
 * @example
 * const aad = storedPageTokenAad({ ...row, externalPageId: row.page.externalId });
 */
export function storedPageTokenAad(row: StoredTokenBinding & { externalPageId: string }): string {
  if (row.aadVersion === null) return `gatehouse:provider_token:page:${row.orgId}:${row.provider}:${row.externalPageId}`;
  return pageTokenAad(row.orgId, row.userId, row.provider, row.externalPageId);
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
 * const accessToken = await openAccessToken(config.encryptionKeys, row, storedPageTokenAad({ ...row, externalPageId: row.page.externalId }));
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
