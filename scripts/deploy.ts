/**
 * `npm run deploy`: refuses to ship code newer than its database (F4).
 * Reads DATABASE_URL from the environment (the production secret is not
 * readable from Cloudflare), compares the database's applied migrations with
 * this build's journal, and only then runs `wrangler deploy`.
 *
 *   DATABASE_URL='postgres://…' npm run deploy
 */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { neonConfig } from "@neondatabase/serverless";
import { databaseFor } from "../src/db/client.ts";
import { readSchemaStatus } from "../src/db/migrations.ts";

const root = resolve(import.meta.dirname, "..");
const url = process.env.DATABASE_URL;
if (!url) {
  console.error("deploy: set DATABASE_URL (the production connection string) so the schema can be checked before deploying.");
  process.exit(1);
}
if (process.env.NEON_FETCH_ENDPOINT) neonConfig.fetchEndpoint = process.env.NEON_FETCH_ENDPOINT;

const status = await readSchemaStatus(await databaseFor({ database: { url, fetchEndpoint: null } }));
if (status.state === "behind") {
  console.error(`deploy: refused — the database lacks migration(s) ${status.missing.join(", ")}. Run npm run db:migrate first.`);
  process.exit(1);
}
if (status.state === "unreachable") {
  console.error("deploy: refused — the database is unreachable with DATABASE_URL.");
  process.exit(1);
}
console.log(`deploy: database schema at ${status.latest}; deploying`);
const run = spawnSync(process.execPath, [join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
process.exit(run.status ?? 1);
