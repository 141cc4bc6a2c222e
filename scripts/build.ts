/**
 * `npm run build`: bundles the worker exactly as `wrangler deploy` would
 * (`--dry-run --outdir dist`) and prints its raw and gzip size, the figure
 * that matters against Workers' script size limits. Fails when the gzip
 * size is over the budget in package.json (`config.bundleBudgetGzipKiB`):
 * raising it is a reviewed change with its reason (docs/benchmarks.md).
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

const root = resolve(import.meta.dirname, "..");
const dist = join(root, "dist");

const run = spawnSync(process.execPath, [join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", dist], {
  cwd: root,
  stdio: "inherit",
});
if (run.status !== 0) process.exit(run.status ?? 1);

let raw = 0;
let gzip = 0;
for (const file of readdirSync(dist)) {
  const path = join(dist, file);
  if (!statSync(path).isFile() || file.endsWith(".map")) continue;
  const bytes = readFileSync(path);
  raw += bytes.length;
  gzip += gzipSync(bytes, { level: 9 }).length;
}
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const budgetKiB = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { config?: { bundleBudgetGzipKiB?: unknown } }).config?.bundleBudgetGzipKiB;
if (typeof budgetKiB !== "number") {
  console.error("build: package.json has no config.bundleBudgetGzipKiB");
  process.exit(1);
}
console.log(`worker bundle: ${kib(raw)} raw, ${kib(gzip)} gzip; budget ${budgetKiB.toFixed(1)} KiB gzip (Workers free plan limit: 3 MiB gzip)`);
if (gzip > budgetKiB * 1024) {
  console.error(`build: the worker is ${kib(gzip - budgetKiB * 1024)} over its gzip budget. Make it smaller, or raise config.bundleBudgetGzipKiB in package.json with the reason in docs/benchmarks.md.`);
  process.exit(1);
}
