/**
 * F4: the worker knows the newest migration it was built for. /health says
 * ok, names the missing migrations, or says the database is unreachable;
 * never a 500.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearSchemaStatusCache, EXPECTED_MIGRATIONS, LATEST_MIGRATION, readSchemaStatus } from "../../src/db/migrations";
import { databaseFor } from "../../src/db/client";
import { parseConfig } from "../../src/config";
import { call, scopedEnv } from "../helpers/app";
import { clearFaults, resetStats, setFaults, stats } from "../helpers/neon-local";
import { createTestUser, signInAs } from "../helpers/sessions";

const SCOPE = "health_test";

describe("GET /health", () => {
  beforeEach(async () => {
    clearSchemaStatusCache();
    await resetStats(SCOPE);
  });
  afterEach(async () => {
    await clearFaults(SCOPE);
    clearSchemaStatusCache();
  });

  it("is ok with the latest migration tag when the database has every migration", async () => {
    const res = await call("/health", {}, { scope: SCOPE });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", database: "ok", schema: LATEST_MIGRATION });
    expect(LATEST_MIGRATION).toBe(EXPECTED_MIGRATIONS.at(-1)!.tag);
    expect((await stats(SCOPE)).requests).toBe(1);
  });

  it("caches the answer per isolate for a few seconds: a second call makes no round trip", async () => {
    await call("/health", {}, { scope: SCOPE });
    await call("/health", {}, { scope: SCOPE });
    expect((await stats(SCOPE)).requests).toBe(1);
  });

  it("is 503 'behind' and names every migration when the migrations table does not exist", async () => {
    await setFaults({ scope: SCOPE, failMatching: "__drizzle_migrations", mode: "postgres", code: "42P01" });
    const res = await call("/health", {}, { scope: SCOPE });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "degraded", database: "ok", schema: "behind", missing: EXPECTED_MIGRATIONS.map((m) => m.tag) });
  });

  it("names exactly the migrations the database lacks", async () => {
    const result = parseConfig(scopedEnv(SCOPE) as unknown as Record<string, unknown>);
    if (!result.ok) throw new Error("test config invalid");
    const future = { tag: "9999_future_column", when: Date.now() + 86_400_000 };
    const status = await readSchemaStatus(await databaseFor(result.config), [...EXPECTED_MIGRATIONS, future]);
    expect(status).toEqual({ state: "behind", missing: ["9999_future_column"] });
  });

  it.each(["drop", "http500"] as const)("is 503 'unreachable' when the database is down (%s)", async (mode) => {
    await setFaults({ scope: SCOPE, failMatching: ".", mode });
    const res = await call("/health", {}, { scope: SCOPE });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "degraded", database: "unreachable" });
  });

  it("a route that needs a missing table shows 'apply the migrations', not a 500", async () => {
    const { classifyDatabaseError } = await import("../../src/db/errors");
    const err = Object.assign(new Error("relation does not exist"), { name: "NeonDbError", code: "42P01" });
    expect(classifyDatabaseError(new Error("wrapped", { cause: err }))?.code).toBe("SchemaBehind");
    const down = Object.assign(new Error("Error connecting to database: fetch failed"), { name: "NeonDbError" });
    expect(classifyDatabaseError(down)?.code).toBe("DatabaseUnavailable");
    expect(classifyDatabaseError(Object.assign(new Error("dup"), { code: "23505" }))).toBeNull();
  });

  it.each([
    ["a missing column", "42703"],
    ["a missing table", "42P01"],
  ])("a browser page that needs the database shows 'apply the migrations' (503 page) on %s, never a 500", async (_what, code) => {
    const { cookieHeader } = await signInAs(await createTestUser());
    await setFaults({ scope: SCOPE, failMatching: ".", mode: "postgres", code });
    const page = await call("/account", { headers: { cookie: cookieHeader, accept: "text/html" } }, { scope: SCOPE });
    expect(page.status).toBe(503);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).toContain("<code>SchemaBehind</code>");
    expect(html).toContain("npm run db:migrate");
    expect(html).not.toMatch(/column|relation|at .*\.ts:\d+/);
    expect(page.headers.getSetCookie()).toEqual([]);
  });
});
