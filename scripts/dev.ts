/**
 * `npm run dev`: the whole local stack on a fresh clone after `npm install`.
 *
 *   neon-local (PGlite under .data/) → migrations → local OpenID provider
 *   → wrangler dev (local KV) with a generated env file
 *   → the example API (examples/api) and the example SPA (examples/spa)
 *
 * Prints every URL and what to do; Ctrl-C stops everything it started.
 * Development secrets are generated once into .data/ (git-ignored) so
 * sessions survive restarts; nothing here is used in production.
 *
 * Ports and the data directory can be overridden (the browser tests run a
 * second stack next to yours): GATEHOUSE_PORT, GATEHOUSE_OIDC_PORT,
 * GATEHOUSE_NEON_PORT, GATEHOUSE_SPA_PORT, GATEHOUSE_API_PORT,
 * GATEHOUSE_INSPECTOR_PORT, GATEHOUSE_DATA_DIR. GATEHOUSE_PG_URL=postgres://…
 * puts neon-local in front of that real Postgres instead of PGlite (used by
 * `npm run bench -- --pg`); migrations are applied to it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startExampleApi } from "../examples/api/server.ts";
import { startExampleSpa } from "../examples/spa/server.ts";
import { applyMigrations } from "./lib/migrations.ts";
import { startLocalOidcProvider } from "./local-oidc/index.ts";
import { startNeonLocal } from "./neon-local/index.ts";

const root = resolve(import.meta.dirname, "..");
const dataDir = resolve(root, process.env.GATEHOUSE_DATA_DIR ?? ".data");
const WORKER_PORT = Number(process.env.GATEHOUSE_PORT ?? 8787);
const OIDC_PORT = Number(process.env.GATEHOUSE_OIDC_PORT ?? 9010);
const NEON_PORT = Number(process.env.GATEHOUSE_NEON_PORT ?? 4444);
const SPA_PORT = Number(process.env.GATEHOUSE_SPA_PORT ?? 5173);
const API_PORT = Number(process.env.GATEHOUSE_API_PORT ?? 8788);
const INSPECTOR_PORT = Number(process.env.GATEHOUSE_INSPECTOR_PORT ?? 9229);
const PG_URL = process.env.GATEHOUSE_PG_URL;
const AUTH_URL = `http://localhost:${WORKER_PORT}`;
// localhost on different ports: same-site with the worker, so SameSite=Lax cookies reach /auth/token (docs/deploy.md).
const SPA_URL = `http://localhost:${SPA_PORT}`;
const API_URL = `http://localhost:${API_PORT}`;

interface DevSecrets {
  signingKey: Record<string, string>;
  encryptionKey: string;
  oidcClientSecret: string;
}

/** Generated once per checkout; kept in .data/ so restarts keep sessions valid. */
function devSecrets(): DevSecrets {
  const path = join(dataDir, "dev-secrets.json");
  if (existsSync(path)) return JSON.parse(readFileSync(path, "utf8")) as DevSecrets;
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const secrets: DevSecrets = {
    signingKey: { ...(privateKey.export({ format: "jwk" }) as Record<string, string>), kid: `dev-${Date.now()}`, alg: "ES256" },
    encryptionKey: `1:${randomBytes(32).toString("base64url")}`,
    oidcClientSecret: randomBytes(24).toString("base64url"),
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
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

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
  console.log(`OpenID     ${oidc.issuer} (oidc-provider, development login: any username)`);

  const api = await startExampleApi({ port: API_PORT, authUrl: AUTH_URL, audience: API_URL, spaOrigin: SPA_URL });
  stops.push(() => api.close());
  const spa = await startExampleSpa({ port: SPA_PORT, authUrl: AUTH_URL, apiUrl: API_URL });
  stops.push(() => spa.close());

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
      ALLOWED_AUDIENCES: API_URL,
      OIDC_PROVIDERS: "local",
      OIDC_LOCAL_NAME: "Local",
      OIDC_LOCAL_ISSUER: oidc.issuer,
      OIDC_LOCAL_CLIENT_ID: "gatehouse-dev",
      OIDC_LOCAL_CLIENT_SECRET: secrets.oidcClientSecret,
    }),
    { mode: 0o600 },
  );

  const wrangler = spawn(
    process.execPath,
    [join(root, "node_modules/wrangler/bin/wrangler.js"), "dev", "--local", "--port", String(WORKER_PORT), "--ip", "127.0.0.1", "--inspector-port", String(INSPECTOR_PORT), "--env-file", envPath, "--persist-to", join(dataDir, "wrangler"), "--show-interactive-dev-session=false"],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  children.push(wrangler);
  wrangler.on("exit", (code) => void stop(code ?? 1));
  let announced = false;
  wrangler.stdout?.on("data", (chunk: Buffer) => {
    const text = chunk.toString();
    if (process.env.GATEHOUSE_VERBOSE) process.stdout.write(text);
    if (!announced && text.includes("Ready on")) {
      announced = true;
      console.log(`worker     ${AUTH_URL} (wrangler dev, local KV)`);
      console.log(`API        ${API_URL} (examples/api: GET /hello with a Bearer token)`);
      console.log(`SPA        ${SPA_URL} (examples/spa)`);
      console.log("");
      console.log(`Open ${SPA_URL}, click "Sign in", choose "Local" and type any username.`);
      console.log(`Your account page: ${AUTH_URL}/account   Health: ${AUTH_URL}/health   Ctrl-C stops everything.`);
    }
  });
}

main().catch((error: unknown) => {
  console.error(`dev: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
