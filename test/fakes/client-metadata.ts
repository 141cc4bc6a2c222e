/**
 * A faithful fake of the web servers that host OAuth Client ID Metadata
 * Documents (MCP clients publish theirs at an https URL that is their
 * `client_id`). Tests register what each URL answers (status, headers, body,
 * a delay) through the control host; every fetch is counted, so tests can
 * see caching, and the request's headers are kept (no credentials may be sent).
 *
 *   POST /__control/client-metadata  {url, status?, headers?, body, delayMs?}
 *   GET  /__control/client-metadata?url=…  → {calls, lastHeaders}
 */
import { json } from "./flow.ts";

/** Hosts whose documents tests publish here. */
export const CLIENT_METADATA_HOSTS = ["cimd.test", "cimd-other.test"];
/**
 * A loopback origin served by this fake too (port 1: no local server listens
 * there), for the development-only http loopback documents; test/outbound.ts
 * routes it here instead of to the network.
 */
export const CLIENT_METADATA_LOOPBACK_HOST = "127.0.0.1:1";

interface Published {
  status: number;
  headers: Record<string, string>;
  body: string;
  delayMs: number;
}

const published = new Map<string, Published>();
const calls = new Map<string, { count: number; lastHeaders: Record<string, string> }>();

/** Control-plane requests for this fake, or `undefined` when the path is not ours. */
export async function clientMetadataControl(request: Request, url: URL): Promise<Response | undefined> {
  if (url.pathname !== "/__control/client-metadata") return undefined;
  if (request.method === "POST") {
    const p = (await request.json()) as { url: string; status?: number; headers?: Record<string, string>; body: unknown; delayMs?: number };
    published.set(p.url, {
      status: p.status ?? 200,
      headers: { "content-type": "application/json", ...p.headers },
      body: typeof p.body === "string" ? p.body : JSON.stringify(p.body),
      delayMs: p.delayMs ?? 0,
    });
    calls.delete(p.url);
    return json({ ok: true });
  }
  const target = url.searchParams.get("url") ?? "";
  return json({ calls: calls.get(target)?.count ?? 0, lastHeaders: calls.get(target)?.lastHeaders ?? null });
}

/** The published answer for a document URL (404 when nothing is published there). */
export async function clientMetadataFake(request: Request, url: URL): Promise<Response | undefined> {
  if (!CLIENT_METADATA_HOSTS.includes(url.hostname) && url.host !== CLIENT_METADATA_LOOPBACK_HOST) return undefined;
  const key = url.href;
  calls.set(key, { count: (calls.get(key)?.count ?? 0) + 1, lastHeaders: Object.fromEntries(request.headers) });
  const p = published.get(key);
  if (!p) return json({ error: "not_found" }, 404);
  if (p.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, p.delayMs));
  return new Response(p.body, { status: p.status, headers: p.headers });
}

/** Forgets everything (POST /__reset). */
export function resetClientMetadata(): void {
  published.clear();
  calls.clear();
}
