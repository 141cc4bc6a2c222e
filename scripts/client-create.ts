/**
 * `npm run client:create -- --name … --type … --redirect-uri … --scope …`:
 * registers an OAuth client (docs/oauth-server.md) in DATABASE_URL's
 * database (NEON_FETCH_ENDPOINT for neon-local), audited, and prints its
 * client_id and, for a confidential client, its secret ONCE (only the
 * SHA-256 is stored). Allowed resources come from the operator's
 * environment as the worker parses it (ALLOWED_AUDIENCES, AUTH_URL).
 *
 *   npm run client:create -- --name "Notes" --type confidential --redirect-uri https://notes.example.com/callback \
 *     --scope "openid email offline_access" --resource https://api.example.com --org acme
 */
import { createHash, randomBytes } from "node:crypto";
import { neon, neonConfig } from "@neondatabase/serverless";
import { CLIENT_CREATE_USAGE, insertClientQuery, parseClientArgs } from "./lib/client-create.ts";
import { readOperatorEnvironment } from "./lib/environment.ts";

const { env } = readOperatorEnvironment();
const authUrl = typeof env.AUTH_URL === "string" ? env.AUTH_URL.replace(/\/+$/, "") : null;
const audiences = typeof env.ALLOWED_AUDIENCES === "string" ? env.ALLOWED_AUDIENCES.split(",").map((a) => a.trim()).filter(Boolean) : [];
const allowedResources = [...audiences, ...(authUrl ? [`${authUrl}/api`] : [])];

const parsed = parseClientArgs(process.argv.slice(2), allowedResources);
if (!parsed.ok) {
  process.stderr.write(`client:create: ${parsed.problem}\n\n${CLIENT_CREATE_USAGE}`);
  process.exit(2);
}
const connectionString = process.env.DATABASE_URL;
if (!connectionString) {
  process.stderr.write("client:create: DATABASE_URL is not set\n");
  process.exit(2);
}
if (process.env.NEON_FETCH_ENDPOINT) neonConfig.fetchEndpoint = process.env.NEON_FETCH_ENDPOINT;

const secret = parsed.args.registration.type === "confidential" ? randomBytes(32).toString("base64url") : null;
const secretHash = secret === null ? null : createHash("sha256").update(secret, "utf8").digest("hex");
const query = insertClientQuery(parsed.args, secretHash);
try {
  const rows = (await neon(connectionString).query(query.text, query.params)) as { client_id: string }[];
  const clientId = rows[0]?.client_id;
  if (!clientId) {
    process.stderr.write(`client:create: no organization ${parsed.args.org}\n`);
    process.exit(1);
  }
  const r = parsed.args.registration;
  process.stdout.write(`Registered ${r.type} ${r.applicationType} client "${r.name}".

client_id:     ${clientId}
${secret ? `client_secret: ${secret}\n(shown once; only its SHA-256 is stored — give it only to that application's backend)\n` : "(public client: no secret; PKCE protects its codes)\n"}
Discovery: ${authUrl ?? "<AUTH_URL>"}/.well-known/openid-configuration
`);
} catch (err) {
  const e = err as { code?: string; message?: string };
  const message = (e.message ?? String(err)).replace(/postgres(ql)?:\/\/\S+/g, "postgres://…");
  process.stderr.write(`client:create: failed${e.code ? ` (${e.code})` : ""}: ${message}\n`);
  process.exit(1);
}
