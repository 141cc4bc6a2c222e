/**
 * `GET /`: a small page that says what this is and links sign-in, the
 * account page and the public documents. Static: no database, no KV.
 */
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { pageSecurityHeaders } from "../lib/security-headers";
import { methodNotAllowed } from "../middleware/csrf";
import { HomePage } from "../pages/home";

export const home = new Hono<AppEnv>()
  .get("/", (c) => c.html("<!doctype html>" + String(HomePage({ t: c.var.t })), 200, { ...pageSecurityHeaders({ hasForms: false }), "Cache-Control": "no-store" }))
  .all("/", methodNotAllowed("GET, HEAD"));
