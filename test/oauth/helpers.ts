/**
 * Helpers for the OAuth authorization-server tests: registered clients
 * (raw SQL, as `npm run client:create` would store them), oauth4webapi
 * pointed at the real app through its customFetch, and a browser that
 * carries the session cookie through /oauth/authorize and the consent form.
 */
import * as oauth from "oauth4webapi";
import { expect } from "vitest";
import { sha256Hex } from "../../src/lib/crypto";
import { rawSql } from "../helpers/neon-local";
import { callWorker } from "../helpers/sessions";

export const ISSUER = "https://auth.example.com";
export const USERINFO_RESOURCE = `${ISSUER}/oauth/userinfo`;

export interface TestClient {
  clientId: string;
  secret: string | null;
  redirectUri: string;
}

/**
 * Registers a client with raw SQL.
 *
 * @example
 * const spa = await createClient({ type: "public", redirectUris: ["https://spa.example.org/cb"] });
 */
export async function createClient(options: {
  type?: "public" | "confidential";
  applicationType?: "web" | "native";
  redirectUris?: string[];
  scopes?: string[];
  resources?: string[];
  firstParty?: boolean;
  disabled?: boolean;
  name?: string;
  orgId?: string | null;
} = {}): Promise<TestClient> {
  const type = options.type ?? "public";
  const secret = type === "confidential" ? `secret-${crypto.randomUUID()}` : null;
  const redirectUris = options.redirectUris ?? ["https://spa.example.org/callback"];
  const rows = await rawSql<{ id: string }>(
    `INSERT INTO oauth_clients (name, type, application_type, secret_hash, redirect_uris, scopes, resources, first_party, disabled_at, org_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $9::boolean THEN now() END, $10) RETURNING id`,
    [
      options.name ?? "Test App",
      type,
      options.applicationType ?? "web",
      secret === null ? null : await sha256Hex(secret),
      redirectUris,
      options.scopes ?? ["openid", "profile", "email", "offline_access", "notes:read"],
      options.resources ?? ["https://api.example.com"],
      options.firstParty ?? false,
      options.disabled ?? false,
      options.orgId ?? null,
    ],
  );
  return { clientId: rows[0]!.id, secret, redirectUri: redirectUris[0]! };
}

/**
 * A client address per request: the token endpoint is rate limited per IP
 * (60/min), and these files together send more than that; the limit itself
 * is tested in test/foundation/rate-limit.test.ts.
 */
function clientIp(): string {
  const [a, b] = crypto.getRandomValues(new Uint8Array(2));
  return `198.18.${a}.${b}`;
}

function withClientIp(init: RequestInit): RequestInit {
  const headers = new Headers(init.headers);
  headers.set("cf-connecting-ip", clientIp());
  return { ...init, headers };
}

/** A fetch that sends oauth4webapi's requests to the app (this file's database scope). */
export const appFetch = (url: string, init: RequestInit): Promise<Response> => callWorker(url, withClientIp(init));

/** The discovered authorization server, through the app's own metadata. */
export async function discover(): Promise<oauth.AuthorizationServer> {
  const res = await oauth.discoveryRequest(new URL(ISSUER), { algorithm: "oidc", [oauth.customFetch]: appFetch });
  return oauth.processDiscoveryResponse(new URL(ISSUER), res);
}

/** Decodes the few HTML entities hono/jsx writes into attribute values. */
function unescapeHtml(value: string): string {
  return value.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

/** The hidden fields of the consent page's Allow form. */
export function consentForm(html: string): { request: string; consent_token: string } {
  const field = (name: string) => {
    const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
    if (!m?.[1]) throw new Error(`consent page has no ${name} field`);
    return unescapeHtml(m[1]);
  };
  return { request: field("request"), consent_token: field("consent_token") };
}

/**
 * Posts the consent form as the browser would.
 *
 * @example
 * const res = await postConsent(cookie, form, "allow");
 */
export function postConsent(cookie: string, form: { request: string; consent_token: string }, decision: "allow" | "deny", origin = ISSUER): Promise<Response> {
  return callWorker("/oauth/consent", {
    method: "POST",
    headers: { cookie, origin, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...form, decision }).toString(),
  });
}

/**
 * GET /oauth/authorize with the browser's cookie, then Allow on the consent
 * page when it is shown. Returns the URL the browser lands on at the client.
 *
 * @example
 * const callback = await authorizeInBrowser(cookie, url);
 */
