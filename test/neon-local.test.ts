/**
 * neon-local must behave like Neon for the driver: values round-trip through
 * drizzle + @neondatabase/serverless, batches are atomic, Postgres errors keep
 * their fields, and injected faults surface as driver errors.
 *
 * Every request here uses its own connection-string user (SCOPE), so stats and
 * faults don't interfere with test files running in parallel.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/neon-http";
import { bigint, boolean, customType, jsonb, pgTable, serial, text, timestamp } from "drizzle-orm/pg-core";
import { beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { clearFaults, neonSql, resetStats, setFaults, stats } from "./helpers/neon-local";

const SCOPE = "neon_local_test";

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => "bytea" });

const roundtrip = pgTable("neon_local_roundtrip", {
  id: serial("id").primaryKey(),
  label: text("label").notNull().unique(),
  at: timestamp("at", { withTimezone: true, mode: "date" }),
  doc: jsonb("doc"),
  flag: boolean("flag"),
  big: bigint("big", { mode: "bigint" }),
  tags: text("tags").array(),
  bytes: bytea("bytes"),
  nothing: text("nothing"),
});

const sql = neonSql(SCOPE);
const db = drizzle({ client: sql });

/** Unique per test run, so reruns against the same database don't collide. */
const label = (name: string) => `${name}-${crypto.randomUUID()}`;

