/**
 * `GET /health`: is the database reachable and at the schema this build
 * expects? 503 names the missing migrations, so an operator knows which
 * to apply (F4).
 */
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { cachedSchemaStatus } from "../db/migrations";

/**
 * `GET /health`: 200 `{status:"ok",database:"ok",schema:<latest>}`, or 503 when
 * the database is unreachable or behind.
 *
 * @example
 * app.route("/health", health);
 */
export const health = new Hono<AppEnv>().get("/", async (c) => {
  c.header("Cache-Control", "no-store");
  const status = await cachedSchemaStatus(await c.var.db());
  switch (status.state) {
    case "ok":
      return c.json({ status: "ok", database: "ok", schema: status.latest });
    case "behind":
      return c.json({ status: "degraded", database: "ok", schema: "behind", missing: status.missing }, 503);
    case "unreachable":
      return c.json({ status: "degraded", database: "unreachable" }, 503);
  }
});
