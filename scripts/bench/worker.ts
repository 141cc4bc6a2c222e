/**
 * `npm run bench`, section "worker": bundle size, startup CPU and session
 * check CPU of gatehouse next to a plain baseline (baseline/worker.ts) and an
 * empty worker, all bundled with gatehouse's settings (wrangler's esbuild,
 * minified, no kept names) and run in workerd. Method: worker-cpu.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { parseConfig } from "../../src/config.ts";
import { SESSION_COOKIE } from "../../src/lib/cookies.ts";
import { generateSigningJwk, publicJwkOf } from "../../src/tokens/keys.ts";
import { signSessionJwt } from "../../src/tokens/session-jwt.ts";
import { FETCH_CPU_ROUNDS, fetchCpuUs, gzipBytes, startupCpuMs, type BundleFiles, type WorkerCpuOptions } from "./worker-cpu.ts";

const root = resolve(import.meta.dirname, "../..");

export interface WorkerRow {
  worker: string;
  gzipKiB: number;
  rawKiB: number;
  startupCpuMs: number;
  /** CPU µs per session check over the empty worker's per-request CPU; null where it does not apply. */
  sessionCpuUs: number | null;
  note?: string;
}

/** Bundles the worker exactly as `wrangler deploy` would. */
function buildGatehouse(): BundleFiles {
  const out = mkdtempSync(join(tmpdir(), "gatehouse-bench-"));
  try {
    const run = spawnSync(process.execPath, [join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", out], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    if (run.status !== 0) throw new Error(`bench: wrangler build failed\n${run.stderr}`);
    return { modules: [{ name: "index.js", contents: readFileSync(join(out, "index.js"), "utf8") }] };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The baseline, bundled with the settings wrangler uses for gatehouse (minify on, keep_names off). */
async function buildBaseline(): Promise<BundleFiles> {
  const result = await build({
    entryPoints: [join(import.meta.dirname, "baseline/worker.ts")],
    bundle: true,
    format: "esm",
    minify: true,
    keepNames: false,
    target: "es2024",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    write: false,
    logLevel: "silent",
  });
  return { modules: [{ name: "index.js", contents: result.outputFiles[0]!.text }] };
}

const EMPTY: BundleFiles = { modules: [{ name: "index.js", contents: 'export default { fetch() { return new Response("ok"); } };' }] };

function wranglerCompat(): Pick<WorkerCpuOptions, "compatibilityDate" | "compatibilityFlags"> {
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1];
  if (!date) throw new Error("bench: no compatibility_date in wrangler.toml");
  return { compatibilityDate: date, compatibilityFlags: [...(flags ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1]!) };
}

const kib = (n: number) => Math.round((n / 1024) * 10) / 10;

/**
 * Measures the three workers. `startupRuns` fresh processes per startup
 * figure; `requests` session checks per round.
 */
export async function workerSection(
  startupRuns: number,
  requests: number,
  progress: (line: string) => void,
  compare?: string,
): Promise<WorkerRow[]> {
  const compat = wranglerCompat();
  const signingKey = await generateSigningJwk();
  const authUrl = "http://localhost:8787";
  const bindings = {
    AUTH_URL: authUrl,
    GATEHOUSE_DEVELOPMENT: "true",
    DATABASE_URL: "postgres://bench@127.0.0.1:9/bench",
    AUTH_SIGNING_KEYS: JSON.stringify([signingKey]),
    TOKEN_ENCRYPTION_KEY: `1:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`,
  };
  const parsed = parseConfig(bindings);
  if (!parsed.ok) throw new Error(`bench: configuration invalid: ${parsed.problems.map((p) => p.variable).join(", ")}`);
  const now = new Date();
  const sessionJwt = (sessionId: string) =>
    signSessionJwt(parsed.config, {
      userId: crypto.randomUUID(),
      sessionId,
      profile: { email: "bench@example.com", emailVerified: true, name: "Bench", image: null },
      sessionExpiresAt: new Date(now.getTime() + 86400_000),
      now,
    });
  const sameJwt = await sessionJwt(crypto.randomUUID());
  // A new session each call: never seen by the worker before, in any round.
  const perRound = async () => Promise.all(Array.from({ length: requests }, async () => `${SESSION_COOKIE}=${await sessionJwt(crypto.randomUUID())}`));
  const freshCookies = await Promise.all(Array.from({ length: FETCH_CPU_ROUNDS + 1 }, perRound));

  const gatehouse = buildGatehouse();
  // `--compare dist.js`: another build of gatehouse (e.g. an older commit's `npm run build` output), measured alike.
  const other: BundleFiles | null = compare ? { modules: [{ name: "index.js", contents: readFileSync(compare, "utf8") }] } : null;
  const baseline = await buildBaseline();
  const gh: WorkerCpuOptions = { ...compat, bindings };
  const base: WorkerCpuOptions = { ...compat, bindings: { PUBLIC_JWK: JSON.stringify(publicJwkOf(signingKey)), ISSUER: authUrl, DATABASE_URL: bindings.DATABASE_URL } };
  const empty: WorkerCpuOptions = { ...compat, bindings: {} };
  progress("worker: startup CPU (fresh processes)");
  // First request: a session check without a cookie (401), the cheapest real answer each worker gives.
  const emptyStartup = await startupCpuMs(EMPTY, empty, startupRuns, "/");
  const baseStartup = await startupCpuMs(baseline, base, startupRuns, "/session");
  const ghStartup = await startupCpuMs(gatehouse, gh, startupRuns, "/auth/session");
  const otherStartup = other ? await startupCpuMs(other, gh, startupRuns, "/auth/session") : 0;

  progress("worker: session check CPU (interleaved)");
  const sessionCookie = (jwt: string) => `${SESSION_COOKIE}=${jwt}`;
  const [emptyReq, baseReq, ghHit, ghMiss, ghMissStub, otherReq] = (await fetchCpuUs(
    [
      { bundle: EMPTY, opts: empty, path: "/", cookies: [""] },
      { bundle: baseline, opts: base, path: "/session", cookies: [`session=${sameJwt}`], expectStatus: 200 },
      { bundle: gatehouse, opts: gh, path: "/auth/session", cookies: [sessionCookie(sameJwt)], expectStatus: 200 },
      { bundle: gatehouse, opts: gh, path: "/auth/session", cookies: (round: number) => freshCookies[round + 1]!, expectStatus: 200 },
      { bundle: gatehouse, opts: gh, path: "/auth/session", cookies: (round: number) => freshCookies[round + 1]!, expectStatus: 200, stubKv: true },
      ...(other ? [{ bundle: other, opts: gh, path: "/auth/session", cookies: (round: number) => freshCookies[round + 1]!, expectStatus: 200 }] : []),
    ],
    requests,
  )) as [number, number, number, number, number, number | undefined];

  const row = (worker: string, b: BundleFiles, startup: number, perRequest: number | null, note?: string): WorkerRow => {
    const size = gzipBytes(b);
    return {
      worker,
      gzipKiB: kib(size.gzip),
      rawKiB: kib(size.raw),
      startupCpuMs: Math.round((startup - emptyStartup) * 10) / 10,
      sessionCpuUs: perRequest === null ? null : Math.round(perRequest - emptyReq),
      ...(note ? { note } : {}),
    };
  };
  return [
    row("empty worker", EMPTY, emptyStartup, null, `${Math.round(emptyReq)} µs CPU per fetch call (subtracted below)`),
    row("plain Hono + jose + drizzle + Neon", baseline, baseStartup, baseReq),
    row("gatehouse, session check, same session again (< 30 s)", gatehouse, ghStartup, ghHit),
    row("gatehouse, session check, a new session each call (local KV read)", gatehouse, ghStartup, ghMiss),
    row("gatehouse, session check, a new session each call, KV stubbed", gatehouse, ghStartup, ghMissStub),
    ...(other && otherReq !== undefined ? [row(`compared build (${compare})`, other, otherStartup, otherReq)] : []),
  ];
}
