/**
 * `npm run dev`: the whole local stack on a fresh clone after `npm install`.
 *
 *   neon-local (PGlite under .data/) → migrations → local OpenID provider
 *   → wrangler dev (local KV) with a generated env file
 *   → the example API (examples/api) and the example SPA (examples/spa)
 *   → the example MCP server (examples/mcp), a protected resource MCP clients sign in to
 *   → a mail catcher (maildev: SMTP + web UI) that receives every sign-in email
 *
 * Prints every URL and what to do; Ctrl-C stops everything it started.
 * Development secrets are generated once into .data/ (git-ignored) so
 * sessions survive restarts; nothing here is used in production.
 *
 * It also registers and starts the example web app (examples/webapp), an
 * OAuth client of gatehouse on another site (127.0.0.1), signing in through
 * the consent page.
 *
 * Ports and the data directory can be overridden (the browser tests run a
 * second stack next to yours): GATEHOUSE_PORT, GATEHOUSE_OIDC_PORT,
 * GATEHOUSE_NEON_PORT, GATEHOUSE_SPA_PORT, GATEHOUSE_API_PORT, GATEHOUSE_MCP_PORT, GATEHOUSE_WEBAPP_PORT,
 * GATEHOUSE_INSPECTOR_PORT, GATEHOUSE_MAIL_SMTP_PORT, GATEHOUSE_MAIL_WEB_PORT, GATEHOUSE_DATA_DIR. GATEHOUSE_PG_URL=postgres://…
 * puts neon-local in front of that real Postgres instead of PGlite (used by
 * `npm run bench -- --pg`); migrations are applied to it.
 *
 * Dynamic client registration is open here (most MCP clients still register
 * that way); GATEHOUSE_DYNAMIC_REGISTRATION=off turns it off. Client ID
 * Metadata Documents work too, also on http://127.0.0.1 or localhost
 * (GATEHOUSE_DEVELOPMENT).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startExampleApi } from "../examples/api/server.ts";
import { startExampleMcp } from "../examples/mcp/server.ts";
import { startExampleSpa } from "../examples/spa/server.ts";
import { startExampleWebApp } from "../examples/webapp/server.ts";
import { ensureDevWebAppClient } from "./lib/dev-client.ts";
import { startMailCatcher } from "./lib/mail-catcher.ts";
import { applyMigrations } from "./lib/migrations.ts";
import { portClashes } from "./lib/ports.ts";
import { startLocalOidcProvider } from "./local-oidc/index.ts";
import { startNeonLocal } from "./neon-local/index.ts";

const root = resolve(import.meta.dirname, "..");
const dataDir = resolve(root, process.env.GATEHOUSE_DATA_DIR ?? ".data");
const WORKER_PORT = Number(process.env.GATEHOUSE_PORT ?? 8787);
const OIDC_PORT = Number(process.env.GATEHOUSE_OIDC_PORT ?? 9010);
const NEON_PORT = Number(process.env.GATEHOUSE_NEON_PORT ?? 4444);
const SPA_PORT = Number(process.env.GATEHOUSE_SPA_PORT ?? 5173);
const API_PORT = Number(process.env.GATEHOUSE_API_PORT ?? 8788);
const MCP_PORT = Number(process.env.GATEHOUSE_MCP_PORT ?? 8789);
const DYNAMIC_REGISTRATION = process.env.GATEHOUSE_DYNAMIC_REGISTRATION ?? "open";
const WEBAPP_PORT = Number(process.env.GATEHOUSE_WEBAPP_PORT ?? 5174);
const INSPECTOR_PORT = Number(process.env.GATEHOUSE_INSPECTOR_PORT ?? 9229);
const MAIL_SMTP_PORT = Number(process.env.GATEHOUSE_MAIL_SMTP_PORT ?? 1025);
const MAIL_WEB_PORT = Number(process.env.GATEHOUSE_MAIL_WEB_PORT ?? 1080);
const PG_URL = process.env.GATEHOUSE_PG_URL;
const AUTH_URL = `http://localhost:${WORKER_PORT}`;
// localhost on different ports: same-site with the worker, so SameSite=Lax cookies reach /auth/token (docs/deploy.md).
const SPA_URL = `http://localhost:${SPA_PORT}`;
const API_URL = `http://localhost:${API_PORT}`;
// The MCP endpoint is the resource (RFC 8707) MCP clients ask tokens for: listed in ALLOWED_AUDIENCES.
const MCP_URL = `http://localhost:${MCP_PORT}/mcp`;
// 127.0.0.1, not localhost: another site than the worker, as a third-party app would be.
const WEBAPP_URL = `http://127.0.0.1:${WEBAPP_PORT}`;

interface DevSecrets {
  signingKey: Record<string, string>;
  encryptionKey: string;
  oidcClientSecret: string;
  /** Added later: older .data/dev-secrets.json files get it on the next start. */
  webappClientSecret?: string;
}

