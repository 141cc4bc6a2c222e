/**
 * `gatehouse/verify`: checks a gatehouse access token in any backend (Node,
 * Bun, Deno, Workers) with nothing but the issuer's public JWKS URL, so no
 * secret is shared with backends and none can drift (F6). Issuer and audience
 * are required (F8); clocks may disagree by 60 s either way (F7).
 *
 * This file imports jose and nothing else: backends import it directly.
 *
 * @example
 * import { verifyAccessToken } from "gatehouse/verify";
 * const result = await verifyAccessToken(token, {
 *   issuer: "https://auth.example.com",
 *   audience: "https://api.example.com",
 *   jwksUrl: "https://auth.example.com/.well-known/jwks.json",
 * });
 * if (!result.ok) return new Response(result.error, { status: 401 });
 * result.claims.sub; // the user id
 */
import {
  base64url,
  createRemoteJWKSet,
  customFetch,
  jwtVerify,
  type FetchImplementation,
  type JWSHeaderParameters,
  type FlattenedJWSInput,
  type RemoteJWKSet,
} from "jose";
import { JOSEAlgNotAllowed, JWKSMultipleMatchingKeys, JWKSNoMatchingKey, JWSSignatureVerificationFailed, JWTClaimValidationFailed, JWTExpired } from "jose/errors";

/** The `typ` header of gatehouse access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = "at+jwt";
/** Allowed clock difference between issuer and backend, both ways (F7). */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 60;
/**
 * The access-token lifetime gatehouse issues by default (its
 * ACCESS_TOKEN_TTL_SECONDS default): a token whose `iat` is older is refused
 * as `expired`, whatever its `exp` says. A deployment that changes
 * ACCESS_TOKEN_TTL_SECONDS passes the same value as `maxTokenAgeSeconds`.
 */
export const DEFAULT_MAX_TOKEN_AGE_SECONDS = 600;
/** Far above any token gatehouse mints (~700 bytes); bigger input is refused before parsing. */
export const MAX_TOKEN_LENGTH = 8192;

export interface VerifyAccessTokenOptions {
  /** gatehouse's AUTH_URL origin, e.g. `https://auth.example.com`. */
  issuer: string;
  /** This backend's audience; must be listed in gatehouse's ALLOWED_AUDIENCES. */
  audience: string;
  /** `${issuer}/.well-known/jwks.json`. Fetched once, cached, refetched for an unknown `kid`. */
  jwksUrl: string | URL;
  /** Seconds of clock skew tolerated on `exp`, `nbf` and `iat`; default 60. */
  clockToleranceSeconds?: number;
  /**
   * Oldest accepted `iat`, in seconds: set it to gatehouse's
   * ACCESS_TOKEN_TTL_SECONDS. Default 600, the lifetime gatehouse issues by default.
   */
  maxTokenAgeSeconds?: number;
  /** A fetch to use for the JWKS (tests, proxies, service bindings). */
  fetch?: FetchImplementation;
}

/** The claims of a verified access token. */
export interface AccessTokenClaims {
  iss: string;
  /** The user id. */
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  /** The browser session the token was minted from. */
  sid?: string;
  /** Space-separated, e.g. `openid profile`. */
  scope?: string;
  /** The web origin that requested the token. */
  client_id?: string;
  jti?: string;
  /** The organization id, when the token was requested with `org`. */
  org?: string;
  /** The user's roles in `org`: `owner`, `admin` or `member`. */
  roles?: string[];
  /** RFC 8693 actor: an operator acting as `sub` (impersonation, docs/operators.md "Admin"); absent otherwise. */
  act?: { sub: string };
  [claim: string]: unknown;
}

export type VerifyAccessTokenError =
  /** Not a compact JWS of sane size and shape, duplicate JSON keys, or an unexpected header. */
  | "malformed"
  | "expired"
  /** The signature does not verify, or the algorithm is not ES256. */
  | "invalid_signature"
  /** No published key has the token's `kid`. */
  | "unknown_key"
  /** Wrong `iss`, `aud` or `typ`, a missing claim, or `iat`/`nbf` in the future beyond the tolerance. */
  | "invalid_claims"
  /** The JWKS could not be fetched or parsed: a configuration or network problem, not the caller's fault. */
  | "jwks_unavailable";

export type VerifyAccessTokenResult =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; error: VerifyAccessTokenError };

const defaultFetchSets = new Map<string, RemoteJWKSet>();
const customFetchSets = new WeakMap<FetchImplementation, Map<string, RemoteJWKSet>>();

/** The cached remote key set for a JWKS URL (one per URL and fetch implementation). */
function remoteKeySet(jwksUrl: URL, fetchImpl: FetchImplementation | undefined): RemoteJWKSet {
  let sets = defaultFetchSets;
  if (fetchImpl) {
    sets = customFetchSets.get(fetchImpl) ?? new Map();
    customFetchSets.set(fetchImpl, sets);
  }
  let set = sets.get(jwksUrl.href);
  if (!set) {
    set = createRemoteJWKSet(jwksUrl, fetchImpl ? { [customFetch]: fetchImpl } : {});
    sets.set(jwksUrl.href, set);
  }
  return set;
}

/** Raised inside the key resolver so a JWKS outage is not reported as a bad token. */
class JwksUnavailable extends Error {
  override readonly name = "JwksUnavailable";
}

