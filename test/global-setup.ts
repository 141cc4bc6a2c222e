/**
 * Vitest globalSetup (runs in Node, once per run): starts neon-local and
 * builds the schema from migrations/ only, through the Neon HTTP protocol.
 *
 * With TEST_DATABASE_URL set, a fresh database gatehouse_test_<pid>_<random>
 * is created on that Postgres server and dropped afterwards; otherwise PGlite
 * runs in memory — except with CI=true, where a missing TEST_DATABASE_URL is
 * an error (an unreachable server fails the run either way). Then the local
 * OpenID provider (oidc-provider) starts on a free port: the worker signs in
 * against it as the `oidc` provider "local".
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { unstable_readConfig } from "wrangler";
import { applyMigrations } from "../scripts/lib/migrations.js";
import { startMailCatcher } from "../scripts/lib/mail-catcher.js";
import { startLocalOidcProvider } from "../scripts/local-oidc/index.js";
import { startNeonLocal, type NeonLocal } from "../scripts/neon-local/index.js";

/**
 * F11: the suite never runs in UTC, so a `timestamp` column where
 * `timestamptz` belongs shifts values and goes red. Postgres sessions use a
 * zone with an odd positive offset (comparisons with now() move); the
 * processes started from here (neon-local, the local OpenID provider) a
 * negative one (a zone-less timestamp read back is parsed as local time).
 * workerd runs in UTC as production Workers do: Miniflare 5 starts it with
 * TZ=UTC and the test plugin passes no way to change it. db:check's
 * migrations-vs-schema comparison catches a hand-edited column type as well.
 */
export const TEST_PG_TIME_ZONE = "Asia/Kathmandu";
export const TEST_NODE_TIME_ZONE = "America/St_Johns";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env.TZ = TEST_NODE_TIME_ZONE;
  const serverUrl = process.env.TEST_DATABASE_URL;
  // F14: in CI the concurrency tests must run, so there is no PGlite fallback.
  if (!serverUrl && process.env.CI === "true") {
    throw new Error("CI=true but TEST_DATABASE_URL is not set: CI runs the suite on real PostgreSQL (the concurrency tests skip on PGlite).");
  }
  const scratch = serverUrl ? await createScratchDatabase(serverUrl) : undefined;

  let local: NeonLocal;
  try {
    local = scratch
      ? await startNeonLocal({ backend: "pg", pgUrl: scratch.url, timeZone: TEST_PG_TIME_ZONE })
      : await startNeonLocal({ backend: "pglite", memory: true, timeZone: TEST_PG_TIME_ZONE });
    await applyMigrations({ connectionString: local.connectionString, fetchEndpoint: local.fetchEndpoint });
  } catch (err) {
    await scratch?.drop();
    throw err;
  }
  // Migrations are setup, not test traffic.
  local.reset();

  project.provide("neonLocalUrl", local.url);
  project.provide("neonFetchEndpoint", local.fetchEndpoint);
  project.provide("databaseUrl", local.connectionString);
  project.provide("databaseBackend", local.backend);
  project.provide("pgTimeZone", TEST_PG_TIME_ZONE);
  project.provide("nodeTimeZone", TEST_NODE_TIME_ZONE);
  // The cron triggers as wrangler deploys them (F15: housekeeping must be scheduled).
  project.provide("wranglerCrons", unstable_readConfig({ config: "wrangler.toml" }).triggers.crons ?? []);

  const oidc = await startLocalOidcProvider({
    port: 0,
    clients: [
      {
        client_id: "gatehouse-test",
        client_secret: "gatehouse-test-secret-0123456789",
        redirect_uris: ["https://auth.example.com/auth/callback/local"],
      },
    ],
  });
  project.provide("oidcIssuer", oidc.issuer);

  // A real SMTP catcher: the SMTP transport's tests send through it over cloudflare:sockets.
  const mail = await startMailCatcher({ smtpPort: 0, webPort: 0 });
  project.provide("mailSmtpPort", mail.smtpPort);
  project.provide("mailWebUrl", mail.webUrl);

  return async () => {
    await mail.close();
    await oidc.close();
    await local.close();
    await scratch?.drop();
  };
}

/** Creates an empty database next to the one TEST_DATABASE_URL names. */
async function createScratchDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `gatehouse_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
    // Direct connections to the scratch database (not through neon-local) get the zone too.
    await admin.query(`ALTER DATABASE "${name}" SET TimeZone TO '${TEST_PG_TIME_ZONE}'`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        // FORCE: the pool may still be closing its connections.
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