/** Generated once per checkout; kept in .data/ so restarts keep sessions valid. */
function devSecrets(): DevSecrets & { webappClientSecret: string } {
  const path = join(dataDir, "dev-secrets.json");
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, "utf8")) as DevSecrets;
    if (stored.webappClientSecret) return { ...stored, webappClientSecret: stored.webappClientSecret };
    const updated = { ...stored, webappClientSecret: randomBytes(24).toString("base64url") };
    writeFileSync(path, JSON.stringify(updated, null, 2), { mode: 0o600 });
    return updated;
  }
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const secrets = {
    signingKey: { ...(privateKey.export({ format: "jwk" }) as Record<string, string>), kid: `dev-${Date.now()}`, alg: "ES256" },
    encryptionKey: `1:${randomBytes(32).toString("base64url")}`,
    oidcClientSecret: randomBytes(24).toString("base64url"),
    webappClientSecret: randomBytes(24).toString("base64url"),
  };
  writeFileSync(path, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** dotenv format; single quotes keep JSON values literal (dotenv does not unescape them). */
function envFile(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => {
      if (v.includes("'") || v.includes("\n")) throw new Error(`dev: cannot write ${k} to an env file`);
      return `${k}='${v}'`;
    })
    .join("\n");
}

async function main(): Promise<void> {
  const clashes = await portClashes([
    { port: WORKER_PORT, variable: "GATEHOUSE_PORT", what: "the worker" },
    { port: INSPECTOR_PORT, variable: "GATEHOUSE_INSPECTOR_PORT", what: "the worker's DevTools inspector" },
    { port: OIDC_PORT, variable: "GATEHOUSE_OIDC_PORT", what: "the local OpenID provider" },
    { port: NEON_PORT, variable: "GATEHOUSE_NEON_PORT", what: "neon-local" },
    { port: SPA_PORT, variable: "GATEHOUSE_SPA_PORT", what: "the example SPA" },
    { port: API_PORT, variable: "GATEHOUSE_API_PORT", what: "the example API" },
    { port: MCP_PORT, variable: "GATEHOUSE_MCP_PORT", what: "the example MCP server" },
    { port: WEBAPP_PORT, variable: "GATEHOUSE_WEBAPP_PORT", what: "the example web app" },
    { port: MAIL_SMTP_PORT, variable: "GATEHOUSE_MAIL_SMTP_PORT", what: "the mail catcher's SMTP server" },
    { port: MAIL_WEB_PORT, variable: "GATEHOUSE_MAIL_WEB_PORT", what: "the mail catcher's web UI" },
  ]);
  if (clashes.length > 0) {
    for (const message of clashes) console.error(`dev: ${message}`);
    process.exit(1);
  }
  mkdirSync(dataDir, { recursive: true });
  const stops: (() => Promise<void> | void)[] = [];
  const children: ChildProcess[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const child of children) child.kill("SIGTERM");
    for (const s of stops.reverse()) await s();
    process.exit(code);
  };
  // A shutdown that fails still ends the process, loudly.
  const stopOrExit = (code: number) => {
    stop(code).catch((error: unknown) => {
      console.error(`dev: shutdown failed: ${error instanceof Error ? error.name : "error"}`);
      process.exit(1);
    });
  };
  process.on("SIGINT", () => stopOrExit(0));
  process.on("SIGTERM", () => stopOrExit(0));

  const neonLocal = await startNeonLocal(
    PG_URL ? { backend: "pg", pgUrl: PG_URL, port: NEON_PORT } : { backend: "pglite", dataDir: join(dataDir, "pglite"), port: NEON_PORT },
  );
  stops.push(() => neonLocal.close());
  const applied = await applyMigrations({ connectionString: neonLocal.connectionString, fetchEndpoint: neonLocal.fetchEndpoint }, join(root, "migrations"));
  // The Postgres URL may carry a password: never printed.
  const backendName = PG_URL ? "real Postgres from GATEHOUSE_PG_URL" : `PGlite in ${join(dataDir, "pglite")}`;
  console.log(`database   ${neonLocal.url} (${backendName}) — ${applied.length ? `applied ${applied.join(", ")}` : "migrations up to date"}`);

  const secrets = devSecrets();
  const oidc = await startLocalOidcProvider({
    port: OIDC_PORT,
    clients: [{ client_id: "gatehouse-dev", client_secret: secrets.oidcClientSecret, redirect_uris: [`${AUTH_URL}/auth/callback/local`] }],
  });
  stops.push(() => oidc.close());
  console.log(`OpenID     ${oidc.issuer} (oidc-provider, development login: any username, no password, no consent screen)`);

  const mail = await startMailCatcher({ smtpPort: MAIL_SMTP_PORT, webPort: MAIL_WEB_PORT });
  stops.push(() => mail.close());
  console.log(`mail       ${mail.webUrl} (maildev: every sign-in email lands here; SMTP on 127.0.0.1:${mail.smtpPort})`);

  const api = await startExampleApi({ port: API_PORT, authUrl: AUTH_URL, audience: API_URL, spaOrigin: SPA_URL });
  stops.push(() => api.close());
  const mcp = await startExampleMcp({ port: MCP_PORT, authUrl: AUTH_URL, resource: MCP_URL });
  stops.push(() => mcp.close());
  const spa = await startExampleSpa({ port: SPA_PORT, authUrl: AUTH_URL, apiUrl: API_URL });
  stops.push(() => spa.close());
  const webappClientId = await ensureDevWebAppClient({
    connectionString: neonLocal.connectionString,
    fetchEndpoint: neonLocal.fetchEndpoint,
    secret: secrets.webappClientSecret,
    redirectUri: `${WEBAPP_URL}/callback`,
    apiUrl: API_URL,
  });
  const webapp = await startExampleWebApp({
    port: WEBAPP_PORT,
    authUrl: AUTH_URL,
    appUrl: WEBAPP_URL,
    clientId: webappClientId,
    clientSecret: secrets.webappClientSecret,
    apiUrl: API_URL,
  });
  stops.push(() => webapp.close());

  const envPath = join(dataDir, "dev.env");
  writeFileSync(
    envPath,
    envFile({
      AUTH_URL,
      // http://localhost and neon-local are refused without it (src/config.ts).
      GATEHOUSE_DEVELOPMENT: "true",
      DATABASE_URL: neonLocal.connectionString,
      NEON_FETCH_ENDPOINT: neonLocal.fetchEndpoint,
      AUTH_SIGNING_KEYS: JSON.stringify([secrets.signingKey]),
      TOKEN_ENCRYPTION_KEY: secrets.encryptionKey,
      ALLOWED_ORIGINS: SPA_URL,
      ALLOWED_REDIRECT_ORIGINS: SPA_URL,
      ALLOWED_AUDIENCES: `${API_URL},${MCP_URL}`,
      OAUTH_DYNAMIC_REGISTRATION: DYNAMIC_REGISTRATION,
      OIDC_PROVIDERS: "local",
      OIDC_LOCAL_NAME: "Local",
      OIDC_LOCAL_ISSUER: oidc.issuer,
      OIDC_LOCAL_CLIENT_ID: "gatehouse-dev",
      OIDC_LOCAL_CLIENT_SECRET: secrets.oidcClientSecret,
      // Email codes and links through real SMTP (cloudflare:sockets) into the mail catcher.
      // Passkeys on localhost (RP ID = AUTH_URL's hostname); e2e drives them with a virtual authenticator.
      AUTH_PASSKEYS: "true",
      EMAIL_SIGNIN: "true",
      MAIL_TRANSPORT: "smtp",
      MAIL_FROM: "sign-in@gatehouse.localhost",
      MAIL_FROM_NAME: "gatehouse (development)",
      SMTP_URL: `smtp+plain://127.0.0.1:${mail.smtpPort}`,
      // Operators (docs/operators.md "Admin"): the browser tests name theirs in advance.
      ...(process.env.GATEHOUSE_ADMIN_USER_IDS ? { ADMIN_USER_IDS: process.env.GATEHOUSE_ADMIN_USER_IDS } : {}),
    }),
    { mode: 0o600 },
  );

  const wrangler = spawn(
    process.execPath,
    [join(root, "node_modules/wrangler/bin/wrangler.js"), "dev", "--local", "--port", String(WORKER_PORT), "--ip", "127.0.0.1", "--inspector-port", String(INSPECTOR_PORT), "--env-file", envPath, "--persist-to", join(dataDir, "wrangler"), "--show-interactive-dev-session=false"],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  children.push(wrangler);
  wrangler.on("exit", (code) => stopOrExit(code ?? 1));
  let announced = false;
  wrangler.stdout?.on("data", (chunk: Buffer) => {
    const text = chunk.toString();
    if (process.env.GATEHOUSE_VERBOSE) process.stdout.write(text);
    if (!announced && text.includes("Ready on")) {
      announced = true;
      console.log(`worker     ${AUTH_URL} (wrangler dev, local KV)`);
      console.log(`API        ${API_URL} (examples/api: GET /hello with a Bearer token)`);
      console.log(`MCP        ${MCP_URL} (examples/mcp: Streamable HTTP, tools notes_list and notes_add; point an MCP client at it)`);
      console.log(`SPA        ${SPA_URL} (examples/spa)`);
      console.log(`web app    ${WEBAPP_URL} (examples/webapp: an OAuth client of gatehouse on another site, via the consent page)`);
      console.log("");
      console.log(`Open ${SPA_URL}, click "Sign in", choose "Local", type any username and press Enter (no password).`);
      console.log(`Or choose "Continue with email": the code and link arrive at ${mail.webUrl}`);
      console.log(`Your account page: ${AUTH_URL}/account   Health: ${AUTH_URL}/health   Ctrl-C stops everything.`);
    }
  });
}

main().catch((error: unknown) => {
  console.error(`dev: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
