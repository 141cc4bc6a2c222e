/**
 * The example SPA's static server: index.html, app.js and config.json (the
 * gatehouse and API URLs, so ports can change without a build step). Only
 * those three files are served; everything else is 404.
 *
 * Run alone: `npx tsx examples/spa/server.ts` (SPA_PORT, AUTH_URL, API_URL
 * override the defaults); `npm run dev` starts it with the rest.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";

export interface ExampleSpaOptions {
  port: number;
  /** gatehouse's AUTH_URL, e.g. `http://localhost:8787`. */
  authUrl: string;
  /** The example API's URL, also the audience the SPA asks tokens for. */
  apiUrl: string;
}

const here = import.meta.dirname;

/**
 * Starts the static server on 127.0.0.1; resolves once listening.
 *
 * @example
 * const spa = await startExampleSpa({ port: 5173, authUrl: "http://localhost:8787", apiUrl: "http://localhost:8788" });
 * await spa.close();
 */
export function startExampleSpa(options: ExampleSpaOptions): Promise<{ url: string; close: () => Promise<void> }> {
  const files: Record<string, { type: string; body: string }> = {
    "/": { type: "text/html; charset=utf-8", body: readFileSync(join(here, "index.html"), "utf8") },
    "/app.js": { type: "text/javascript; charset=utf-8", body: readFileSync(join(here, "app.js"), "utf8") },
    "/config.json": { type: "application/json", body: JSON.stringify({ authUrl: options.authUrl, apiUrl: options.apiUrl }) },
  };
  // The SPA's own policy: its script from itself, fetches only to gatehouse and the API.
  const csp = `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ${options.authUrl} ${options.apiUrl}; frame-ancestors 'none'`;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://spa").pathname;
    const file = files[path === "/index.html" ? "/" : path];
    if (!file || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": file.type, "cache-control": "no-store", "content-security-policy": csp, "x-content-type-options": "nosniff" });
    res.end(req.method === "HEAD" ? undefined : file.body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => {
      resolve({
        url: `http://localhost:${options.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const spa = await startExampleSpa({
    port: Number(process.env.SPA_PORT ?? 5173),
    authUrl: process.env.AUTH_URL ?? "http://localhost:8787",
    apiUrl: process.env.API_URL ?? "http://localhost:8788",
  });
  console.log(`example SPA on ${spa.url}`);
}
