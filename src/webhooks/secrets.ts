/**
 * Endpoint signing secrets at rest: sealed with `lib/crypto.ts` (AES-256-GCM,
 * TOKEN_ENCRYPTION_KEY, versioned keys, as provider tokens are) and bound by
 * AAD to the endpoint, so a ciphertext copied into another endpoint's row does
 * not open. They must be recoverable (an HMAC key, unlike a client secret,
 * cannot be stored as a hash). A rotation moves the sealed current secret to
 * the `previous_*` columns unchanged (same AAD), so SQL alone can do it.
 */
import { seal, unseal, type EncryptionKey, type Sealed } from "../lib/crypto";

/**
 * The AAD of an endpoint's secrets.
 *
 * @example
 * webhookSecretAad("0b9c…"); // "gatehouse:webhook_secret:v1:0b9c…"
 */
export function webhookSecretAad(endpointId: string): string {
  return `gatehouse:webhook_secret:v1:${endpointId}`;
}

/**
 * Seals a new secret for an endpoint.
 *
 * @example
 * const sealed = await sealWebhookSecret(config.encryptionKeys, endpointId, newWebhookSecret());
 */
export function sealWebhookSecret(keys: readonly EncryptionKey[], endpointId: string, secret: string): Promise<Sealed> {
  return seal(keys, secret, webhookSecretAad(endpointId));
}

/**
 * Opens the endpoint's active secrets (current first, then the previous one
 * while its rotation window lasts); `null` when the current one cannot be
 * opened (its key version was removed). A previous one that cannot be opened is skipped.
 *
 * @example
 * const secrets = await openWebhookSecrets(config.encryptionKeys, row.endpointId, row.current, row.previous);
 */
export async function openWebhookSecrets(
  keys: readonly EncryptionKey[],
  endpointId: string,
  current: Sealed,
  previous: Sealed | null,
): Promise<string[] | null> {
  const aad = webhookSecretAad(endpointId);
  const first = await unseal(keys, current, aad);
  if (first === null) return null;
  const second = previous ? await unseal(keys, previous, aad) : null;
  return second === null ? [first] : [first, second];
}
