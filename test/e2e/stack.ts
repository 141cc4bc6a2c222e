/**
 * Starts the whole local stack the way a developer does (`scripts/dev.ts`),
 * on free ports with a throwaway data directory, and waits until the
 * worker's /health, the SPA and the API answer. Stopping sends SIGINT (what
 * Ctrl-C sends) to the stack's own process group and waits for it to exit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export interface StackUrls {
  authUrl: string;
  spaUrl: string;
  apiUrl: string;
  /** The example MCP server's endpoint (examples/mcp), a resource in ALLOWED_AUDIENCES. */
  mcpUrl: string;
  oidcUrl: string;
  /** The example web app (examples/webapp), an OAuth client on another site (127.0.0.1). */
  webappUrl: string;
  /** The mail catcher's web UI and REST API (maildev: GET /api/email). */
  mailUrl: string;
}

export interface StackOptions {
  /** Real Postgres behind neon-local instead of PGlite (passed to dev.ts as GATEHOUSE_PG_URL). */
  pgUrl?: string;
  /** ADMIN_USER_IDS for the worker (passed to dev.ts as GATEHOUSE_ADMIN_USER_IDS). */
  adminUserIds?: string;
}

/**
 * The operator of the browser tests: ADMIN_USER_IDS of the shared stack.
 * test/e2e/admin.e2e.ts creates this user (linked to the local provider's
 * `operator-e2e`) before signing in as them.
 */
export const E2E_OPERATOR_ID = "0e2e0000-0000-4000-8000-00000000ad01";

export interface Stack extends StackUrls {
  /** neon-local's base URL (GET /__stats counts database round trips; npm run bench reads it). */
  neonUrl: string;
  stop(): Promise<void>;
}

const root = resolve(import.meta.dirname, "../..");
const READY_TIMEOUT_MS = 60_000;

/**
 * Ports are picked below Linux's ephemeral range (32768–60999 by default),
 * where the OS never hands out a port on its own: a port that was free
 * here stays free until the stack binds it, even while workerd, Chromium
 * and other test runs open connections (an ephemeral pick could be taken
 * by any outgoing connection in between: EADDRINUSE, a failed run).
 */
const PORT_RANGE = { from: 20_000, to: 32_000 };
const picked = new Set<number>();

/** Whether `port` can be bound on 127.0.0.1 right now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

/** A free port outside the ephemeral range, never the same twice in this process. */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (picked.has(port)) continue;
    picked.add(port);
    if (await canBind(port)) return port;
  }
  throw new Error("no free port found for the e2e stack");
}

async function waitUntilOk(url: string, child: ChildProcess, output: () => string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the stack exited (${child.exitCode}) before ${url} was ready:\n${output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250)); // polling interval of a bounded wait, not a sleep in a test
  }
  throw new Error(`${url} was not ready within ${READY_TIMEOUT_MS / 1000}s:\n${output()}`);
}

/**
 * @example
 * const stack = await startStack();
 * // … stack.spaUrl …
 * await stack.stop();
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const [worker, oidc, neon, spa, api, inspector, webapp, mailSmtp, mailWeb, mcp] = await Promise.all(Array.from({ length: 10 }, freePort));
  const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-e2e-"));
  let log = "";
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "scripts/dev.ts")], {
    cwd: root,
    detached: true, // its own process group, so stop() reaches wrangler and workerd too
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_PORT: String(worker),
      GATEHOUSE_OIDC_PORT: String(oidc),
      GATEHOUSE_NEON_PORT: String(neon),
      GATEHOUSE_SPA_PORT: String(spa),
      GATEHOUSE_API_PORT: String(api),
      GATEHOUSE_MCP_PORT: String(mcp),
      GATEHOUSE_INSPECTOR_PORT: String(inspector),
      GATEHOUSE_WEBAPP_PORT: String(webapp),
      GATEHOUSE_MAIL_SMTP_PORT: String(mailSmtp),
      GATEHOUSE_MAIL_WEB_PORT: String(mailWeb),
      WRANGLER_SEND_METRICS: "false",
      // Never UTC (F11): the stack's Node processes and workerd inherit it.
      TZ: "America/St_Johns",
      ...(options.pgUrl ? { GATEHOUSE_PG_URL: options.pgUrl } : {}),
      ...(options.adminUserIds ? { GATEHOUSE_ADMIN_USER_IDS: options.adminUserIds } : {}),
    },
  });
  child.stdout?.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (log += d.toString()));

  const urls: StackUrls = {
    authUrl: `http://localhost:${worker}`,
    spaUrl: `http://localhost:${spa}`,
    apiUrl: `http://localhost:${api}`,
    mcpUrl: `http://localhost:${mcp}/mcp`,
    oidcUrl: `http://localhost:${oidc}`,
    webappUrl: `http://127.0.0.1:${webapp}`,
    mailUrl: `http://127.0.0.1:${mailWeb}`,
  };
  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise((r) => child.once("exit", r));
      process.kill(-child.pid, "SIGINT");
      const forced = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(forced);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    await waitUntilOk(`http://127.0.0.1:${worker}/health`, child, () => log, deadline);
    await waitUntilOk(`http://127.0.0.1:${spa}/config.json`, child, () => log, deadline);
    await waitUntilOk(`http://127.0.0.1:${api}/health`, child, () => log, deadline);
    await waitUntilOk(`http://127.0.0.1:${mcp}/health`, child, () => log, deadline);
    await waitUntilOk(`http://127.0.0.1:${webapp}/health`, child, () => log, deadline);
  } catch (error) {
    await stop();
    throw error;
  }
  return { ...urls, neonUrl: `http://127.0.0.1:${neon}`, stop };
}
