/** `GET /auth/error?code=…`: the page a redirect lands on; unknown codes show as Internal. */
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { ERROR_STATUS, type ErrorCode } from "../error";
import { renderError } from "../pages/render-error";

/**
 * The `/auth/error` route group: always 200, the page of the named code.
 *
 * @example
 * app.route("/auth/error", errorPage); // GET /auth/error?code=StateInvalid
 */
export const errorPage = new Hono<AppEnv>().get("/", (c) => {
  const code = c.req.query("code") ?? "";
  const known: ErrorCode = Object.hasOwn(ERROR_STATUS, code) ? (code as ErrorCode) : "Internal";
  return renderError(c.req.raw, known, { status: 200 });
});
