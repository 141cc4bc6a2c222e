/**
 * Outbound HTTP for providers: every call is bounded by `timeoutMs`, plain
 * http is allowed only for a provider on localhost, and provider dialects
 * (errors sent with HTTP 200, Facebook's error objects) are translated into
 * standard OAuth 2 error responses before oauth4webapi reads them.
 */
import * as oauth from "oauth4webapi";
import { isLocalHost } from "../config";
import { providerFailure, safeErrorCode, toProviderError, type Stage } from "./failure";

/** Rewrites a provider's non-standard response into a standard one. */
export type Dialect = (response: Response) => Promise<Response>;

/** Options every oauth4webapi call of one provider gets. */
export interface HttpOptions {
  signal: () => AbortSignal;
  [oauth.allowInsecureRequests]?: boolean;
  [oauth.customFetch]?: (url: string, init: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;
}

/**
 * @example
 * const http = httpOptions({ timeoutMs: 5000, issuer: new URL("http://localhost:9000") });
 * await oauth.discoveryRequest(issuer, http);
 */
export function httpOptions({ timeoutMs, issuer, dialect }: { timeoutMs: number; issuer?: URL; dialect?: Dialect }): HttpOptions {
  const options: HttpOptions = { signal: () => AbortSignal.timeout(timeoutMs) };
  // oauth4webapi refuses http:; the only http issuer we accept is a developer's local provider.
  if (issuer?.protocol === "http:" && isLocalHost(issuer.hostname)) options[oauth.allowInsecureRequests] = true;
  if (dialect) {
    options[oauth.customFetch] = async (url, init) => dialect(await fetch(url, init as RequestInit));
  }
  return options;
}

/**
 * Dialect of GitHub and Naver: token errors come back as HTTP 200 with
 * `{ error, error_description }`; re-sent as a 400 so they are OAuth errors.
 *
 * @example
 * httpOptions({ timeoutMs, dialect: errorsWithStatus200 })
 */
export async function errorsWithStatus200(response: Response): Promise<Response> {
  if (response.status !== 200 || !response.headers.get("content-type")?.includes("json")) return response;
  const body: unknown = await response.clone().json().catch(() => undefined);
  if (!body || typeof body !== "object" || "access_token" in body || !("error" in body)) return response;
  return Response.json({ error: safeErrorCode((body as { error: unknown }).error) }, { status: 400 });
}

/**
 * GET a provider API with the access token and return the parsed JSON.
 * `classify(status, body)` lets a provider name its own error shapes; by
 * default 5xx and 429 are outages, any other non-200 is a rejection, and a
 * body that is not JSON (an HTML error page) is an outage.
 *
 * @example
 * const user = await getJson("github", "profile", new URL("https://api.github.com/user"), token, { timeoutMs: 5000 });
 */
export async function getJson(
  provider: string,
  stage: Stage,
  url: URL,
  accessToken: string,
  options: GetJsonOptions,
): Promise<unknown> {
  let response: Response;
  let body: unknown;
  try {
    response = await fetch(url, {
      headers: { accept: "application/json", ...options.headers, authorization: `Bearer ${accessToken}` },
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    body = safeJson(await response.text());
  } catch (error) {
    throw toProviderError(provider, stage, error);
  }
  const special = options.classify?.(response.status, body);
  if (special) throw providerFailure(provider, stage, special.code, special.reason, special.providerError);
  if (response.status >= 500 || response.status === 429) throw providerFailure(provider, stage, "ProviderUnavailable", `http_${response.status}`);
  if (response.status !== 200) throw providerFailure(provider, stage, "OAuthCallback", `http_${response.status}`);
  if (body === undefined) throw providerFailure(provider, stage, "ProviderUnavailable", "not_json");
  return body;
}

/**
 * {@link getJson} for an endpoint answering with a JSON object.
 *
 * @example
 * const me = await getJsonObject("naver", "profile", NAVER_PROFILE, token, { timeoutMs });
 */
export async function getJsonObject(
  provider: string,
  stage: Stage,
  url: URL,
  accessToken: string,
  options: GetJsonOptions,
): Promise<Record<string, unknown>> {
  const body = await getJson(provider, stage, url, accessToken, options);
  if (!isObject(body)) throw providerFailure(provider, stage, "ProviderUnavailable", "not_json_object");
  return body;
}

export interface GetJsonOptions {
  timeoutMs: number;
  headers?: Record<string, string>;
  classify?: (status: number, body: unknown) => ProfileErrorKind | undefined;
}

/**
 * Narrows an unknown JSON value to an object.
 *
 * @example
 * if (isObject(body) && typeof body.id === "string") …
 */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A string member of a JSON object, or null.
 *
 * @example
 * stringOrNull(user, "name") // "Octo Cat" | null
 */
export function stringOrNull(value: Record<string, unknown> | undefined, key: string): string | null {
  const v = value?.[key];
  return typeof v === "string" && v.length > 0 ? v : null;
}

/** A provider-specific verdict on a profile API response. */
export interface ProfileErrorKind {
  code: "ProviderUnavailable" | "OAuthCallback";
  reason: string;
  providerError?: string;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
