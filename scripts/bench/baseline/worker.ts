/**
 * The plain baseline for `npm run bench`'s worker section: what a team would
 * write by hand with the same stack (Hono, jose, drizzle over the Neon HTTP
 * driver) and no sign-in features. `GET /session` verifies an ES256 session
 * JWT from a cookie, as gatehouse's session check does minus the denylist;
 * `GET /db` makes drizzle and the driver part of the bundle, as in gatehouse.
 * Never deployed; bundled by the bench with gatehouse's build settings.
 */
import { neon } from "@neondatabase/serverless";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/neon-http";
import { pgTable, text, uuid } from "drizzle-orm/pg-core";
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { importJWK, jwtVerify, type JWK } from "jose";

const users = pgTable("users", { id: uuid("id").primaryKey().defaultRandom(), email: text("email") });

type Env = { Bindings: { PUBLIC_JWK: string; ISSUER: string; DATABASE_URL: string } };
const app = new Hono<Env>();
let key: CryptoKey | Uint8Array | undefined;

app.get("/session", async (c) => {
  const token = getCookie(c, "session");
  if (!token) return c.json({ error: "unauthorized" }, 401);
  key ??= await importJWK(JSON.parse(c.env.PUBLIC_JWK) as JWK, "ES256");
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ["ES256"], issuer: c.env.ISSUER, audience: `${c.env.ISSUER}/session`, clockTolerance: 60 });
    return c.json({ user: { id: payload.sub }, session: { id: payload.sid } });
  } catch {
    return c.json({ error: "unauthorized" }, 401);
  }
});

app.get("/db", async (c) => {
  const db = drizzle({ client: neon(c.env.DATABASE_URL) });
  const rows = await db.select().from(users).where(sql`${users.email} = ${c.req.query("email") ?? ""}`);
  return c.json(rows);
});

export default app;
