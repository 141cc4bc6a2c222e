/**
 * neon-local: a local endpoint that speaks Neon's SQL-over-HTTP protocol, so
 * the worker runs the production `@neondatabase/serverless` code path against
 * PGlite or a real Postgres.
 *
 * The backend is chosen at start-up. The `Neon-Connection-String` header the
 * driver sends is accepted and ignored: every request goes to that backend.
 */
import type { AddressInfo } from "node:net";
import { PgBackend } from "./backend-pg.js";
import { PgliteBackend } from "./backend-pglite.js";
import { FaultRegistry } from "./faults.js";
import { createNeonLocalServer, type RequestLogger } from "./server.js";
import { StatsCounter } from "./stats.js";
import type { Backend, Faults, Stats } from "./types.js";

export type { Faults, FaultMode, Stats } from "./types.js";

/** Options for {@link startNeonLocal}. */
export interface NeonLocalOptions {
  /** "pglite" (embedded, default) or "pg" (real Postgres at `pgUrl`). */
  backend?: "pglite" | "pg";
  /** postgres:// URL of the real server; required for backend "pg". */
  pgUrl?: string;
  /** PGlite data directory; default ".data/pglite". Ignored with `memory`. */
  dataDir?: string;
  /** PGlite in memory: nothing survives close(). */
  memory?: boolean;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Receives one line per request (no SQL, params or values). */
  log?: RequestLogger;
  /**
   * The Postgres session `TimeZone` of every connection (an IANA name). The
   * tests use a non-UTC zone so that a `timestamp` column where
   * `timestamptz` belongs goes red (F11); default: the server's setting.
   */
  timeZone?: string;
}

/** A running neon-local endpoint. */
export interface NeonLocal {
  /** Base URL, e.g. http://127.0.0.1:4444 */
  url: string;
  /** What to put in `neonConfig.fetchEndpoint`: `url + "/sql"`. */
  fetchEndpoint: string;
  /** A connection string for `neon()`; its credentials are placeholders that neon-local ignores. */
  connectionString: string;
  backend: "pglite" | "pg";
  /** Totals, or the counters of one scope (connection-string user name). */
  stats(scope?: string): Stats;
  /** Zeroes the stats and clears all faults. */
  reset(): void;
  /** Replaces the fault settings. */
  setFaults(faults: Faults): void;
  close(): Promise<void>;
}

/** Starts the backend and the HTTP server; resolves once both are ready. */
export async function startNeonLocal(options: NeonLocalOptions = {}): Promise<NeonLocal> {
  const backend = await openBackend(options);
  const stats = new StatsCounter();
  const faults = new FaultRegistry();
  const server = createNeonLocalServer(backend, stats, faults, options.log);
  const host = options.host ?? "127.0.0.1";

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
  } catch (err) {
    await backend.close();
    throw err;
  }

  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  return {
    url,
    fetchEndpoint: `${url}/sql`,
    connectionString: `postgresql://gatehouse:local@${urlHost}:${port}/gatehouse`,
    backend: backend.kind,
    stats: (scope) => stats.snapshot(scope),
    reset: () => {
      stats.reset();
      faults.clear();
    },
    setFaults: (f) => faults.set(f),
    close: async () => {
      // Keep-alive sockets (workerd's fetch) would otherwise hold close() open.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close();
    },
  };
}

function openBackend(options: NeonLocalOptions): Promise<Backend> {
  if (options.timeZone !== undefined && !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(options.timeZone)) {
    throw new Error("neon-local: timeZone must be an IANA zone name such as Asia/Kathmandu");
  }
  if ((options.backend ?? "pglite") === "pg") {
    if (!options.pgUrl) throw new Error("neon-local: backend pg needs pgUrl");
    return PgBackend.open(options.pgUrl, options.timeZone);
  }
  return PgliteBackend.open(options.memory ? undefined : (options.dataDir ?? ".data/pglite"), options.timeZone);
}
