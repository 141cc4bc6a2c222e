/**
 * Response security headers. Every response gets `COMMON_SECURITY_HEADERS`;
 * every HTML response gets a strict CSP with no script at all (forms, not
 * JavaScript, do the work), no framing and no referrer. The one exception:
 * pages that offer passkeys allow exactly the bundled passkey file by its
 * URL (`script`), and `connect-src 'self'` for its requests.
 *
 * `securityHeaders()` applies the HTML set to any `text/html` response a route
 * or the error renderer produced, keeping headers a page chose itself (the
 * account page's referrer policy and form-action, see `pageSecurityHeaders`).
 */
import type { MiddlewareHandler } from "hono";

/**
 * `form-action 'self'`: a form on our pages can only post to us. Pages whose
 * forms answer with a redirect to a provider (link) cannot use it: Chrome
 * applies form-action to every redirect after a form POST, and a provider's
 * authorization endpoint is not always on its issuer's origin (discovery).
 */
function csp(formAction: boolean, script?: string): string {
  return [
    "default-src 'none'",
    // A page with passkeys allows exactly one script: the bundled file at its hashed URL (nothing inline, nothing remote),
    // and lets it call this origin (fetch to /auth/passkey/*).
    script === undefined ? "script-src 'none'" : `script-src ${script}`,
    ...(script === undefined ? [] : ["connect-src 'self'"]),
    "style-src 'unsafe-inline'",
    // Profile pictures come from the providers (https) or inline SVG/data.
    "img-src 'self' https: data:",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    ...(formAction ? ["form-action 'self'"] : []),
  ].join("; ");
}

/** Headers every HTML page carries unless it chose stricter or different ones. */
export const HTML_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": csp(true),
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
};

/** Headers every response carries. */
export const COMMON_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
};

/**
 * HTML headers for a page that contains POST forms.
 *
 * `Referrer-Policy: same-origin`, not `no-referrer`: under `no-referrer` the
 * Fetch standard makes a browser send `Origin: null` on a form POST, and our
 * CSRF check (Origin must equal AUTH_URL's origin) would then refuse every
 * form on the page. `same-origin` still sends no referrer to any other site.
 * `linksToProviders`: the page posts to `/auth/link/:provider`, which
 * redirects to the provider, so it cannot carry `form-action 'self'`.
 * `script`: the absolute URL of the one script the page may load (the
 * passkey script, `routes/assets.ts`); without it no script runs at all.
 *
 * @example
 * return c.html(page, 200, pageSecurityHeaders({ hasForms: true, linksToProviders: true }));
 */
export function pageSecurityHeaders(options: { hasForms: boolean; linksToProviders?: boolean; script?: string }): Record<string, string> {
  return {
    ...HTML_SECURITY_HEADERS,
    "Content-Security-Policy": csp(!options.linksToProviders, options.script),
    "Referrer-Policy": options.hasForms ? "same-origin" : "no-referrer",
  };
}

/**
 * Middleware: after the handler (or `onError`), every response gets
 * `COMMON_SECURITY_HEADERS`, and any `text/html` response gets every
 * `HTML_SECURITY_HEADERS` entry it does not already carry. Mounted once,
 * first, in `app.ts`, so a new page cannot ship without a CSP.
 *
 * @example
 * app.use(securityHeaders());
 */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    for (const [k, v] of Object.entries(COMMON_SECURITY_HEADERS)) headers.set(k, v);
    if (!(headers.get("content-type") ?? "").toLowerCase().startsWith("text/html")) return;
    for (const [k, v] of Object.entries(HTML_SECURITY_HEADERS)) {
      if (!headers.has(k)) headers.set(k, v);
    }
  };
}
