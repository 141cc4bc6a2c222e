/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/): secrets are
 * `whsec_<base64 of 32 random bytes>`; a message is signed as
 * `v1,<base64 HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<body>")>`,
 * one signature per active secret (during a rotation, the new and the
 * previous), space-separated in `webhook-signature`. WebCrypto only, so the
 * `standardwebhooks` npm package verifies what this signs.
 */

const PREFIX = "whsec_";
const SECRET_BYTES = 32;
const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * A new signing secret.
 *
 * @example
 * const secret = newWebhookSecret(); // "whsec_…" (44 base64 characters after the prefix)
 */
export function newWebhookSecret(): string {
  return PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/**
 * The key bytes of a `whsec_` secret, or `null` when it is not one.
 *
 * @example
 * secretBytes(newWebhookSecret())?.length; // 32
 */
export function secretBytes(secret: string): Uint8Array<ArrayBuffer> | null {
  if (!secret.startsWith(PREFIX)) return null;
  try {
    const binary = atob(secret.slice(PREFIX.length));
    if (binary.length === 0) return null;
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

/**
 * The Standard Webhooks headers of one delivery attempt.
 *
 * @example
 * const headers = await signatureHeaders([secret], "msg_…", Math.floor(Date.now() / 1000), body);
 * // { "webhook-id": "msg_…", "webhook-timestamp": "1796…", "webhook-signature": "v1,K5oZ…=" }
 */
export async function signatureHeaders(secrets: readonly string[], id: string, timestamp: number, body: string): Promise<Record<string, string>> {
  const content = encoder.encode(`${id}.${timestamp}.${body}`);
  const signatures: string[] = [];
  for (const secret of secrets) {
    const bytes = secretBytes(secret);
    if (!bytes) throw new Error("not a whsec_ secret");
    const key = await crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    signatures.push(`v1,${toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, content)))}`);
  }
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signatures.join(" ") };
}

/**
 * The `webhook-id` of a delivery row.
 *
 * @example
 * webhookId("5f0c…"); // "msg_5f0c…"
 */
export function webhookId(deliveryId: string): string {
  return `msg_${deliveryId}`;
}
