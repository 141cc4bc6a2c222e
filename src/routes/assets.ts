/**
 * `GET /assets/passkey.<hash>.js`: the passkey page script (client/passkey.ts
 * bundled with @simplewebauthn/browser at build time, a string module). The
 * hash in the URL is the file's own, so it is cached as immutable for a year;
 * any other name is 404. It is the only script gatehouse serves, and pages
 * name exactly this URL in their CSP (`passkeyScriptUrl`).
 */
import { Hono } from "hono/tiny";
import type { Config } from "../config";
import type { AppEnv } from "../context";
import { GatehouseError } from "../error";
import { PASSKEY_SCRIPT, PASSKEY_SCRIPT_HASH } from "../pages/passkey-script.generated";

/** The script's path, content-addressed. */
export const PASSKEY_SCRIPT_PATH = `/assets/passkey.${PASSKEY_SCRIPT_HASH}.js`;

/**
 * The script's absolute URL, as pages load it and their CSP allows it.
 *
 * @example pageSecurityHeaders({ hasForms: true, script: passkeyScriptUrl(config) })
 */
export function passkeyScriptUrl(config: Pick<Config, "authUrl">): string {
  return new URL(PASSKEY_SCRIPT_PATH, config.authUrl).href;
}

export const assets = new Hono<AppEnv>().get("/:file", (c) => {
  if (`/assets/${c.req.param("file")}` !== PASSKEY_SCRIPT_PATH || !c.var.config.passkeys) throw new GatehouseError("NotFound", "There is no such file.");
  return c.body(PASSKEY_SCRIPT, 200, {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": "public, max-age=31536000, immutable",
  });
});
