/**
 * Applies drizzle-kit migrations through the Neon HTTP driver, one
 * transaction per migration, writing drizzle's own bookkeeping table so that
 * drizzle-kit and drizzle's migrator agree about what has been applied.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { neon, neonConfig, type NeonQueryFunction } from "@neondatabase/serverless";

/** Where to send statements: an existing `neon()` function, or what to build one from. */
export type MigrationTarget =
  | NeonQueryFunction<false, false>
  | {
      connectionString: string;
      /**
       * Neon-protocol endpoint (e.g. neon-local's `…/sql`). In driver 1.2.0 this is
       * only configurable globally (`neonConfig.fetchEndpoint`), so it is set for the
       * duration of applyMigrations and restored afterwards.
       */
      fetchEndpoint?: string;
    };

export interface JournalEntry {
  idx: number;
  when: number;
  tag: string;
  breakpoints: boolean;
}

const BOOKKEEPING_SCHEMA = `CREATE SCHEMA IF NOT EXISTS "drizzle"`;
// Same definition as drizzle-orm's pg migrator, so either tool can take over.
const BOOKKEEPING_TABLE = `CREATE TABLE IF NOT EXISTS "drizzle"."__drizzle_migrations" (
	id SERIAL PRIMARY KEY,
	hash text NOT NULL,
	created_at bigint
)`;

/**
 * Applies every migration in `migrationsDir/meta/_journal.json` whose `when`
 * is not yet in `drizzle.__drizzle_migrations`, in journal order. Each
 * migration (its statements plus its bookkeeping row) is one transaction, so
 * it is never half-applied. Returns the tags applied, in order.
 */
export async function applyMigrations(target: MigrationTarget, migrationsDir = "migrations"): Promise<string[]> {
  if (typeof target === "function") return applyWith(target, migrationsDir);
  const previousEndpoint = neonConfig.fetchEndpoint;
  if (target.fetchEndpoint) neonConfig.fetchEndpoint = target.fetchEndpoint;
  try {
    return await applyWith(neon(target.connectionString), migrationsDir);
  } finally {
    neonConfig.fetchEndpoint = previousEndpoint;
  }
}

async function applyWith(sql: NeonQueryFunction<false, false>, migrationsDir: string): Promise<string[]> {
  const journal = await readJournal(migrationsDir);
  await sql.transaction([sql.query(BOOKKEEPING_SCHEMA), sql.query(BOOKKEEPING_TABLE)]);
  const appliedRows = (await sql.query(`SELECT created_at FROM "drizzle"."__drizzle_migrations"`)) as {
    created_at: string | null;
  }[];
  const applied = new Set(appliedRows.map((row) => Number(row.created_at)));

  const appliedNow: string[] = [];
  for (const entry of journal) {
    if (applied.has(entry.when)) continue;
    const { statements, hash } = await readMigration(migrationsDir, entry.tag);
    await sql.transaction([
      ...statements.map((statement) => sql.query(statement)),
      sql.query(`INSERT INTO "drizzle"."__drizzle_migrations" ("hash", "created_at") VALUES ($1, $2)`, [
        hash,
        entry.when,
      ]),
    ]);
    appliedNow.push(entry.tag);
  }
  return appliedNow;
}

/** The journal's entries in the order they apply. */
export async function readJournal(migrationsDir: string): Promise<JournalEntry[]> {
  const text = await readFile(join(migrationsDir, "meta", "_journal.json"), "utf8");
  const journal = JSON.parse(text) as { entries?: JournalEntry[] };
  if (!Array.isArray(journal.entries)) throw new Error(`${migrationsDir}/meta/_journal.json has no entries`);
  return [...journal.entries].sort((a, b) => a.idx - b.idx);
}

/**
 * Reads `<tag>.sql`. The hash is sha256 hex of the whole file as read, like
 * drizzle's readMigrationFiles; statements are split on drizzle-kit's
 * breakpoint marker (Neon runs one statement per query).
 */
export async function readMigration(migrationsDir: string, tag: string): Promise<{ statements: string[]; hash: string }> {
  const text = await readFile(join(migrationsDir, `${tag}.sql`), "utf8");
  return {
    hash: createHash("sha256").update(text).digest("hex"),
    statements: text
      .split("--> statement-breakpoint")
      .map((statement) => statement.trim())
      .filter((statement) => statement.length > 0),
  };
}
