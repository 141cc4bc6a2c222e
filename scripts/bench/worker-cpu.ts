/**
 * Worker size, startup CPU and per-request CPU, measured side by side for
 * gatehouse's deploy bundle, a plain baseline (Hono + jose + drizzle + the
 * Neon driver, `baseline-worker.ts`) and an empty worker, in one run of the
 * same harness (`npm run bench`, section "worker").
 *
 * How CPU is measured: each worker runs alone in its own workerd process
 * (Miniflare, the runtime `wrangler dev` uses). The CPU the process spends is
 * read from the kernel (`/proc/<pid>/task/<tid>/schedstat`, nanoseconds, all
 * threads) before and after an action, so the figure is CPU time, not wall
 * time, and does not depend on what else the machine is doing.
 * - startup: a tiny wrapper worker dynamic-imports the bundle on its first
 *   request; that request's CPU minus a warm request's CPU is what parsing,
 *   compiling and evaluating the bundle costs. Median of `--startup-runs`
 *   fresh processes.
 * - per request: N requests one after the other; (CPU / N) minus the empty
 *   worker's CPU per request. Median of 5 rounds.
 * Linux only (it reads /proc). Loopback only: Miniflare serves on 127.0.0.1.
 */
import { readdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

export interface BundleFiles {
  /** Module name → source; the first is the entry. */
  modules: { name: string; contents: string }[];
}

export interface WorkerCpuOptions {
  bindings: Record<string, string>;
  compatibilityDate: string;
  compatibilityFlags: string[];
}

/** gzip -9 size of a bundle's modules, in bytes (what Workers' size limit counts). */
export function gzipBytes(bundle: BundleFiles): { raw: number; gzip: number } {
  let raw = 0;
  let gzip = 0;
  for (const m of bundle.modules) {
    const bytes = Buffer.from(m.contents);
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw, gzip };
}

/** CPU nanoseconds spent so far by every thread of `pid`. */
function processCpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return total;
}

/** The workerd processes that are children of this Node process. */
function workerdChildren(): Set<number> {
  const out = new Set<number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === process.pid && stat.includes("(workerd)")) out.add(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/** Starts one workerd process for `options` and returns it with its pid. */
async function start(worker: WorkerOptions): Promise<{ mf: Miniflare; pid: number; url: URL }> {
  const before = workerdChildren();
  // Miniflare 5 takes its v4 option shape through this converter (what Wrangler 4 still speaks).
  // gatehouse logs one JSON line per request: the loops below would print thousands. The isolate
  // still writes them (their CPU is measured); only their printing here is skipped.
  const handleStructuredLogs = (log: { message: string }) => {
    if (!log.message.includes('"event":"request"')) console.log(log.message);
  };
  const mf = new Miniflare(convertV4MiniflareOptions({ host: "127.0.0.1", port: 0, handleStructuredLogs, ...worker } as unknown as Parameters<typeof convertV4MiniflareOptions>[0]));
  const url = await mf.ready;
  const pid = [...workerdChildren()].find((p) => !before.has(p));
  if (pid === undefined) {
    await mf.dispose();
    throw new Error("bench: could not find the workerd process Miniflare started");
  }
  return { mf, pid, url };
}

async function cpuOf(pid: number, action: () => Promise<void>): Promise<number> {
  const before = processCpuNs(pid);
  await action();
  return processCpuNs(pid) - before;
}

async function get(url: URL | string, init?: RequestInit): Promise<void> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
}

const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const WRAPPER = `
let mod;
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const call = async (path) => {
      const res = await mod.default.fetch(new Request(new URL(path, url)), env, ctx);
      await res.arrayBuffer();
      return new Response(String(res.status));
    };
    // The import and the worker's first request: whatever the worker defers to it counts as startup.
    if (url.pathname === "/__import") {
      mod = await import("./bundle/__ENTRY__");
      return call(url.searchParams.get("then"));
    }
    if (url.pathname === "/__call") return call(url.searchParams.get("path"));
    if (url.pathname === "/__noop") return new Response("noop");
    if (url.pathname === "/__loop") {
      // Calls the worker's own fetch n times inside this isolate: no HTTP, no Miniflare routing.
      const { path, cookies, n, stubKv } = await request.json();
      // stubKv: KV answers "absent" inside the isolate, as the issue's own measurement stubbed it.
      const useEnv = stubKv ? { ...env, AUTH_KV: { get: async () => null, put: async () => {}, delete: async () => {} } } : env;
      let last = 0;
      for (let i = 0; i < n; i++) {
        const res = await mod.default.fetch(new Request(new URL(path, request.url), { headers: { cookie: cookies[i % cookies.length] } }), useEnv, ctx);
        await res.arrayBuffer();
        last = res.status;
      }
      return new Response(String(last));
    }
    return new Response("unknown", { status: 404 });
  },
};`;

type WorkerOptions = Record<string, unknown>;

