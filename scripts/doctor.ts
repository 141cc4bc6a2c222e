/**
 * `npm run doctor [-- --env-file PATH]`: checks the configuration exactly as
 * the worker parses it, the database schema when DATABASE_URL is reachable,
 * and prints what a backend must use to verify gatehouse's tokens (F2, F4,
 * F8). Never prints a secret value. Exits 1 when anything is wrong.
 */
import { parseConfig } from "../src/config.ts";
import { databaseFor } from "../src/db/client.ts";
import { readSchemaStatus } from "../src/db/migrations.ts";
import { readOperatorEnvironment } from "./lib/environment.ts";

const envFileIndex = process.argv.indexOf("--env-file");
const env = readOperatorEnvironment(envFileIndex > 0 ? { envFile: process.argv[envFileIndex + 1] } : {});

const result = parseConfig(env);
if (!result.ok) {
  console.error("configuration: problems found");
  for (const p of result.problems) console.error(`  ${p.variable}: ${p.problem.replaceAll("_", " ")}${p.hint ? ` (${p.hint})` : ""}`);
  process.exit(1);
}
const config = result.config;
const origin = config.authUrl.origin;
console.log("configuration: ok");
console.log(`  providers: ${config.providers.map((p) => `${p.id} → callback ${origin}/auth/callback/${p.id}`).join("\n             ") || "none enabled"}`);
if (config.providers.length === 0) console.warn("  warning: no sign-in provider is enabled; nobody can sign in");
console.log(`  signing keys: ${config.signingKeys.map((k) => k.kid).join(", ")} (the first signs)`);
console.log("");
console.log("backends verify access tokens with:");
console.log(`  issuer:   ${origin}`);
console.log(`  audience: ${config.allowedAudiences.join(" | ")} (default ${config.allowedAudiences[0]})`);
console.log(`  jwks_uri: ${origin}/.well-known/jwks.json`);
console.log(`  algorithm ES256, header typ "at+jwt"; e.g. verifyAccessToken(token, { issuer, audience, jwksUrl }) from gatehouse/verify`);
console.log("");

const status = await readSchemaStatus(await databaseFor(config));
if (status.state === "ok") {
  console.log(`database: ok, schema at ${status.latest}`);
} else if (status.state === "behind") {
  console.error(`database: schema is behind; apply migration(s) ${status.missing.join(", ")} with npm run db:migrate`);
  process.exit(1);
} else {
  console.error("database: unreachable with DATABASE_URL (is it set, and the database running?)");
  process.exit(1);
}
