/**
 * `npm run db:check`: fails when `src/db/schema.ts` has changes that
 * `migrations/` lacks (failure catalog F4), or when `migrations/` itself is
 * inconsistent (a journal entry without its file, a file outside the journal).
 *
 * drizzle-kit generate exits 0 even on errors and writes files, so it runs on
 * a temporary copy of `migrations/` and its output is judged here: any new
 * file, any error line, or a non-zero exit fails the check.
 *
 *   npm run db:check                  check the project
 *   npm run db:check -- --self-test   prove the check goes red: add a column to
 *                                     a temporary copy of schema.ts and expect failure
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");

export interface CheckResult {
  ok: boolean;
  problems: string[];
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path).map((p) => join(entry.name, p)));
    else out.push(entry.name);
  }
  return out.sort();
}

/** Journal and files must agree one to one. */
function checkJournal(migrationsDir: string): string[] {
  const problems: string[] = [];
  const journalPath = join(migrationsDir, "meta", "_journal.json");
  if (!existsSync(journalPath)) return ["migrations/meta/_journal.json is missing"];
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string; when: number }[] };
  const sqlFiles = readdirSync(migrationsDir).filter((f) => f.endsWith(".sql"));
  for (const entry of journal.entries) {
    if (!sqlFiles.includes(`${entry.tag}.sql`)) problems.push(`journal lists ${entry.tag} but ${entry.tag}.sql is missing`);
  }
  for (const file of sqlFiles) {
    if (!journal.entries.some((e) => `${e.tag}.sql` === file)) problems.push(`${file} is not in the journal: it would never be applied`);
  }
  const whens = journal.entries.map((e) => e.when);
  if (whens.some((w, i) => i > 0 && w <= whens[i - 1]!)) problems.push("journal timestamps are not increasing: drizzle would skip a migration");
  return problems;
}

/** Runs drizzle-kit generate against a temporary copy and reports what it would add. */
export function checkMigrations(schemaPath: string, migrationsDir: string): CheckResult {
  const problems = checkJournal(migrationsDir);
  const scratch = mkdtempSync(join(tmpdir(), "gatehouse-db-check-"));
  try {
    // drizzle-kit prefixes paths with "./": give it paths relative to its working directory.
    const out = join(scratch, "migrations");
    cpSync(migrationsDir, out, { recursive: true });
    const before = listFiles(out);
    const run = spawnSync(
      process.execPath,
      [join(root, "node_modules/drizzle-kit/bin.cjs"), "generate", "--dialect", "postgresql", "--schema", relative(scratch, schemaPath), "--out", "migrations", "--name", "db_check_probe"],
      { cwd: scratch, encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] },
    );
    const output = `${run.stdout}\n${run.stderr}`;
    const added = listFiles(out).filter((f) => !before.includes(f));
    if (run.status !== 0 || run.error) problems.push(`drizzle-kit generate failed (exit ${run.status ?? run.error?.message})`);
    if (/error|Error:/.test(output) && !/No schema changes/.test(output)) problems.push(`drizzle-kit reported an error:\n${output.trim()}`);
    if (added.length > 0) {
      const sql = added.filter((f) => f.endsWith(".sql")).map((f) => readFileSync(join(out, f), "utf8")).join("\n");
      problems.push(`schema.ts has changes that migrations/ lacks; run \`npm run db:generate\`. Pending SQL:\n${sql.trim()}`);
    }
    if (added.length === 0 && !/No schema changes/.test(output) && problems.length === 0) {
      problems.push(`drizzle-kit did not confirm "No schema changes":\n${output.trim()}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { ok: problems.length === 0, problems };
}

/**
 * Adds a column to a copy of schema.ts and expects `checkMigrations` to fail.
 * The copy sits next to schema.ts so its relative imports resolve.
 */
function selfTest(): boolean {
  const original = join(root, "src/db/schema.ts");
  const copy = join(root, `src/db/schema.db-check-${process.pid}.ts`);
  try {
    const schema = readFileSync(original, "utf8");
    const mutated = schema.replace(
      'name: text("name"),\n    image: text("image"),',
      'name: text("name"),\n    image: text("image"),\n    nickname: text("nickname"),',
    );
    if (mutated === schema) throw new Error("self-test could not find the users columns to mutate");
    writeFileSync(copy, mutated);
    const result = checkMigrations(copy, join(root, "migrations"));
    const red = !result.ok && result.problems.some((p) => p.includes('"nickname"'));
    if (!red) for (const p of result.problems) console.error(`self-test: ${p}`);
    console.log(red ? "self-test: db:check goes red when a column is added without a migration ✓" : "self-test FAILED: db:check did not report the new column");
    return red;
  } finally {
    rmSync(copy, { force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  if (process.argv.includes("--self-test")) {
    process.exit(selfTest() ? 0 : 1);
  }
  const result = checkMigrations(join(root, "src/db/schema.ts"), join(root, "migrations"));
  if (result.ok) {
    console.log("db:check: migrations/ matches src/db/schema.ts");
  } else {
    for (const p of result.problems) console.error(`db:check: ${p}`);
    process.exit(1);
  }
}
