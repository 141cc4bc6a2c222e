/** @jsxImportSource hono/jsx */
/**
 * Renders an error as JSON for API callers or as the error page for browsers.
 * Bodies carry the stable code and safe extras only; never a stack or a value
 * from the environment.
 */
import { ERROR_STATUS, type ConfigProblem, type ErrorCode } from "../error";
import { languageOf, MESSAGES } from "../i18n";
import { ErrorPage } from "./error";
import { wantsHtml } from "../lib/negotiate";
import { HTML_SECURITY_HEADERS } from "../lib/security-headers";

export interface RenderErrorOptions {
  status?: number;
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** The error page's way back (a same-origin path); JSON bodies never carry it. */
  backHref?: string;
}

/** @example return renderError(c.req.raw, "StateInvalid"); */
export function renderError(request: Request, code: ErrorCode, options: RenderErrorOptions = {}): Response {
  const status = options.status ?? ERROR_STATUS[code];
  const headers = new Headers(options.headers);
  headers.set("Cache-Control", "no-store");
  // Titles and explanations in the request's language; the code itself never changes.
  const t = MESSAGES[languageOf(request)];
  if (wantsHtml(request)) {
    const problems = options.extra?.problems as readonly ConfigProblem[] | undefined;
    const html = "<!doctype html>" + String(<ErrorPage code={code} problems={problems} backHref={options.backHref} t={t} />);
    headers.set("Content-Type", "text/html; charset=utf-8");
    for (const [k, v] of Object.entries(HTML_SECURITY_HEADERS)) headers.set(k, v);
    return new Response(html, { status, headers });
  }
  headers.set("Content-Type", "application/json");
  const body = { error: snakeCase(code), code, message: t.errors[code].explain, ...options.extra };
  return new Response(JSON.stringify(body), { status, headers });
}

/**
 * `OAuthSignin` → `oauth_signin`, `Configuration` → `configuration`: the JSON `error` member.
 *
 * @example
 * snakeCase("StateInvalid") // "state_invalid"
 */
export function snakeCase(code: ErrorCode): string {
  return code.replace(/^OAuth/, "Oauth").replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}
