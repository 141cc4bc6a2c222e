import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { parseConfig } from "../src/config.ts";
import { generateSigningJwk } from "../src/tokens/keys.ts";
import { signSessionJwt } from "../src/tokens/session-jwt.ts";
const out = "/tmp/prof-dist";
const r = spawnSync(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--outdir", out, "--minify=false"], { encoding: "utf8" });
if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
const bundle = readFileSync(`${out}/index.js`, "utf8");
const key = await generateSigningJwk();
const bindings = { GATEHOUSE_DEVELOPMENT: "true", AUTH_URL: "http://localhost:8787", DATABASE_URL: "postgres://a@127.0.0.1:9/b", AUTH_SIGNING_KEYS: JSON.stringify([key]), TOKEN_ENCRYPTION_KEY: "1:QW3UjBuIF1TXG0hMjgyMFcBRzM10bIwkP0VEWnRaLGA" };
const cfg = parseConfig(bindings); if (!cfg.ok) throw new Error("cfg");
const jwt = await signSessionJwt(cfg.config, { userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), profile: { email: "a@b.c", emailVerified: true, name: "N", image: null }, sessionExpiresAt: new Date(Date.now() + 86400e3), now: new Date() });
const WRAPPER = `let mod; export default { async fetch(request, env, ctx) { const url = new URL(request.url); mod ??= await import("./bundle/index.js");
 const n = Number(url.searchParams.get("n")); let s = 0; for (let i = 0; i < n; i++) { const res = await mod.default.fetch(new Request(new URL("/auth/session", url), { headers: { cookie: "__Host-gh_session=${jwt}" } }), env, ctx); await res.arrayBuffer(); s = res.status; } return new Response(String(s)); } };`;
const mf = new Miniflare(convertV4MiniflareOptions({ host: "127.0.0.1", port: 0, inspectorPort: 9340,
  modules: [{ type: "ESModule", path: "wrapper.mjs", contents: WRAPPER }, { type: "ESModule", path: "bundle/index.js", contents: bundle }], modulesRoot: "/",
  compatibilityDate: "2026-04-20", compatibilityFlags: ["nodejs_compat"], kvNamespaces: ["AUTH_KV"], bindings,
  ratelimits: { AUTH_RATE_LIMITER: { namespace_id: "1", simple: { limit: 100, period: 60 } }, AUTH_REFRESH_RATE_LIMITER: { namespace_id: "2", simple: { limit: 100, period: 60 } } } } as never));
const url = await mf.ready;
console.log("warm", await (await fetch(new URL("/?n=300", url))).text());
const list = (await (await fetch("http://127.0.0.1:9340/json/list")).json()) as { title: string; webSocketDebuggerUrl: string }[];
const target = list.find((t) => !String(t.title).startsWith("core:")) ?? list[0]!;
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((res) => ws.addEventListener("open", res));
let id = 0; const pending = new Map<number, (v: unknown) => void>();
ws.addEventListener("message", (e) => { const m = JSON.parse(String(e.data)); if (m.id && pending.has(m.id)) pending.get(m.id)!(m.result); });
const send = (method: string, params: object = {}) => new Promise<any>((res) => { const i = ++id; pending.set(i, res); ws.send(JSON.stringify({ id: i, method, params })); });
await send("Profiler.enable"); await send("Profiler.setSamplingInterval", { interval: 25 }); await send("Profiler.start");
console.log("run", await (await fetch(new URL("/?n=3000", url))).text());
const { profile } = await send("Profiler.stop");
const lines = bundle.split("\n"); const marker: string[] = []; let cur = "?";
for (const l of lines) { const m = /^\/\/ (\S+\.(m?js|ts|tsx|json))$/.exec(l); if (m) cur = m[1]!; marker.push(cur); }
const self = new Map<number, number>(); const byId = new Map<number, any>(profile.nodes.map((n: any) => [n.id, n]));
profile.samples.forEach((s: number, i: number) => self.set(s, (self.get(s) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const agg = new Map<string, number>(); const fn = new Map<string, number>();
for (const [nid, t] of self) { const n = byId.get(nid); const cf = n.callFrame; const inB = cf.url.includes("bundle/index.js"); const key = inB ? marker[cf.lineNumber] ?? "?" : (cf.url || "(native) " + cf.functionName);
  agg.set(key, (agg.get(key) ?? 0) + t); const fk = (inB ? (marker[cf.lineNumber] ?? "?").replace(/.*node_modules\//, "") + ":" : "") + (cf.functionName || "(anon)") + (inB ? "@" + cf.lineNumber : ""); fn.set(fk, (fn.get(fk) ?? 0) + t); }
const total = [...agg.values()].reduce((a, b) => a + b, 0);
console.log("total ms", (total / 1000).toFixed(1), "per call µs", (total / 3000).toFixed(1));
for (const [k, v] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 22)) console.log((v / 3000).toFixed(1).padStart(7), k);
console.log("--- functions");
for (const [k, v] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log((v / 3000).toFixed(1).padStart(7), k);
ws.close(); await mf.dispose();
