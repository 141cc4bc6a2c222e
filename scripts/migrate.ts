/**
 * `npm run db:migrate`: applies pending migrations from ./migrations.
 *
 * Env: DATABASE_URL (required), NEON_FETCH_ENDPOINT (optional, e.g. neon-local's
 * http://127.0.0.1:4444/sql). The URL is never printed.
 */
import { applyMigrations } from "./lib/migrations.js";

const connectionString = process.env.DATABASE_URL;
if (!connectionString) {
  console.error("db:migrate: DATABASE_URL is not set");
  process.exit(2);
}

try {
  const applied = await applyMigrations({ connectionString, fetchEndpoint: process.env.NEON_FETCH_ENDPOINT || undefined });
  if (applied.length === 0) console.log("db:migrate: nothing to apply");
  for (const tag of applied) console.log(`db:migrate: applied ${tag}`);
} catch (err) {
  // Driver errors can quote the connection string (e.g. an invalid URL); print only the Postgres fields.
  const e = err as { code?: string; message?: string };
  const message = (e.message ?? String(err)).replace(/postgres(ql)?:\/\/\S+/g, "postgres://…");
  console.error(`db:migrate: failed${e.code ? ` (${e.code})` : ""}: ${message}`);
  process.exit(1);
}