/** Drizzle wraps driver errors (DrizzleQueryError); the NeonDbError is its cause. */
function driverError(err: unknown): Record<string, unknown> {
  const e = err as { cause?: unknown };
  return (e.cause ?? e) as Record<string, unknown>;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await promise.then(
    () => ({ ok: true as const }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  if (outcome.ok) throw new Error("expected the query to fail");
  return outcome.err;
}

beforeAll(async () => {
  await sql.query(`CREATE TABLE IF NOT EXISTS neon_local_roundtrip (
    id serial PRIMARY KEY,
    label text NOT NULL UNIQUE,
    at timestamptz,
    doc jsonb,
    flag boolean,
    big bigint,
    tags text[],
    bytes bytea,
    nothing text
  )`);
});

beforeEach(async () => {
  await clearFaults(SCOPE);
  await resetStats(SCOPE);
});

describe("neon-local", () => {
  it("round-trips Postgres types through drizzle", async () => {
    const row = {
      label: label("types"),
      at: new Date("2024-02-29T23:59:58.123Z"),
      doc: { quote: 'say "hi"', backslash: "C:\\temp\\n", unicode: "한국어 ✓ 🎉", nested: [1, null, { a: true }] },
      flag: false,
      big: 9007199254740993n, // 2^53 + 1: not representable as a JS number
      tags: ["plain", "a,b", 'quo"te', "back\\slash", "NULL", "", "  spaced  "],
      bytes: new Uint8Array([0, 1, 127, 128, 255]),
      nothing: null,
    };
    await db.insert(roundtrip).values(row);
    const [read] = await db.select().from(roundtrip).where(eq(roundtrip.label, row.label));

    expect(read).toBeDefined();
    expect(read!.at).toEqual(row.at);
    expect(read!.doc).toEqual(row.doc);
    expect(read!.flag).toBe(false);
    expect(read!.big).toBe(9007199254740993n);
    expect(read!.tags).toEqual(row.tags);
    expect(new Uint8Array(read!.bytes!)).toEqual(row.bytes);
    expect(read!.nothing).toBeNull();
  });

  it("returns Postgres text output for the driver to parse", async () => {
    const [row] = (await sql.query(
      `SELECT true AS t, ARRAY['a,b', NULL]::text[] AS arr, $1::int8 AS big, '\\x00ff'::bytea AS b`,
      ["9223372036854775807"],
    )) as Record<string, unknown>[];
    expect(row!.t).toBe(true);
    expect(row!.arr).toEqual(["a,b", null]);
    // node-postgres keeps int8 as a string: no precision is lost on the way.
    expect(row!.big).toBe("9223372036854775807");
    expect([...(row!.b as Uint8Array)]).toEqual([0, 255]);
  });

  it("rolls back the whole batch when a later statement fails", async () => {
    const first = label("batch-first");
    const taken = label("batch-taken");
    await db.insert(roundtrip).values({ label: taken });

    const err = await rejection(
      db.batch([db.insert(roundtrip).values({ label: first }), db.insert(roundtrip).values({ label: taken })]),
    );
    expect(driverError(err).code).toBe("23505");
    const left = await db.select().from(roundtrip).where(eq(roundtrip.label, first));
    expect(left).toEqual([]);
  });

  it("passes unique violations through with their Postgres fields", async () => {
    const taken = label("unique");
    await db.insert(roundtrip).values({ label: taken });
    const err = driverError(await rejection(db.insert(roundtrip).values({ label: taken })));
    expect(err.name).toBe("NeonDbError");
    expect(err.code).toBe("23505");
    expect(err.constraint).toBe("neon_local_roundtrip_label_key");
    expect(err.table).toBe("neon_local_roundtrip");
  });

  it("refuses several statements in one query, as Neon does", async () => {
    const err = driverError(await rejection(sql.query("SELECT 1; SELECT 2")));
    expect(err.code).toBe("42601");
  });

  it("counts one request per query and one per batch", async () => {
    await db.select().from(roundtrip).limit(1);
    await db.batch([db.select().from(roundtrip).limit(1), db.select().from(roundtrip).limit(1)]);
    expect(await stats(SCOPE)).toMatchObject({ requests: 2, statements: 3, batches: 1, errors: 0 });
  });

  it("records the largest request body, to measure batches against Neon's 10 MiB limit", async () => {
    const big = "x".repeat(100_000);
    await sql.query("SELECT length($1) AS n", [big]);
    const { maxRequestBytes } = await stats(SCOPE);
    expect(maxRequestBytes).toBeGreaterThan(100_000);
    expect(maxRequestBytes).toBeLessThan(101_000);
  });

  it("refuses a request over 10 MiB, as Neon's proxy does, without running it", async () => {
    const tooBig = "x".repeat(10 * 1024 * 1024 + 1);
    const err = driverError(await rejection(sql.query("SELECT length($1) AS n", [tooBig])));
    expect(err.name).toBe("NeonDbError");
    expect(String(err.message)).toContain("HTTP status 413");
    expect(String(err.message)).toContain("request is too large");
    expect((await stats(SCOPE)).errors).toBe(1);
  });

  it("refuses a response over 10 MiB with 507, as Neon's proxy does", async () => {
    const err = driverError(await rejection(sql.query("SELECT repeat('y', 10 * 1024 * 1024 + 1) AS big")));
    expect(String(err.message)).toContain("HTTP status 507");
    expect(String(err.message)).toContain("response is too large");
  });

  describe("faults", () => {
    it("http500 becomes a driver error", async () => {
      await setFaults({ failNth: 1, mode: "http500", scope: SCOPE });
      const err = driverError(await rejection(sql.query("SELECT 1")));
      expect(err.name).toBe("NeonDbError");
      expect(String(err.message)).toContain("HTTP status 500");
      // One-shot: the next request goes through.
      expect(await sql.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    });

    it("postgres mode returns a Postgres-shaped error", async () => {
      await setFaults({ failMatching: "neon_local_roundtrip", mode: "postgres", code: "57P01", scope: SCOPE });
      const err = driverError(await rejection(db.select().from(roundtrip).limit(1)));
      expect(err.code).toBe("57P01");
      expect(await sql.query("SELECT 2 AS two")).toEqual([{ two: 2 }]);
    });

    it("drop rejects instead of hanging", async () => {
      await setFaults({ failNth: 2, mode: "drop", scope: SCOPE });
      await sql.query("SELECT 1");
      const err = driverError(await rejection(sql.query("SELECT 1")));
      expect(err.name).toBe("NeonDbError");
      // Outside the test pool the driver sees the socket close ("Error connecting to
      // database"); inside it, miniflare's outboundService (test/outbound.ts) carries
      // the request and turns the failed fetch into HTTP 500. Either way: a driver
      // error without a SQLSTATE, which the worker classifies as DatabaseUnavailable.
      expect(String(err.message)).toMatch(/Error connecting to database|Server error \(HTTP status 500\): TypeError: fetch failed/);
      expect((err as { code?: unknown }).code).toBeUndefined();
      expect((await stats(SCOPE)).errors).toBe(1);
    });

    it("latency delays but does not fail", async () => {
      await setFaults({ latencyMs: 150, scope: SCOPE });
      const started = Date.now();
      await sql.query("SELECT 1");
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });
  });

  it("runs against the backend global-setup chose", async () => {
    const [row] = (await sql.query("SELECT current_database() AS name")) as { name: string }[];
    if (env.DATABASE_BACKEND === "pg") expect(row!.name).toMatch(/^gatehouse_test_\d+_[0-9a-f]+$/);
    else expect(env.DATABASE_BACKEND).toBe("pglite");
  });

  it("runs every connection in a non-UTC time zone, so a timestamp-without-zone column goes red (F11)", async () => {
    const zone = inject("pgTimeZone");
    expect(zone).not.toMatch(/^(UTC|GMT|Etc\/.*|Z)$/i);
    // In parallel, so a pool hands out several connections.
    const rows = (await Promise.all(Array.from({ length: 5 }, () => sql.query("SELECT current_setting('TimeZone') AS tz, extract(timezone FROM now())::int AS offset_s")))).flat() as { tz: string; offset_s: number }[];
    for (const row of rows) {
      expect(row.tz).toBe(zone);
      expect(row.offset_s).not.toBe(0);
    }
    // The Node side (neon-local, scripts) runs in a non-UTC zone too. workerd itself runs in UTC, as
    // Cloudflare does: Miniflare 5 starts it with TZ=UTC and the test plugin cannot change that.
    // A hand-edited timestamp column is also caught by db:check's migrations-vs-schema comparison.
    expect(inject("nodeTimeZone")).not.toMatch(/^(UTC|GMT|Etc\/.*|Z)$/i);
  });

  it("has the schema from migrations/, recorded as drizzle does", async () => {
    const rows = (await sql.query(`SELECT hash, created_at FROM drizzle.__drizzle_migrations`)) as {
      hash: string;
      created_at: string;
    }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
