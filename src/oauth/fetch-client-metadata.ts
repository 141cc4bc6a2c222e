/**
 * Fetches a Client ID Metadata Document safely (docs/oauth-server.md): https
 * only (the URL check), a GET with no credentials and no cookies, no
 * redirects followed (a document must live at its own URL), at most 5 KiB
 * read, 5 seconds for the whole answer, and the result cached in KV by the
 * document's Cache-Control within 60 s – 1 day (`kv/client-metadata.ts`).
 * This is the only network I/O of `oauth/`; the checks are the pure ones of
 * `client-metadata.ts`. No database round trip.
 */
import { readClientMetadata, writeClientMetadata } from "../kv/client-metadata";
import { describeError, log } from "../lib/log";
import { cacheSeconds, MAX_CLIENT_METADATA_BYTES, validateClientMetadata, type ClientMetadataDocument } from "./client-metadata";

/** The whole fetch, headers and body, must finish within this. */
export const CLIENT_METADATA_TIMEOUT_MS = 5_000;

export type ClientMetadataLookup = { ok: true; value: ClientMetadataDocument } | { ok: false; problem: string };

/**
 * The validated document for `url` (already `isClientMetadataUrl`), from
 * the cache or the network. Never throws for a bad or unreachable document:
 * the problem is returned for the error page.
 *
 * @example
 * const doc = await lookUpClientMetadata(c.var.kv, clientId);
 * if (!doc.ok) throw requestInvalid(doc.problem);
 */
export async function lookUpClientMetadata(kv: KVNamespace, url: string, timeoutMs = CLIENT_METADATA_TIMEOUT_MS): Promise<ClientMetadataLookup> {
  try {
    const cached = await readClientMetadata(kv, url);
    if (cached) return { ok: true, value: cached };
  } catch (error) {
    log("warn", "client_metadata_cache_read_failed", describeError(error));
  }
  let response: Response;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    response = await fetch(url, { method: "GET", redirect: "manual", headers: { accept: "application/json" }, signal });
  } catch {
    return { ok: false, problem: signal.aborted ? "the client's metadata document did not answer in time" : "the client's metadata document could not be fetched" };
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    return { ok: false, problem: "the client's metadata document URL redirects; it must be served at its own URL" };
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    return { ok: false, problem: `the client's metadata document answered HTTP ${response.status}` };
  }
  const text = await readCapped(response, MAX_CLIENT_METADATA_BYTES, signal);
  if (text === null) return { ok: false, problem: `the client's metadata document is larger than ${MAX_CLIENT_METADATA_BYTES} bytes, or did not arrive in time` };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, problem: "the client's metadata document is not JSON" };
  }
  const checked = validateClientMetadata(doc, url);
  if (!checked.ok) return { ok: false, problem: `the client's metadata document is not acceptable: ${checked.problem}` };
  try {
    await writeClientMetadata(kv, checked.value, cacheSeconds(response.headers.get("cache-control")));
  } catch (error) {
    // The cache only saves a fetch; the document itself was good.
    log("warn", "client_metadata_cache_write_failed", describeError(error));
  }
  return checked;
}

/** The body as text, or null when it exceeds `max` bytes (declared or actual) or stops arriving. */
async function readCapped(response: Response, max: number, signal: AbortSignal): Promise<string | null> {
  const declared = response.headers.get("content-length");
  if (declared !== null && (!/^\d+$/.test(declared) || Number(declared) > max)) {
    await response.body?.cancel();
    return null;
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      if (signal.aborted) throw new Error("timeout");
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) throw new Error("too large");
      chunks.push(value);
    }
  } catch {
    await reader.cancel().catch(() => undefined);
    return null;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(all);
  } catch {
    return null;
  }
}