export async function authorizeInBrowser(cookie: string, url: URL): Promise<URL> {
  const res = await callWorker(url.pathname + url.search, { headers: { cookie } });
  if (res.status === 200) {
    const consent = await postConsent(cookie, consentForm(await res.text()), "allow");
    expect(consent.status).toBe(303);
    return new URL(consent.headers.get("location")!);
  }
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location")!);
}

/**
 * The authorization URL oauth4webapi's caller would build.
 *
 * @example
 * const { url, verifier, nonce, state } = await authorizationUrl(as, client, { scope: "openid offline_access" });
 */
export async function authorizationUrl(
  as: oauth.AuthorizationServer,
  client: TestClient,
  options: { scope?: string; resource?: string; redirectUri?: string; extra?: Record<string, string> } = {},
): Promise<{ url: URL; verifier: string; nonce: string; state: string }> {
  const verifier = oauth.generateRandomCodeVerifier();
  const nonce = oauth.generateRandomNonce();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.searchParams.set("client_id", client.clientId);
  url.searchParams.set("redirect_uri", options.redirectUri ?? client.redirectUri);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", options.scope ?? "openid profile email offline_access");
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("nonce", nonce);
  url.searchParams.set("state", state);
  if (options.resource) url.searchParams.set("resource", options.resource);
  for (const [k, v] of Object.entries(options.extra ?? {})) url.searchParams.set(k, v);
  return { url, verifier, nonce, state };
}

/** The client authentication oauth4webapi uses for a test client. */
export function clientAuth(client: TestClient, method: "basic" | "post" = "basic"): oauth.ClientAuth {
  if (client.secret === null) return oauth.None();
  return method === "basic" ? oauth.ClientSecretBasic(client.secret) : oauth.ClientSecretPost(client.secret);
}

/**
 * Row counts of everything a client's requests can write (codes, grants,
 * families, consumed/replayed codes, revoked families), to assert that a
 * refused request wrote nothing. Per client: other test files run at once.
 */
export async function clientRows(clientId: string): Promise<Record<string, number>> {
  const [row] = await rawSql<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM oauth_codes WHERE client_id = $1) AS codes,
            (SELECT count(*)::int FROM oauth_codes WHERE client_id = $1 AND consumed_at IS NOT NULL) AS consumed,
            (SELECT count(*)::int FROM oauth_codes WHERE client_id = $1 AND replayed_at IS NOT NULL) AS replayed,
            (SELECT count(*)::int FROM oauth_grants WHERE client_id = $1) AS grants,
            (SELECT count(*)::int FROM oauth_families WHERE client_id = $1) AS families,
            (SELECT count(*)::int FROM sessions WHERE client_id = $1) AS sessions,
            (SELECT count(*)::int FROM sessions WHERE client_id = $1 AND revoked_at IS NOT NULL) AS revoked`,
    [clientId],
  );
  return row!;
}

/**
 * Runs the browser part of the flow and returns a fresh code with what the token request needs.
 *
 * @example
 * const { code, verifier } = await codeFor(as, cookie, client);
 */
export async function codeFor(
  as: oauth.AuthorizationServer,
  cookie: string,
  client: TestClient,
  options: { scope?: string; resource?: string; redirectUri?: string } = {},
): Promise<{ code: string; verifier: string; redirectUri: string; nonce: string }> {
  const redirectUri = options.redirectUri ?? client.redirectUri;
  const { url, verifier, nonce } = await authorizationUrl(as, client, { ...options, redirectUri });
  const callback = await authorizeInBrowser(cookie, url);
  const code = callback.searchParams.get("code");
  if (!code) throw new Error(`no code: ${callback.href}`);
  return { code, verifier, redirectUri, nonce };
}

/**
 * POST /oauth/token with form fields (client_secret_basic when `basic` is given).
 *
 * @example
 * const res = await tokenRequest({ grant_type: "authorization_code", code, … });
 */
export function tokenRequest(fields: Record<string, string>, basic?: { id: string; secret: string }, path = "/oauth/token"): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (basic) headers.authorization = `Basic ${btoa(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret)}`)}`;
  return callWorker(path, withClientIp({ method: "POST", headers, body: new URLSearchParams(fields).toString() }));
}

/** The code-exchange form for a public client. */
export function codeExchange(client: TestClient, got: { code: string; verifier: string; redirectUri: string }): Record<string, string> {
  return { grant_type: "authorization_code", client_id: client.clientId, code: got.code, code_verifier: got.verifier, redirect_uri: got.redirectUri };
}
