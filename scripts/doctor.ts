/**
 * `npm run doctor [-- --env production] [--env-file PATH]… [--config PATH]`:
 * checks the configuration exactly as the worker parses it, from the values
 * wrangler would give it (scripts/lib/environment.ts: wrangler's own dotenv
 * parsing for `.dev.vars`/`.env`, or with `--env` the deploy values and the
 * secrets from the process environment), the wrangler config a deploy needs
 * (a real KV namespace id, the cron trigger), the database schema, and
 * prints what a backend must use to verify gatehouse's tokens (F2, F4, F8,
 * F15). Exits 1 when anything is wrong.
 *
 * It NEVER prints a value: problems name variables and kinds of problem, and
 * an unexpected failure prints only the step and the error's class name (an
 * error message can quote the line it choked on, private key included).
 */
import { parseArgs } from "node:util";
import { parseConfig, type Config } from "../src/config.ts";
import { databaseFor } from "../src/db/client.ts";
import { readSchemaStatus } from "../src/db/migrations.ts";
import { DEFAULT_MAX_TOKEN_AGE_SECONDS } from "../src/verify.ts";
import { readOperatorEnvironment, type WranglerFacts } from "./lib/environment.ts";

/** wrangler.toml's id until `wrangler kv namespace create` replaces it (docs/deploy.md). */
export const PLACEHOLDER_KV_ID = "00000000000000000000000000000000";

let step = "reading the command line";
let failed = false;
const problem = (text: string) => {
  failed = true;
  console.error(text);
};

// Last line of defence: whatever escapes, say where, never what.
process.on("uncaughtException", (error) => safeExit(error));
process.on("unhandledRejection", (error) => safeExit(error));

function safeExit(error: unknown): never {
  const name = error instanceof Error ? error.name : typeof error;
  console.error(`doctor: failed while ${step} (${name}). No value is printed; check that step's input by hand.`);
  process.exit(1);
}

/** Whether the checked environment sets GATEHOUSE_DEVELOPMENT (never in a deployment). */
let operatorDevelopmentFlag = false;

try {
  await main();
} catch (error) {
  safeExit(error);
}
process.exit(failed ? 1 : 0);

async function main(): Promise<void> {
  let values: { env?: string; "env-file"?: string[]; config?: string };
  try {
    ({ values } = parseArgs({
      options: { env: { type: "string" }, "env-file": { type: "string", multiple: true }, config: { type: "string", short: "c" } },
      strict: true,
    }));
  } catch {
    problem("doctor: unknown or incomplete option; use [--env NAME] [--env-file PATH]… [--config PATH]");
    return;
  }
  const envName = values.env;
  const deploy = envName !== undefined;

  step = "reading wrangler.toml and the environment";
  const operator = readOperatorEnvironment({ configPath: values.config, envName, envFiles: values["env-file"] });
  console.log(`doctor: checking ${deploy ? `the deploy values for --env ${envName}` : "the local (wrangler dev) values"}`);
  console.log(`  from: ${operator.sources.join(", ")}`);
  if (deploy && !operator.wrangler.envDefined) {
    console.log(`  wrangler.toml has no [env.${envName}]: checking its top level, which \`npm run deploy\` ships`);
  }

  step = "checking wrangler.toml";
  checkWrangler(operator.wrangler, deploy);

  step = "parsing the configuration";
  const result = parseConfig(operator.env);
  if (!result.ok) {
    problem("configuration: problems found");
    for (const p of result.problems) console.error(`  ${p.variable}: ${p.problem.replaceAll("_", " ")}${p.hint ? ` (${p.hint})` : ""}`);
    return;
  }
  const config = result.config;
  operatorDevelopmentFlag = operator.env.GATEHOUSE_DEVELOPMENT !== undefined;
  console.log("configuration: ok");
  if (deploy) checkDeployValues(config);
  printBackendFacts(config);

  step = "checking the database";
  const status = await readSchemaStatus(await databaseFor(config));
  if (status.state === "ok") console.log(`database: ok, schema at ${status.latest}`);
  else if (status.state === "behind") problem(`database: schema is behind; apply migration(s) ${status.missing.join(", ")} with npm run db:migrate`);
  else problem("database: unreachable with DATABASE_URL (is it set, and the database running?)");
}

