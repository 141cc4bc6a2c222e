/**
 * What every fake authorization server does the same way: the authorize
 * endpoint (no login page: it redirects straight back with a code, or with
 * the scenario's `error=`), and the token endpoint's checks a real provider
 * makes: client credentials, redirect_uri equality, PKCE, one-time codes.
 * Each fake renders the failures in its provider's own error shape.
 */
import { timingSafeEqual } from "node:crypto";
import { s256, state, type Grant } from "./state.ts";
import type { Fault, FakeScenario, FakeUser } from "./types.ts";

/** A registered OAuth client of a fake. */
export interface FakeClient {
  clientId: string;
  clientSecret: string;
  /** Exact redirect URIs, or a prefix ending in `/` for a tenant. */
  redirectUris: string[];
}

/** @example json({ ok: true }) */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } });
}

/** @example html(502, "Bad Gateway") */
export function html(status: number, title: string): Response {
  return new Response(`<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`, {
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

/** Query parameters merged with a form-encoded body (providers accept both for tokens). */
export async function readParams(request: Request, url: URL): Promise<URLSearchParams> {
  const params = new URLSearchParams(url.searchParams);
  if (request.method === "POST" && request.headers.get("content-type")?.includes("application/x-www-form-urlencoded")) {
    for (const [k, v] of new URLSearchParams(await request.text())) params.append(k, v);
  }
  return params;
}

/**
 * A scripted failure for an endpoint, or undefined to answer normally.
 * `providerShape` renders `{ providerError }` the provider's way.
 */
export async function faultResponse(fault: Fault | undefined, providerShape: (code: string | number) => Response): Promise<Response | undefined> {
  if (fault === undefined) return undefined;
  if ("hang" in fault) {
    await state.hang();
    return html(504, "Gateway Timeout");
  }
  if ("html" in fault) return html(fault.status ?? 200, "Something went wrong");
  if ("providerError" in fault) return providerShape(fault.providerError);
  return fault.body === undefined ? new Response(null, { status: fault.status }) : json(fault.body, fault.status);
}

function redirectAllowed(client: FakeClient, redirectUri: string): boolean {
  return client.redirectUris.some((r) => (r.endsWith("/") ? redirectUri.startsWith(r) && redirectUri.length > r.length : r === redirectUri));
}

/** The authorize endpoint: validates the request, then redirects back at once. */
export function authorize(options: {
  provider: string;
  url: URL;
  client: FakeClient;
  defaultUser: Required<FakeUser>;
  /** RFC 9207 `iss` added to the callback. */
  iss?: string;
  errorDescription?: string;
  /** Scopes may be separated by commas (GitHub, Facebook). */
  scopeSeparator?: RegExp;
}): Response {
  const { provider, url, client } = options;
  const p = url.searchParams;
  const requested = p.get("fake_scenario");
  const found = state.takeScenario(provider, requested);
  state.record({ provider, endpoint: "authorize", method: "GET", ...(found ? { scenario: found.id } : {}) });
  // A real provider shows an error page, not a redirect, for a bad client or redirect_uri.
  if (p.get("client_id") !== client.clientId) return html(400, "invalid_client");
  const redirectUri = p.get("redirect_uri");
  if (redirectUri === null || !redirectAllowed(client, redirectUri)) return html(400, "redirect_uri_mismatch");
  if (!found) return html(400, "unknown fake_scenario");
  if (p.get("response_type") !== "code") return html(400, "unsupported_response_type");

  const scenario: FakeScenario = found.scenario;
  const back = new URL(redirectUri);
  const stateParam = p.get("state");
  if (scenario.authorizeError !== undefined) {
    back.searchParams.set("error", scenario.authorizeError);
    back.searchParams.set("error_description", options.errorDescription ?? "The user denied the request <script>alert(1)</script>");
  } else {
    const grant: Grant = {
      provider,
      scenarioId: found.id,
      scenario,
      user: { ...options.defaultUser, ...scenario.user } as Required<FakeUser>,
      clientId: client.clientId,
      redirectUri,
      scopes: (p.get("scope") ?? "").split(options.scopeSeparator ?? / /).filter(Boolean),
      state: stateParam,
      nonce: p.get("nonce"),
      codeChallenge: p.get("code_challenge"),
      codeChallengeMethod: p.get("code_challenge_method"),
      expiresAt: Date.now() + 10 * 60_000,
      used: false,
    };
    back.searchParams.set("code", state.issueCode(grant));
  }
  if (stateParam !== null) back.searchParams.set("state", stateParam);
  if (options.iss !== undefined && !scenario.omitIss) back.searchParams.set("iss", options.iss);
  for (const [k, v] of Object.entries(scenario.callbackParams ?? {})) back.searchParams.set(k, v);
  return new Response(null, { status: 302, headers: { location: back.href } });
}

/** Why a token request is refused, in OAuth 2 terms; each fake renders it its own way. */
export type CodeFailure = "invalid_client" | "invalid_grant" | "redirect_uri_mismatch" | "invalid_request" | "pkce_failed";

/**
 * The token endpoint's checks. `auth` lists the client authentication
 * methods the provider accepts. A code works once; a second use fails.
 */
export function redeemCode(
  provider: string,
  request: Request,
  params: URLSearchParams,
  client: FakeClient,
  auth: readonly ("basic" | "post")[],
): { grant: Grant } | { failure: CodeFailure; grant?: Grant } {
  const code = params.get("code");
  const grant = code === null ? undefined : state.grants.get(code);
  const scenario = grant && grant.provider === provider ? grant.scenarioId : undefined;
  state.record({ provider, endpoint: "token", method: request.method, ...(scenario ? { scenario } : {}) });

  const credentials = clientCredentials(request, params, auth);
  if (!credentials || credentials.clientId !== client.clientId || !sameSecret(credentials.clientSecret, client.clientSecret)) {
    return { failure: "invalid_client" };
  }
  if (params.get("grant_type") !== "authorization_code" || code === null) return { failure: "invalid_request" };
  if (!grant || grant.provider !== provider || grant.clientId !== credentials.clientId || grant.expiresAt < Date.now()) {
    return { failure: "invalid_grant" };
  }
  if (grant.used) return { failure: "invalid_grant", grant };
  grant.used = true;
  if (params.get("redirect_uri") !== grant.redirectUri) return { failure: "redirect_uri_mismatch", grant };
  if (grant.codeChallenge !== null) {
    const verifier = params.get("code_verifier");
    const expected = grant.codeChallengeMethod === "S256" ? (verifier === null ? null : s256(verifier)) : verifier;
    if (expected !== grant.codeChallenge) return { failure: "pkce_failed", grant };
  }
  return { grant };
}

function clientCredentials(request: Request, params: URLSearchParams, auth: readonly ("basic" | "post")[]) {
  const header = request.headers.get("authorization");
  if (header?.startsWith("Basic ") && auth.includes("basic")) {
    const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
    const i = decoded.indexOf(":");
    if (i < 0) return undefined;
    const form = (s: string) => decodeURIComponent(s.replaceAll("+", " "));
    return { clientId: form(decoded.slice(0, i)), clientSecret: form(decoded.slice(i + 1)) };
  }
  const clientId = params.get("client_id");
  const clientSecret = params.get("client_secret");
  if (auth.includes("post") && clientId !== null && clientSecret !== null) return { clientId, clientSecret };
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Scopes the provider grants: the scenario's, else what was asked. */
export function grantedScopes(grant: Grant): string[] {
  return grant.scenario.grantedScopes ?? grant.scopes;
}
