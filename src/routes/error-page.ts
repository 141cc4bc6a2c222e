/** `GET /auth/error?code=…`: the page a redirect lands on; unknown codes show as Internal. */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { ERROR_STATUS, type ErrorCode } from "../error";
import { renderError } from "../lib/render-error";

export const errorPage = new Hono<AppEnv>().get("/", (c) => {
  const code = c.req.query("code") ?? "";
  const known: ErrorCode = Object.hasOwn(ERROR_STATUS, code) ? (code as ErrorCode) : "Internal";
  return renderError(c.req.raw, known, { status: 200 });
});
