/**
 * Cache of validated Client ID Metadata Documents:
 * `cimd:<sha256 hex of the URL>` → the validated document as JSON, for as
 * long as the document's host allows (`oauth/client-metadata.ts`
 * `cacheSeconds`: 60 s – 1 day, 5 minutes by default, not at all for
 * `no-store`). Only documents that passed validation are cached; a refused
 * one is fetched again next time. Reads use KV's edge cache for 60 s.
 */
import { sha256Hex } from "../lib/crypto";
import type { ClientMetadataDocument } from "../oauth/client-metadata";

const PREFIX = "cimd:";
const KV_MIN_TTL_SECONDS = 60;

async function keyOf(url: string): Promise<string> {
  return `${PREFIX}${await sha256Hex(url)}`;
}

/**
 * The cached document for `url`, or null (absent, expired or unreadable).
 *
 * @example
 * const doc = await readClientMetadata(c.var.kv, "https://app.example.com/client.json");
 */
export async function readClientMetadata(kv: KVNamespace, url: string): Promise<ClientMetadataDocument | null> {
  const value = await kv.get<ClientMetadataDocument>(await keyOf(url), { type: "json", cacheTtl: KV_MIN_TTL_SECONDS });
  return value !== null && value.url === url ? value : null;
}

/**
 * Caches a validated document for `ttlSeconds` (nothing below KV's 60 s minimum).
 *
 * @example
 * await writeClientMetadata(c.var.kv, doc, 300);
 */
export async function writeClientMetadata(kv: KVNamespace, doc: ClientMetadataDocument, ttlSeconds: number): Promise<void> {
  if (ttlSeconds < KV_MIN_TTL_SECONDS) return;
  await kv.put(await keyOf(doc.url), JSON.stringify(doc), { expirationTtl: ttlSeconds });
}
