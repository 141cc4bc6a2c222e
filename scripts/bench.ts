/**
 * `npm run bench`: gatehouse's speed on the real local stack. Not a test:
 * nothing here passes or fails on a number (house rule: speed is measured
 * in benchmarks, never in timed tests). See docs/benchmarks.md.
 *
 *   npm run bench
 *   npm run bench -- --pg postgres://bench@127.0.0.1:55432/bench   (real Postgres behind neon-local)
 *   npm run bench -- --requests 300 --warmup 30 --signins 50 --concurrency 1,8 --out test-results/bench.json
 *   npm run bench -- --only refresh   (scenarios whose name contains the text)
 *   npm run bench -- --only worker    (only the worker section: size, startup and session-check CPU)
 *   npm run bench -- --skip-worker    (only the stack scenarios)
 *   npm run bench -- --only worker --compare old/dist/index.js   (another build measured alike)
 *
 * First the worker section (scripts/bench/worker.ts): bundle size, startup
 * CPU and session-check CPU next to a plain Hono + jose + drizzle + Neon
 * baseline and an empty worker, each in its own workerd process.
 *
 * Starts the stack exactly as `npm run test:e2e` does (scripts/dev.ts on free
 * ports, throwaway data dir), signs in for real through the local OpenID
 * provider, runs every scenario at each concurrency, and reads neon-local's
 * request counter around each run to report database round trips per request.
 * Loopback only: every URL it calls is checked.
 */
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { SESSION_COOKIE } from "../src/lib/cookies.ts";
import { startStack, type Stack } from "../test/e2e/stack.ts";
import { assertLoopback, expectStatus, workerHeaders } from "./bench/client.ts";
import { measure, summarize } from "./bench/measure.ts";
import { readNeonStats, statsDelta, type NeonStats } from "./bench/neon-stats.ts";
import { formatTable, loadAverage, machineInfo, toRow, writeJsonReport, type Row } from "./bench/report.ts";
import { scenarios, type BenchContext, type BenchLoad, type Scenario } from "./bench/scenarios.ts";
import { signIn } from "./bench/signin.ts";
import { workerSection, type WorkerRow } from "./bench/worker.ts";

const root = resolve(import.meta.dirname, "..");

const { values: args } = parseArgs({
  options: {
    pg: { type: "string" },
    requests: { type: "string", default: "300" },
    warmup: { type: "string", default: "30" },
    signins: { type: "string", default: "50" },
    concurrency: { type: "string", default: "1,8" },
    out: { type: "string", default: "test-results/bench.json" },
    only: { type: "string" },
    "skip-worker": { type: "boolean", default: false },
    "startup-runs": { type: "string", default: "7" },
    "cpu-calls": { type: "string", default: "1000" },
    compare: { type: "string" },
  },
});

function positiveInt(name: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 100_000) throw new Error(`bench: --${name} must be an integer from ${min} to 100000`);
  return n;
}

/** `--pg` must point at Postgres on this machine: a loopback host or a Unix socket. */
function checkPgUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error("bench: --pg is not a URL (postgres://user@127.0.0.1:5432/db)");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") throw new Error("bench: --pg must be a postgres:// URL");
  const socket = parsed.searchParams.get("host");
  const host = socket ?? parsed.hostname;
  const loopback = host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host) || host.startsWith("/");
  // Never echo the URL: it may carry a password.
  if (!loopback) throw new Error("bench: --pg must name a loopback host (localhost, 127.0.0.1, ::1) or a Unix socket");
  return url;
}

/** Signs one browser in and mints an access token for the example API. */
async function benchContext(stack: Stack): Promise<BenchContext> {
  const session = await signIn(stack, `bench-main-${Date.now()}`);
  const res = await fetch(`${stack.authUrl}/auth/token`, {
    method: "POST",
    headers: workerHeaders({ origin: new URL(stack.spaUrl).origin, "content-type": "application/json", cookie: `${SESSION_COOKIE}=${session.sessionJwt}` }),
    body: JSON.stringify({ audience: stack.apiUrl }),
  });
  await expectStatus(res, 200, "POST /auth/token");
  const { access_token: accessToken } = (await res.json()) as { access_token?: unknown };
  if (typeof accessToken !== "string") throw new Error("POST /auth/token: no access_token in the answer");
  return { authUrl: stack.authUrl, spaUrl: stack.spaUrl, apiUrl: stack.apiUrl, session, accessToken };
}

/** Every scenario, or those whose name contains `--only`; none is an error. */
function selectedScenarios(): Scenario[] {
  const only = args.only?.toLowerCase();
  if (only === "worker") return [];
  const selected = scenarios().filter((s) => only === undefined || s.name.toLowerCase().includes(only));
  if (selected.length === 0) throw new Error(`bench: no scenario name contains "${args.only}"`);
  return selected;
}

