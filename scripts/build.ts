/**
 * `npm run build`: bundles the worker exactly as `wrangler deploy` would
 * (`--dry-run --outdir dist`) and prints its raw and gzip size, the figure
 * that matters against Workers' script size limits.
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
console.log(`worker bundle: ${kib(raw)} raw, ${kib(gzip)} gzip (Workers free plan limit: 3 MiB gzip)`);
