/**
 * Small WebCrypto helpers: hashing, random values, and AES-256-GCM with
 * versioned keys for provider tokens at rest. Nothing here logs or throws
 * with a value in the message.
 */
import { toHex } from "./hex";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** GCM's recommended nonce size; a fresh random one per encryption. */
const IV_BYTES = 12;

/**
 * Lowercase hex SHA-256 of a string (UTF-8) or bytes.
 *
 * @example
 * await sha256Hex("abc") // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 */
export async function sha256Hex(input: string | Uint8Array): Promise<string> {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return toHex(new Uint8Array(digest));
}

/**
 * `byteLength` random bytes as unpadded base64url (32 bytes → 43 characters).
 *
 * @example
 * const state = randomBase64Url(); // "q3X…" (43 characters)
 */
export function randomBase64Url(byteLength = 32): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(byteLength)));
}

/**
 * Unpadded base64url of bytes.
 *
 * @example
 * base64UrlEncode(new Uint8Array([251, 255])) // "-_8"
 */
export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** One AES-256-GCM key of `config.encryptionKeys`. */
export interface EncryptionKey {
  version: number;
  key: Uint8Array;
}

/** What is stored: `ciphertext` = IV ‖ ciphertext ‖ tag, and the key's version. */
export interface Sealed {
  ciphertext: Uint8Array;
  keyVersion: number;
}

// Imported keys, keyed by the raw key bytes they were imported from.
const importedKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function importKey(raw: Uint8Array): Promise<CryptoKey> {
  let key = importedKeys.get(raw);
  if (!key) {
    key = crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, "AES-GCM", false, ["encrypt", "decrypt"]);
    importedKeys.set(raw, key);
  }
  return key;
}

/**
 * Encrypts `plaintext` with the first (newest) key. `aad` binds the
 * ciphertext to where it is stored, so a ciphertext copied to another row
 * does not decrypt there.
 *
 * @example
 * const sealed = await seal(config.encryptionKeys, JSON.stringify(tokens), "provider_token:user:github:123");
 */
export async function seal(keys: readonly EncryptionKey[], plaintext: string, aad: string): Promise<Sealed> {
  const current = keys[0];
  if (!current) throw new Error("no encryption key configured");
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const encrypted = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(aad) },
    await importKey(current.key),
    encoder.encode(plaintext),
  );
  const ciphertext = new Uint8Array(IV_BYTES + encrypted.byteLength);
  ciphertext.set(iv, 0);
  ciphertext.set(new Uint8Array(encrypted), IV_BYTES);
  return { ciphertext, keyVersion: current.version };
}

/**
 * Decrypts with the key of `sealed.keyVersion`. Returns `null` when that key
 * is gone, the data was tampered with, or `aad` differs from encryption time.
 *
 * @example
 * const json = await unseal(config.encryptionKeys, row, "provider_token:user:github:123");
 */
export async function unseal(keys: readonly EncryptionKey[], sealed: Sealed, aad: string): Promise<string | null> {
  const entry = keys.find((k) => k.version === sealed.keyVersion);
  if (!entry || sealed.ciphertext.length <= IV_BYTES) return null;
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: sealed.ciphertext.subarray(0, IV_BYTES), additionalData: encoder.encode(aad) },
      await importKey(entry.key),
      sealed.ciphertext.subarray(IV_BYTES),
    );
    return decoder.decode(plaintext);
  } catch {
    return null;
  }
}
