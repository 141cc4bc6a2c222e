/**
 * How the benchmark calls the worker: loopback URLs only, and a fresh
 * client address per request.
 *
 * gatehouse rate-limits sign-in, callback and token per client IP (60 a
 * minute, wrangler.toml), and `wrangler dev` enforces it locally. The
 * benchmark sends hundreds of requests a second from one machine, so each
 * request carries its own `CF-Connecting-IP` from the IPv6 documentation
 * range (2001:db8::/32, never routed). The limiter still runs on every
 * request; it just never trips. At Cloudflare's edge a client cannot set
 * this header: Cloudflare overwrites it.
 */

let nextClient = 0;

/**
 * A documentation-range IPv6 address not handed out before in this process.
 *
 * @example
 * clientAddress(); // "2001:db8::1:0"
 */
export function clientAddress(): string {
  nextClient += 1;
  return `2001:db8::${(nextClient >>> 16).toString(16)}:${(nextClient & 0xffff).toString(16)}`;
}

/**
 * Request headers for one call to the worker: a fresh client address plus `extra`.
 *
 * @example
 * await fetch(`${authUrl}/health`, { headers: workerHeaders() });
 */
export function workerHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { "cf-connecting-ip": clientAddress(), ...extra };
}

/**
 * Throws unless `res` has `status`; the body is discarded (it may hold tokens).
 * A benchmark of error answers would measure the wrong thing, so any
 * unexpected status ends the run.
 *
 * @example
 * await expectStatus(await fetch(url), 200, "GET /health");
 */
export async function expectStatus(res: Response, status: number, what: string): Promise<void> {
  if (res.status === status) return;
  // Error bodies are gatehouse's JSON errors: a stable code, nothing secret.
  const detail = res.headers.get("content-type")?.includes("json") ? ` ${(await res.text()).slice(0, 200)}` : "";
  await res.body?.cancel();
  throw new Error(`${what}: expected HTTP ${status}, got ${res.status}${detail}`);
}

/**
 * Refuses any URL that is not http on loopback: the benchmark never sends
 * traffic anywhere else.
 *
 * @example
 * assertLoopback("http://localhost:8787"); // ok
 */
export function assertLoopback(url: string): void {
  const { protocol, hostname } = new URL(url);
  const loopback = hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
  if (protocol !== "http:" || !loopback) throw new Error(`bench: refusing a non-loopback URL (${protocol}//${hostname})`);
}