/**
 * Verifies a gatehouse access token. Never throws for a bad token: the result
 * says why it was refused, so a backend can answer 401 (or 503 when the
 * JWKS is unavailable) without parsing error messages.
 *
 * @example
 * const r = await verifyAccessToken(bearer, { issuer, audience, jwksUrl });
 * if (r.ok) console.log(r.claims.sub, r.claims.scope);
 */
export async function verifyAccessToken(token: unknown, options: VerifyAccessTokenOptions): Promise<VerifyAccessTokenResult> {
  if (jwtShapeProblem(token, MAX_TOKEN_LENGTH) !== null) return { ok: false, error: "malformed" };
  const keySet = remoteKeySet(new URL(options.jwksUrl), options.fetch);
  const getKey = async (header: JWSHeaderParameters, input: FlattenedJWSInput) => {
    try {
      return await keySet(header, input);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === "ERR_JWKS_NO_MATCHING_KEY" || code === "ERR_JWKS_MULTIPLE_MATCHING_KEYS") throw error;
      throw new JwksUnavailable("the JWKS could not be loaded", { cause: error });
    }
  };
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  try {
    const { payload } = await jwtVerify(token as string, getKey, {
      algorithms: ["ES256"],
      typ: ACCESS_TOKEN_TYPE,
      issuer: options.issuer,
      audience: options.audience,
      requiredClaims: ["sub", "exp", "iat"],
      clockTolerance: tolerance,
      maxTokenAge: options.maxTokenAgeSeconds ?? DEFAULT_MAX_TOKEN_AGE_SECONDS,
    });
    // `sub` must name someone; `sid`, when present, must name a session.
    if (typeof payload.sub !== "string" || payload.sub === "") return { ok: false, error: "invalid_claims" };
    if (payload.sid !== undefined && (typeof payload.sid !== "string" || payload.sid === "")) return { ok: false, error: "invalid_claims" };
    return { ok: true, claims: payload as AccessTokenClaims };
  } catch (error) {
    return { ok: false, error: classifyJoseError(error) };
  }
}

function classifyJoseError(error: unknown): VerifyAccessTokenError {
  if (error instanceof JwksUnavailable) return "jwks_unavailable";
  // Also raised for an `iat` older than maxTokenAge: too old is expired.
  if (error instanceof JWTExpired) return "expired";
  if (error instanceof JWTClaimValidationFailed) return "invalid_claims";
  if (error instanceof JWKSNoMatchingKey) return "unknown_key";
  if (error instanceof JWSSignatureVerificationFailed || error instanceof JOSEAlgNotAllowed) return "invalid_signature";
  if (error instanceof JWKSMultipleMatchingKeys) return "invalid_signature";
  return "malformed";
}

/**
 * Why `token` is not a plausible compact JWS, or `null`. Checked before any
 * cryptography: at most `maxLength` characters, exactly three base64url
 * parts, and a header and payload that are JSON objects without duplicate
 * keys (parsers disagree on which duplicate wins, so none is accepted).
 *
 * @example
 * jwtShapeProblem("a.b", 8192); // "parts"
 */
export function jwtShapeProblem(token: unknown, maxLength: number): "type" | "length" | "parts" | "encoding" | "json" | "duplicate_key" | null {
  if (typeof token !== "string") return "type";
  if (token.length === 0 || token.length > maxLength) return "length";
  const parts = token.split(".");
  if (parts.length !== 3) return "parts";
  if (!parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return "encoding";
  for (const part of parts.slice(0, 2)) {
    let json: string;
    try {
      json = STRICT_UTF8.decode(base64url.decode(part));
    } catch {
      return "encoding";
    }
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      return "json";
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) return "json";
    if (hasDuplicateKeys(json)) return "duplicate_key";
  }
  return null;
}

/** Refuses invalid UTF-8 instead of replacing it; stateless between calls, so one instance serves all. */
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Whether any object in `json` (already valid JSON) repeats a key, compared after unescaping. */
function hasDuplicateKeys(json: string): boolean {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (ch === '"') {
      let end = i + 1;
      let escaped = false;
      while (json[end] !== '"') {
        if (json[end] === "\\") escaped = true;
        end += json[end] === "\\" ? 2 : 1;
      }
      const keys = stack.at(-1);
      if (expectKey && keys) {
        // Only a key with an escape needs unescaping to compare ("\u0073ub" is "sub").
        const key = escaped ? (JSON.parse(json.slice(i, end + 1)) as string) : json.slice(i + 1, end);
        if (keys.has(key)) return true;
        keys.add(key);
      }
      expectKey = false;
      i = end;
    } else if (ch === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === "[") {
      stack.push(null);
      expectKey = false;
    } else if (ch === "}" || ch === "]") {
      stack.pop();
      expectKey = false;
    } else if (ch === ",") {
      expectKey = stack.at(-1) instanceof Set;
    }
  }
  return false;
}

// The resource-server kit (RFC 9728 metadata, 401/403 challenges, audience and scope checks).
export {
  PROTECTED_RESOURCE_WELL_KNOWN,
  protectedResource,
  protectedResourceMetadataUrl,
  type ProtectedResource,
  type ProtectedResourceOptions,
  type ResourceAuthResult,
  type ResourceRefusal,
} from "./verify-resource";