function miniflareOptions(bundle: BundleFiles, opts: WorkerCpuOptions, wrapped: boolean): WorkerOptions {
  const entry = bundle.modules[0]!.name;
  const modules = bundle.modules.map((m) => ({ type: "ESModule" as const, path: wrapped ? `bundle/${m.name}` : m.name, contents: m.contents }));
  return {
    modules: wrapped ? [{ type: "ESModule", path: "wrapper.mjs", contents: WRAPPER.replace("__ENTRY__", entry) }, ...modules] : modules,
    modulesRoot: "/",
    compatibilityDate: opts.compatibilityDate,
    compatibilityFlags: opts.compatibilityFlags,
    bindings: opts.bindings,
    kvNamespaces: ["AUTH_KV"],
    ratelimits: {
      AUTH_RATE_LIMITER: { namespace_id: "1001", simple: { limit: 1_000_000, period: 60 } },
      AUTH_REFRESH_RATE_LIMITER: { namespace_id: "1002", simple: { limit: 1_000_000, period: 60 } },
    },
  };
}

/**
 * CPU milliseconds that starting the worker costs: importing the bundle
 * (parse, compile, evaluate the top level) plus its first request to
 * `firstPath`, minus the same request warm. Median over `runs` fresh
 * workerd processes.
 */
export async function startupCpuMs(bundle: BundleFiles, opts: WorkerCpuOptions, runs: number, firstPath = "/"): Promise<number> {
  const samples: number[] = [];
  const then = encodeURIComponent(firstPath);
  for (let i = 0; i < runs; i++) {
    const { mf, pid, url } = await start(miniflareOptions(bundle, opts, true));
    try {
      // Two no-op requests first: the first request of a process has costs of its own.
      await get(new URL("/__noop", url));
      await get(new URL("/__noop", url));
      const cold = await cpuOf(pid, () => get(new URL(`/__import?then=${then}`, url)));
      await get(new URL(`/__call?path=${then}`, url));
      const warm = await cpuOf(pid, () => get(new URL(`/__call?path=${then}`, url)));
      samples.push((cold - warm) / 1e6);
    } finally {
      await mf.dispose();
    }
  }
  return median(samples);
}

/** One worker to measure with {@link fetchCpuUs}. */
export interface FetchTarget {
  bundle: BundleFiles;
  opts: WorkerCpuOptions;
  path: string;
  /** Cookie headers, cycled through call by call; or, per round (-1 = warm-up), a fresh list. */
  cookies: string[] | ((round: number) => string[]);
  /** The answer the last call must have given. */
  expectStatus?: number;
  /** Replace AUTH_KV with an in-isolate stub that finds nothing (no KV cost at all). */
  stubKv?: boolean;
}

/**
 * CPU microseconds each target's worker spends per call of its `fetch`,
 * called `calls` times in a loop inside the isolate (so HTTP and
 * Miniflare's routing are not counted), each loop minus an empty loop.
 * The targets run at the same time in their own processes and their
 * rounds alternate, so a change in machine load affects them alike.
 * The least of `rounds` per target: CPU time is not wall time, but a busy
 * machine still adds cache misses; the least-disturbed round is the most
 * repeatable estimate of what the code itself costs.
 */
export const FETCH_CPU_ROUNDS = 15;

export async function fetchCpuUs(targets: FetchTarget[], calls: number, rounds = FETCH_CPU_ROUNDS): Promise<number[]> {
  const started: { mf: Miniflare; pid: number; url: URL; target: FetchTarget }[] = [];
  const loop = async (t: (typeof started)[number], n: number, round: number): Promise<number> => {
    const cookies = typeof t.target.cookies === "function" ? t.target.cookies(round) : t.target.cookies;
    const res = await fetch(new URL("/__loop", t.url), { method: "POST", body: JSON.stringify({ path: t.target.path, cookies, n, stubKv: t.target.stubKv === true }) });
    return Number(await res.text());
  };
  try {
    for (const target of targets) started.push({ ...(await start(miniflareOptions(target.bundle, target.opts, true))), target });
    for (const t of started) {
      await get(new URL(`/__import?then=${encodeURIComponent(t.target.path)}`, t.url));
      const status = await loop(t, 100, -1); // warm-up: JIT, key import, caches
      if (t.target.expectStatus !== undefined && status !== t.target.expectStatus) throw new Error(`bench: ${t.target.path} answered ${status}`);
    }
    const samples = started.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      for (const [i, t] of started.entries()) {
        // The empty loop posts the same body, so reading it is subtracted too.
        const empty = await cpuOf(t.pid, async () => void (await loop(t, 0, r)));
        const full = await cpuOf(t.pid, async () => void (await loop(t, calls, r)));
        samples[i]!.push((full - empty) / calls / 1e3);
      }
    }
    return samples.map((s) => Math.min(...s));
  } finally {
    for (const t of started) await t.mf.dispose();
  }
}