async function run(stack: Stack, load: BenchLoad, selected: readonly Scenario[], signal: AbortSignal): Promise<Row[]> {
  const ctx = await benchContext(stack);
  const rows: Row[] = [];
  for (const scenario of selected) {
    for (const concurrency of load.concurrency) {
      const { requests, warmup } = scenario.shape?.(load) ?? load;
      process.stderr.write(`bench: ${scenario.name} × ${requests} at concurrency ${concurrency}\n`);
      const task = await scenario.prepare(ctx, concurrency);
      let before: NeonStats | undefined;
      const m = await measure({ requests, warmup, concurrency }, task, async () => {
        scenario.takeLegs?.(); // drop the warm-up's legs
        before = await readNeonStats(stack.neonUrl);
      }, signal);
      const db = before ? statsDelta(before, await readNeonStats(stack.neonUrl)) : null;
      if (db && db.errors > 0) throw new Error(`bench: neon-local reported ${db.errors} database errors during ${scenario.name}`);
      rows.push(toRow(scenario.name, requests, concurrency, summarize(m), db, scenario.expectedRoundTrips));
      for (const [leg, latenciesMs] of Object.entries(scenario.takeLegs?.() ?? {})) {
        rows.push(toRow(`  ↳ ${leg} leg`, latenciesMs.length, concurrency, summarize({ latenciesMs, wallMs: m.wallMs }), null, null, true));
      }
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const load: BenchLoad = {
    requests: positiveInt("requests", args.requests),
    warmup: positiveInt("warmup", args.warmup, 0),
    signIns: positiveInt("signins", args.signins),
    concurrency: args.concurrency.split(",").map((c) => positiveInt("concurrency", c.trim())),
  };
  const pgUrl = args.pg === undefined ? undefined : checkPgUrl(args.pg);
  const selected = selectedScenarios();
  const outPath = resolve(root, args.out);
  const worker = args["skip-worker"]
    ? null
    : await workerSection(positiveInt("startup-runs", args["startup-runs"]), positiveInt("cpu-calls", args["cpu-calls"]), (line) =>
        process.stderr.write(`bench: ${line}\n`),
        args.compare,
      );
  if (worker) console.log(formatWorkerTable(worker));
  if (selected.length === 0) {
    writeJsonReport(outPath, { worker }, []);
    return;
  }
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadBefore = loadAverage();
  if (loadBefore > availableParallelism() / 2) {
    process.stderr.write(`bench: the machine is busy (load average ${loadBefore} on ${availableParallelism()} CPUs); expect slower, noisier numbers\n`);
  }

  process.stderr.write(`bench: starting the local stack (${pgUrl ? "real Postgres" : "PGlite"} behind neon-local)…\n`);
  const stack = await startStack(pgUrl ? { pgUrl } : {});
  // The stack runs in its own process group, so Ctrl-C does not reach it:
  // stop sending, then stop the stack in `finally`.
  process.once("SIGINT", () => interrupted.abort(new Interrupted()));
  process.once("SIGTERM", () => interrupted.abort(new Interrupted()));
  try {
    for (const url of [stack.authUrl, stack.spaUrl, stack.apiUrl, stack.oidcUrl, stack.neonUrl]) assertLoopback(url);
    const rows = await run(stack, load, selected, interrupted.signal);
    const durationSeconds = (performance.now() - started) / 1000;
    const loadAverageNow = { before: loadBefore, after: loadAverage() };
    const info = { backend: pgUrl ? ("postgres" as const) : ("pglite" as const), startedAt, durationSeconds, ...machineInfo(), loadAverage: loadAverageNow, load };
    console.log("");
    console.log(`gatehouse bench — wrangler dev (workerd, local) + neon-local on ${info.backend}; ${info.cpus} CPUs, Node ${info.node}, load average ${loadBefore} → ${loadAverageNow.after}`);
    console.log(formatTable(rows));
    console.log(`\n${durationSeconds.toFixed(1)} s in all; JSON: ${outPath}`);
    writeJsonReport(outPath, { ...info, worker }, rows);
  } finally {
    await stack.stop();
  }
}

function formatWorkerTable(rows: readonly WorkerRow[]): string {
  const base = rows.find((r) => r.worker.startsWith("plain"))?.sessionCpuUs ?? null;
  const lines = [
    "",
    "worker — gzip -9 of the minified bundle; startup = CPU of import + first request − that request warm (median of fresh workerd processes);",
    "session check = CPU µs per fetch call over the empty worker's (least of interleaved rounds, in-isolate loop)",
    "| worker | gzip KiB | raw KiB | startup CPU ms | session check CPU µs | × baseline |",
    "|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const ratio = r.sessionCpuUs !== null && base ? (r.sessionCpuUs / base).toFixed(2) : "";
    lines.push(`| ${r.worker} | ${r.gzipKiB} | ${r.rawKiB} | ${r.startupCpuMs} | ${r.sessionCpuUs ?? r.note ?? ""} | ${ratio} |`);
  }
  return lines.join("\n");
}

class Interrupted extends Error {
  override readonly name = "Interrupted";
  constructor() {
    super("bench: interrupted; the stack was stopped");
  }
}

const interrupted = new AbortController();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(error instanceof Interrupted ? 130 : 1);
  },
);
