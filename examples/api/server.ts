/**
 * The example API: a Hono app on Node that trusts gatehouse access tokens
 * using ONLY gatehouse's public JWKS URL, its issuer and its own audience.
 * No secret is shared with gatehouse (F6); issuer and audience are both
 * checked (F8); clock skew is tolerated by the helper (F7).
 *
 *   GET /hello   Authorization: Bearer <access token>  →  {"hello": "<user id>"}
 *
 * Run alone: `npx tsx examples/api/server.ts` (AUTH_URL, API_URL, SPA_ORIGIN
 * override the defaults); `npm run dev` starts it with the rest.
 */
import { serve } from "@hono/node-server";
import { Hono, type Context } from "hono";
import { cors } from "hono/cors";
// A self-reference: package.json `exports["./verify"]` → src/verify.ts, as a backend would import it.
import { verifyAccessToken } from "gatehouse/verify";

export interface ExampleApiOptions {
  /** gatehouse's AUTH_URL, e.g. `http://localhost:8787`: the issuer, and where the JWKS lives. */
  authUrl: string;
  /** This API's audience (listed in gatehouse's ALLOWED_AUDIENCES), e.g. `http://localhost:8788`. */
  audience: string;
  /** The SPA allowed to call this API from the browser. */
  spaOrigin: string;
}

/**
 * The API as a Hono app (testable with `app.request`).
 *
 * @example
 * const app = createExampleApi({ authUrl: "http://localhost:8787", audience: "http://localhost:8788", spaOrigin: "http://localhost:5173" });
 */
export function createExampleApi(options: ExampleApiOptions): Hono {
  const issuer = new URL(options.authUrl).origin;
  const jwksUrl = new URL("/.well-known/jwks.json", issuer);
  const app = new Hono();
  app.use("*", cors({ origin: options.spaOrigin, allowHeaders: ["authorization"], allowMethods: ["GET"], maxAge: 600 }));
  app.get("/health", (c) => c.json({ ok: true }));
  app.get("/hello", async (c) => {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : null;
    if (token === null) return unauthorized(c, "missing_token");
    const result = await verifyAccessToken(token, { issuer, audience: options.audience, jwksUrl });
    if (!result.ok) return unauthorized(c, result.error);
    return c.json({ hello: result.claims.sub });
  });
  return app;
}

/** 401 with the RFC 6750 challenge; the reason is a fixed code, never the token. */
function unauthorized(c: Context, reason: string): Response {
  return c.json({ error: "invalid_token", reason }, 401, { "WWW-Authenticate": `Bearer error="invalid_token"` });
}

/**
 * Listens on `port` (127.0.0.1); resolves once listening, with a `close`.
 *
 * @example
 * const api = await startExampleApi({ port: 8788, authUrl, audience, spaOrigin });
 * await api.close();
 */
export function startExampleApi(options: ExampleApiOptions & { port: number }): Promise<{ url: string; close: () => Promise<void> }> {
  const app = createExampleApi(options);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: options.port, hostname: "127.0.0.1" }, () => {
      resolve({
        url: `http://localhost:${options.port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
    server.once("error", reject);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.API_PORT ?? 8788);
  const api = await startExampleApi({
    port,
    authUrl: process.env.AUTH_URL ?? "http://localhost:8787",
    audience: process.env.API_URL ?? `http://localhost:${port}`,
    spaOrigin: process.env.SPA_ORIGIN ?? "http://localhost:5173",
  });
  console.log(`example API on ${api.url} (GET /hello with a Bearer token)`);
}
