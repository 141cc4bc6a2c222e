/**
 * CLI: `tsx scripts/neon-local.ts [--port 4444] [--memory | --data-dir DIR] [--pg URL] [--verbose]`
 *
 * Starts a local Neon SQL-over-HTTP endpoint. Point the worker at it with
 * NEON_FETCH_ENDPOINT=<printed endpoint> and DATABASE_URL=<printed connection
 * string>. The backend is fixed here; the connection string the driver sends
 * is not used to choose a database.
 */
import { parseArgs } from "node:util";
import { startNeonLocal } from "./neon-local/index.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "4444" },
    host: { type: "string", default: "127.0.0.1" },
    memory: { type: "boolean", default: false },
    "data-dir": { type: "string" },
    pg: { type: "string" },
    verbose: { type: "boolean", default: false },
  },
});

if (values.memory && values["data-dir"]) {
  console.error("neon-local: use either --memory or --data-dir, not both");
  process.exit(2);
}

const local = await startNeonLocal({
  backend: values.pg ? "pg" : "pglite",
  pgUrl: values.pg,
  memory: values.memory,
  dataDir: values["data-dir"],
  port: Number(values.port),
  host: values.host,
  log: values.verbose ? (line) => console.log(line) : undefined,
});

const where = values.pg ? "postgres (--pg)" : values.memory ? "pglite (in memory)" : `pglite (${values["data-dir"] ?? ".data/pglite"})`;
console.log(`neon-local: backend ${where}`);
console.log(`NEON_FETCH_ENDPOINT=${local.fetchEndpoint}`);
// Placeholder credentials only; the real --pg URL is never printed.
console.log(`DATABASE_URL=${local.connectionString}`);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`neon-local: ${signal}, shutting down`);
  await local.close();
  process.exit(0);
}
const stopOrExit = (signal: string) => {
  stop(signal).catch(() => process.exit(1));
};
process.on("SIGINT", () => stopOrExit("SIGINT"));
process.on("SIGTERM", () => stopOrExit("SIGTERM"));
