/**
 * Turns whatever went wrong while talking to a provider into one
 * `GatehouseError` with a stable code. The provider's own words
 * (`error_description`, HTML, token endpoint bodies) never reach a message,
 * a log line or a page: only a sanitized error code does.
 */
import * as oauth from "oauth4webapi";
import { GatehouseError, type ErrorCode } from "../error";
import { log } from "../lib/log";

/** Where in the flow a failure happened; part of the log line, never of the response. */
export type Stage = "discovery" | "callback" | "token" | "id_token" | "userinfo" | "profile";

/**
 * The cause attached to every provider `GatehouseError`: names the stage and
 * a safe reason code, never the original error (its `cause` can hold a token
 * endpoint body with tokens in it).
 *
 * @example
 * new ProviderProtocolError("github", "token", "http_503")
 */
export class ProviderProtocolError extends Error {
  constructor(
    readonly provider: string,
    readonly stage: Stage,
    readonly reason: string,
  ) {
    super(`${provider} ${stage}: ${reason}`);
    this.name = "ProviderProtocolError";
  }
}

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  AccessDenied: "Sign-in was cancelled at the provider.",
  OAuthCallback: "The sign-in provider's response could not be verified. Please try again.",
  ProviderUnavailable: "The sign-in provider did not respond correctly. Please try again in a moment.",
  StateInvalid: "The sign-in link expired or was already used. Please start again.",
  Internal: "Something went wrong while signing in.",
};

/**
 * Builds the error for a failure at `stage`; `providerError` is the
 * provider's error code (sanitized), shown as `extra.providerError`.
 *
 * @example
 * throw providerFailure("github", "token", "OAuthCallback", "bad_verification_code", "bad_verification_code");
 */
export function providerFailure(
  provider: string,
  stage: Stage,
  code: ErrorCode,
  reason: string,
  providerError?: string,
): GatehouseError {
  log(code === "ProviderUnavailable" ? "warn" : "info", "provider_sign_in_failed", { provider, stage, code, reason });
  return new GatehouseError(code, MESSAGES[code] ?? "Sign-in failed.", {
    extra: providerError === undefined ? { provider } : { provider, providerError },
    cause: new ProviderProtocolError(provider, stage, reason),
  });
}

/**
 * Keeps a provider's error code only when it looks like one (`access_denied`,
 * `bad_verification_code`, `KOE320`); anything else becomes `unknown`.
 *
 * @example
 * safeErrorCode("access_denied") // "access_denied"
 * safeErrorCode("<script>")      // "unknown"
 */
export function safeErrorCode(value: unknown): string {
  return typeof value === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value : "unknown";
}

/** True for the failure of a bounded fetch: timeout, abort or a network error. */
function isTransportFailure(error: unknown): boolean {
  if (error instanceof DOMException) return error.name === "TimeoutError" || error.name === "AbortError";
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError") return true;
  // fetch rejects with a plain TypeError on network failure; oauth4webapi's own TypeErrors carry a code.
  return error instanceof TypeError && (error as { code?: unknown }).code === undefined;
}

function statusOf(error: unknown): number | undefined {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Response ? cause.status : undefined;
}

/**
 * Classifies an error thrown by oauth4webapi or fetch at `stage`.
 *
 * @example
 * try { … } catch (error) { throw toProviderError("google", "token", error); }
 */
export function toProviderError(provider: string, stage: Stage, error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  const fail = (code: ErrorCode, reason: string, providerError?: string) =>
    providerFailure(provider, stage, code, reason, providerError);
  // Metadata we cannot read is an outage of the provider, whatever its shape.
  const unreadable = stage === "discovery" ? "ProviderUnavailable" : "OAuthCallback";

  if (isTransportFailure(error)) return fail("ProviderUnavailable", "unreachable_or_timeout");
  if (error instanceof oauth.AuthorizationResponseError) {
    const code = safeErrorCode(error.error);
    return fail(code === "access_denied" ? "AccessDenied" : "OAuthCallback", `authorization_${code}`, code);
  }
  if (error instanceof oauth.ResponseBodyError) {
    if (error.status >= 500 || error.status === 429) return fail("ProviderUnavailable", `http_${error.status}`);
    const code = safeErrorCode(error.error);
    return fail("OAuthCallback", `error_${code}`, code);
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    return error.status >= 500 ? fail("ProviderUnavailable", `http_${error.status}`) : fail("OAuthCallback", `challenge_${error.status}`);
  }
  if (error instanceof oauth.OperationProcessingError) {
    switch (error.code) {
      case oauth.RESPONSE_IS_NOT_CONFORM: {
        const status = statusOf(error);
        if (status === undefined || status >= 500 || status === 429 || stage === "discovery") {
          return fail("ProviderUnavailable", `http_${status ?? "unexpected"}`);
        }
        return fail("OAuthCallback", `http_${status}`);
      }
      case oauth.RESPONSE_IS_NOT_JSON:
      case oauth.PARSE_ERROR:
        return fail("ProviderUnavailable", "not_json");
      default:
        return fail(unreadable, safeErrorCode(error.code));
    }
  }
  if (error instanceof oauth.UnsupportedOperationError) return fail(unreadable, "unsupported");
  if (error instanceof TypeError) return fail(unreadable, safeErrorCode((error as { code?: unknown }).code));
  return fail("Internal", "unexpected");
}
