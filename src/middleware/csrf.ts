/**
 * Request guards for endpoints that act on the browser's cookies. SameSite=Lax
 * already keeps cookies off cross-site POSTs; these checks do not rely on it.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { GatehouseError } from "../error";
import { isAllowedOrigin } from "./cors";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Unsafe methods need an `Origin` header equal to AUTH_URL's origin or one of
 * ALLOWED_ORIGINS; a missing, `null` or other origin is a 403 before any
 * cookie is read.
 *
 * @example
 * signout.use(requireTrustedOrigin());
 */
export function requireTrustedOrigin(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method)) {
      const origin = c.req.header("origin");
      const config = c.var.config;
      if (origin !== config.authUrl.origin && !isAllowedOrigin(config.allowedOrigins, origin)) {
        throw new GatehouseError("Forbidden", "The request did not come from an allowed origin.");
      }
    }
    await next();
  };
}

/**
 * Only `application/json` request bodies: a cross-site HTML form or a
 * `text/plain` fetch (both sent without a preflight) is a 415.
 *
 * @example
 * token.use(requireJsonBody());
 */
export function requireJsonBody(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method)) {
      const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
      if (type !== "application/json") {
        throw new GatehouseError("UnsupportedMediaType", "Send the request body as application/json.");
      }
    }
    await next();
  };
}

/**
 * `Cache-Control: no-store` on every response, errors included: these
 * answers carry tokens or depend on cookies.
 *
 * @example
 * token.use(noStore());
 */
export function noStore(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    c.res.headers.set("Cache-Control", "no-store");
  };
}

/**
 * A 405 with `Allow`, for methods a route does not accept.
 *
 * @example
 * token.all("/", methodNotAllowed("POST"));
 */
export function methodNotAllowed(allow: string): MiddlewareHandler<AppEnv> {
  return () => {
    throw new GatehouseError("MethodNotAllowed", "This endpoint does not accept that method.", { headers: { Allow: allow } });
  };
}

/**
 * Bounds the request body while it is read: a declared `Content-Length` over
 * `maxBytes` is refused unread, a streamed body as soon as it passes the
 * limit. Checking the length after `c.req.text()` would already have
 * buffered whatever a script sent (Origin is easy to forge outside a
 * browser), up to the platform's 100 MB, in a 128 MB isolate.
 *
 * A refused body is cancelled, never left hanging: an unread, uncancelled
 * request body keeps the request half open, and `wrangler dev`'s proxy then
 * fails the next request ("worker restarted mid-request").
 *
 * @example
 * token.post("/", requireTrustedOrigin(), limitBody(2048), handler);
 */
export function limitBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const declared = c.req.header("content-length");
    if (declared !== undefined && !c.req.header("transfer-encoding")) {
      if (!/^\d+$/.test(declared) || Number(declared) > maxBytes) {
        await cancelQuietly(body);
        throw tooLarge();
      }
      return next();
    }
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
    const buffered = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      buffered.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { body: buffered });
    return next();
  };
}

function tooLarge(): GatehouseError {
  return new GatehouseError("InvalidRequest", "The request body is too large.");
}

async function cancelQuietly(body: ReadableStream<Uint8Array>): Promise<void> {
  // A locked or already finished stream cannot be cancelled; the refusal stands either way.
  await body.cancel().catch(() => undefined);
}
