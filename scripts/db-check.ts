/**
 * `npm run db:check`: fails when `src/db/schema.ts` has changes that
 * `migrations/` lacks (failure catalog F4), when `migrations/` itself is
 * inconsistent (a journal entry without its file, a file outside the journal),
 * or when the database `migrations/` actually builds differs from the one
 * schema.ts declares (a hand edit to a migration's SQL: F3, F4, F11).
 *
 * drizzle-kit generate exits 0 even on errors and writes files, so it runs on
 * a temporary copy of `migrations/` and its output is judged here: any new
 * file, any error line, or a non-zero exit fails the check. drizzle-kit only
 * reads its snapshots, so `migrations/` is also applied to an empty embedded
 * Postgres and compared, object by object, with a second one built from the
 * SQL drizzle-kit generates from schema.ts alone (scripts/lib/schema-compare.ts).
 *
 *   npm run db:check                  check the project
 *   npm run db:check -- --self-test   prove the check goes red: add a column to
 *                                     a temporary copy of schema.ts, and hand-edit
 *                                     temporary copies of migrations/ (timestamptz →
 *                                     timestamp, a partial index's WHERE dropped, a
 *                                     primary key's default dropped); expect failure each time
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { compareSchemas, databaseFromMigrations, describeSchema } from "./lib/schema-compare.js";

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

/** Runs drizzle-kit generate for `schemaPath` into `scratch/migrations`; returns its exit problem and output. */
function drizzleGenerate(scratch: string, schemaPath: string): { failed: string | null; output: string } {
  // drizzle-kit prefixes paths with "./": give it paths relative to its working directory.
  const run = spawnSync(
    process.execPath,
    [join(root, "node_modules/drizzle-kit/bin.cjs"), "generate", "--dialect", "postgresql", "--schema", relative(scratch, schemaPath), "--out", "migrations", "--name", "db_check_probe"],
    { cwd: scratch, encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] },
  );
  const failed = run.status !== 0 || run.error ? `drizzle-kit generate failed (exit ${run.status ?? run.error?.message})` : null;
  return { failed, output: `${run.stdout}\n${run.stderr}` };
}

/** Runs drizzle-kit generate against a temporary copy and reports what it would add. */
export function checkMigrations(schemaPath: string, migrationsDir: string): CheckResult {
  const problems = checkJournal(migrationsDir);
  const scratch = mkdtempSync(join(tmpdir(), "gatehouse-db-check-"));
  try {
    const out = join(scratch, "migrations");
    cpSync(migrationsDir, out, { recursive: true });
    const before = listFiles(out);
    const { failed, output } = drizzleGenerate(scratch, schemaPath);
    const added = listFiles(out).filter((f) => !before.includes(f));
    if (failed) problems.push(failed);
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

/** The schema.ts side: drizzle-kit's full SQL for schema.ts, applied to an empty database, described. */
export async function describeDeclaredSchema(schemaPath: string): Promise<string[]> {
  const scratch = mkdtempSync(join(tmpdir(), "gatehouse-db-check-"));
  try {
    const { failed, output } = drizzleGenerate(scratch, schemaPath);
    if (failed) throw new Error(`${failed}:\n${output.trim()}`);
    const db = await databaseFromMigrations(join(scratch, "migrations"));
    try {
      return await describeSchema(db);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The migrations/ side: every migration applied in journal order to an empty database, described. */
export async function describeBuiltSchema(migrationsDir: string): Promise<string[]> {
  const db = await databaseFromMigrations(migrationsDir);
  try {
    return await describeSchema(db);
  } finally {
    await db.close();
  }
}

/** Both checks: drizzle-kit's snapshots, then the databases themselves. */
export async function checkAll(schemaPath: string, migrationsDir: string): Promise<CheckResult> {
  const snapshots = checkMigrations(schemaPath, migrationsDir);
  if (!snapshots.ok) return snapshots;
  const problems = compareSchemas(await describeBuiltSchema(migrationsDir), await describeDeclaredSchema(schemaPath));
  return { ok: problems.length === 0, problems };
}

/** Hand edits to a migration's SQL that drizzle-kit's snapshot comparison cannot see. */
const HAND_EDITS = [
  { name: "timestamptz → timestamp", expect: "column sessions.expires_at", from: '"expires_at" timestamp with time zone NOT NULL', to: '"expires_at" timestamp NOT NULL' },
  {
    name: "a partial unique index loses its WHERE",
    expect: "index provider_tokens_active_user_key",
    from: `("org_id","user_id","provider") WHERE "provider_tokens"."deleted_at" IS NULL AND "provider_tokens"."token_type" = 'user';`,
    to: '("org_id","user_id","provider");',
  },
  { name: "a primary key loses its default", expect: "column users.id", from: 'CREATE TABLE "users" (\n\t"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,', to: 'CREATE TABLE "users" (\n\t"id" uuid PRIMARY KEY NOT NULL,' },
] as const;

/**
 * Proves both halves go red: a column added to a copy of schema.ts (the
 * snapshot check), and each hand edit to a copy of migrations/ (the built
 * database check; the snapshot check passes those). The schema.ts copy sits
 * next to schema.ts so its relative imports resolve.
 */
async function selfTest(): Promise<boolean> {
  let ok = true;
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
    ok &&= red;
  } finally {
    rmSync(copy, { force: true });
  }

  const declared = await describeDeclaredSchema(original);
  const clean = compareSchemas(await describeBuiltSchema(join(root, "migrations")), declared);
  if (clean.length > 0) {
    console.error(`self-test FAILED: migrations/ and schema.ts already differ:\n${clean.join("\n")}`);
    return false;
  }
  for (const edit of HAND_EDITS) {
    const scratch = mkdtempSync(join(tmpdir(), "gatehouse-db-check-"));
    try {
      cpSync(join(root, "migrations"), scratch, { recursive: true });
      const file = join(scratch, "0000_init.sql");
      const sql = readFileSync(file, "utf8");
      if (!sql.includes(edit.from)) throw new Error(`self-test could not find the SQL to edit for "${edit.name}"`);
      writeFileSync(file, sql.replace(edit.from, edit.to));
      const problems = compareSchemas(await describeBuiltSchema(scratch), declared);
      const red = problems.some((p) => p.includes(`migrations/ builds   ${edit.expect}`));
      if (!red) for (const p of problems) console.error(`self-test: ${p}`);
      console.log(red ? `self-test: db:check goes red when a migration is hand-edited (${edit.name}) ✓` : `self-test FAILED: db:check missed a hand edit (${edit.name})`);
      ok &&= red;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return ok;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  if (process.argv.includes("--self-test")) {
    process.exit((await selfTest()) ? 0 : 1);
  }
  const result = await checkAll(join(root, "src/db/schema.ts"), join(root, "migrations"));
  if (result.ok) {
    console.log("db:check: migrations/ matches src/db/schema.ts (drizzle snapshots, and the database each builds)");
  } else {
    for (const p of result.problems) console.error(`db:check: ${p}`);
    process.exit(1);
  }
}
