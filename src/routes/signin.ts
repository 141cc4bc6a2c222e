/**
 * `GET /auth/signin`: the provider list. `GET /auth/signin/:provider`: start
 * a sign-in. Starting makes zero database round trips: it stores the
 * transaction in KV, waits for KV to accept it (F9), binds it to this
 * browser with a `__Host-` cookie and only then redirects to the provider.
 */
import type { Context } from "hono";
import { Hono } from "hono/tiny";
import type { AppEnv } from "../context";
import { GatehouseError } from "../error";
import { saveTransaction, TRANSACTION_TTL_SECONDS } from "../kv/transactions";
import { serializeCookie } from "../lib/cookies";
import { randomBase64Url, sha256Hex } from "../lib/crypto";
import { pageSecurityHeaders } from "../lib/security-headers";
import { validateRedirect } from "../lib/redirect";
import { SignInPage } from "../pages/signin";
import { findProvider, type SignInProvider } from "../providers";
import { resolveSession } from "../sessions/resolve";
import { passkeyScriptUrl } from "./assets";

/** Binds a transaction to the browser that started it; `__Host-`: Secure, Path=/, no Domain. */
export const TRANSACTION_COOKIE = "__Host-gh_tx";

/**
 * The validated `redirect_to` of a request (absolute URL), the default when
 * absent. Given twice or not allowed → 400 `InvalidRedirect`, never a redirect.
 *
 * @example
 * const redirectTo = redirectTarget(c, c.req.queries("redirect_to"));
 */
export function redirectTarget(c: Context<AppEnv>, values: readonly string[] | undefined): string {
  const config = c.var.config;
  if (values !== undefined && values.length > 1) throw invalidRedirect();
  const target = validateRedirect(values?.[0], config.authUrl, config.allowedRedirectOrigins);
  if (target === null) throw invalidRedirect();
  return target;
}

function invalidRedirect(): GatehouseError {
  return new GatehouseError("InvalidRedirect", "The return address is not allowed.");
}

/**
 * The enabled provider named by the route, or 404 `NotFound`.
 *
 * @example
 * const provider = providerFromRoute(c, c.req.param("provider"));
 */
export function providerFromRoute(c: Context<AppEnv>, id: string): SignInProvider {
  const provider = findProvider(c.var.config, id);
  if (!provider) throw new GatehouseError("NotFound", "There is no such sign-in provider.");
  return provider;
}

/** The callback URL registered with every provider: `<AUTH_URL>/auth/callback/<id>`. */
export function callbackUrlFor(authUrl: URL, providerId: string): string {
  return new URL(`/auth/callback/${encodeURIComponent(providerId)}`, authUrl).href;
}

/**
 * Creates a sign-in transaction and returns the redirect to the provider.
 * Order matters: the provider URL is built first (it may fail without
 * leaving anything behind), then KV must accept the transaction, and only
 * then are the cookie and the redirect produced. A KV failure is a 503
 * `StorageUnavailable` with neither.
 *
 * A Pages connect (`connect`) records the organization in the transaction
 * and asks for the provider's sign-in scopes plus `connect.scopes`.
 *
 * @example
 * return startSignIn(c, provider, { redirectTo, linkUserId: null, status: 302 });
 */
export async function startSignIn(
  c: Context<AppEnv>,
  provider: SignInProvider,
  options: {
    redirectTo: string;
    linkUserId: string | null;
    /** The session that started a link: the callback requires it to be still live. */
    linkSessionId?: string | null;
    status: 302 | 303;
    connect?: { orgId: string; scopes: readonly string[] };
  },
): Promise<Response> {
  const config = c.var.config;
  const state = randomBase64Url();
  const binding = randomBase64Url();
  const codeVerifier = randomBase64Url();
  const nonce = provider.usesNonce ? randomBase64Url() : null;
  const configured = config.providers.find((p) => p.id === provider.id)?.scopes ?? [];
  const signInScopes = configured.length > 0 ? [...configured] : [...provider.defaultScopes];
  const scopes = options.connect ? [...new Set([...signInScopes, ...options.connect.scopes])] : signInScopes;

  const url = await provider.authorizationUrl({
    state,
    codeVerifier,
    nonce,
    redirectUri: callbackUrlFor(config.authUrl, provider.id),
    scopes,
  });

  await saveTransaction(c.var.kv, await sha256Hex(state), {
    v: 1,
    provider: provider.id,
    codeVerifier,
    nonce,
    scopes,
    redirectTo: options.redirectTo,
    bindingHash: await sha256Hex(binding),
    linkUserId: options.linkUserId,
    linkSessionId: options.linkSessionId ?? null,
    orgId: options.connect?.orgId ?? null,
    createdAt: Date.now(),
  });

  c.header("Cache-Control", "no-store");
  c.header("Set-Cookie", serializeCookie(TRANSACTION_COOKIE, binding, TRANSACTION_TTL_SECONDS), { append: true });
  return c.redirect(url.href, options.status);
}

export const signin = new Hono<AppEnv>()
  .get("/", async (c) => {
    const raw = c.req.queries("redirect_to");
    // Validated here too, so the page never carries a bad address into its links.
    const redirectTo = raw === undefined ? null : redirectTarget(c, raw);
    const providers = c.var.config.providers.map((p) => ({ id: p.id, name: p.name }));
    // May rotate the refresh token (new cookies on this response): fine on a page load.
    const session = await resolveSession(c);
    const signedIn = session ? { name: session.profile.name, email: session.profile.email } : null;
    const passkeyScript = c.var.config.passkeys ? passkeyScriptUrl(c.var.config) : undefined;
    const html = "<!doctype html>" + String(SignInPage({ providers, redirectTo, signedIn, email: c.var.config.email !== null, passkeyScript, t: c.var.t }));
    // A signed-in visitor gets the sign-out form, and the passkey script POSTs: both need the Origin header (see pageSecurityHeaders).
    const headers = pageSecurityHeaders({ hasForms: signedIn !== null || passkeyScript !== undefined, script: passkeyScript });
    return c.html(html, 200, { ...headers, "Cache-Control": "no-store" });
  })
  .get("/:provider", async (c) => {
    const provider = providerFromRoute(c, c.req.param("provider"));
    const redirectTo = redirectTarget(c, c.req.queries("redirect_to"));
    return startSignIn(c, provider, { redirectTo, linkUserId: null, status: 302 });
  });