function checkWrangler(w: WranglerFacts, deploy: boolean): void {
  const kv = w.kvNamespaces.find((k) => k.binding === "AUTH_KV");
  if (!kv?.id) problem("wrangler.toml: no [[kv_namespaces]] binding AUTH_KV with an id");
  else if (kv.id === PLACEHOLDER_KV_ID) {
    if (deploy) problem("wrangler.toml: AUTH_KV still has the placeholder id; create the namespace (npx wrangler kv namespace create AUTH_KV) and put its id in wrangler.toml");
    else console.log("  note: AUTH_KV has the placeholder id (fine for wrangler dev; replace it before deploying, see docs/deploy.md)");
  }
  if (w.crons.length === 0) problem("wrangler.toml: no [triggers] crons; the hourly housekeeping (expired sessions, consumed states) would never run");
  for (const name of ["AUTH_RATE_LIMITER", "AUTH_REFRESH_RATE_LIMITER", "AUTH_EMAIL_RATE_LIMITER"]) {
    if (!w.rateLimits.includes(name)) problem(`wrangler.toml: no [[ratelimits]] binding ${name}`);
  }
  if (deploy && w.routes.length === 0) {
    console.log("  note: wrangler.toml has no route or custom domain; the same-site rule needs AUTH_URL on your apps' site (docs/deploy.md)");
  }
}

/** What only matters for a deployment. */
function checkDeployValues(config: Readonly<Config>): void {
  const url = config.authUrl;
  if (url.protocol !== "https:") problem("AUTH_URL: a deployment must use https");
  if (/^(localhost|127\.|\[::1\])/.test(url.hostname) || url.hostname.endsWith(".localhost")) problem("AUTH_URL: names a local address");
  if (config.database.fetchEndpoint !== null) problem("NEON_FETCH_ENDPOINT: set, so database traffic would go to a local endpoint; unset it for a deployment");
  if (operatorDevelopmentFlag) problem("GATEHOUSE_DEVELOPMENT: set, which allows http://localhost origins and a local database endpoint; unset it for a deployment");
  for (const p of config.providers) {
    if (p.issuer && p.issuer.protocol !== "https:") problem(`OIDC_${p.id.toUpperCase()}_ISSUER: a deployment must use an https issuer`);
  }
}

function printBackendFacts(config: Readonly<Config>): void {
  const origin = config.authUrl.origin;
  console.log(`  providers: ${config.providers.map((p) => `${p.id} → callback ${origin}/auth/callback/${p.id}`).join("\n             ") || "none enabled"}`);
  if (config.providers.length === 0) console.warn("  warning: no sign-in provider is enabled; nobody can sign in");
  console.log(`  signing keys: ${config.signingKeys.map((k) => k.kid).join(", ")} (the first signs)`);
  console.log("");
  console.log("backends verify access tokens with:");
  console.log(`  issuer:   ${origin}`);
  console.log(`  audience: ${config.allowedAudiences.join(" | ")} (default ${config.allowedAudiences[0]})`);
  console.log(`  jwks_uri: ${origin}/.well-known/jwks.json`);
  console.log(`  gatehouse's own API (/api/orgs…): audience ${origin}/api, scope gatehouse:orgs (request it with resource=${origin}/api)`);
  const ttl = config.sessions.accessTokenTtlSeconds;
  const age = ttl === DEFAULT_MAX_TOKEN_AGE_SECONDS ? "" : `, maxTokenAgeSeconds: ${ttl}`;
  console.log(`  algorithm ES256, header typ "at+jwt"; e.g. verifyAccessToken(token, { issuer, audience, jwksUrl${age} }) from gatehouse/verify`);
  console.log("");
}
