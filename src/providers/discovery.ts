/**
 * OpenID Connect discovery, cached per isolate and keyed by issuer URL: a
 * sign-in must not cost a metadata round trip. The issuer's JWKS cache lives
 * next to its metadata (oauth4webapi fills it and keeps it 5 minutes).
 */
import * as oauth from "oauth4webapi";
import { providerFailure, toProviderError } from "./failure";
import type { HttpOptions } from "./http";

/** How long discovered metadata is reused before it is fetched again. */
export const DISCOVERY_TTL_MS = 10 * 60 * 1000;

/** An issuer's metadata and the JWKS cache oauth4webapi reads and refills. */
export interface DiscoveredIssuer {
  as: oauth.AuthorizationServer;
  /** Mutated by oauth4webapi when it downloads the JWKS; cleared by `verifyIdToken` to refetch. */
  jwks: { jwks?: oauth.JWKS; uat?: number };
}

/**
 * Finished lookups only, keyed by issuer URL. An in-flight request is never
 * shared between requests: in workerd a promise driven by one request's I/O
 * may never settle for another request once the first has answered, so
 * concurrent cold sign-ins each fetch once instead.
 */
const cache = new Map<string, { expiresAt: number; issuer: DiscoveredIssuer }>();

/**
 * The issuer's metadata, fetched at most once per TTL per isolate (a
 * failure is not cached).
 *
 * @example
 * const { as } = await discover("google", new URL("https://accounts.google.com"), http);
 */
export async function discover(provider: string, issuer: URL, http: HttpOptions): Promise<DiscoveredIssuer> {
  const key = issuer.href;
  const hit = cache.get(key);
  if (hit && hit.expiresAt > Date.now()) return hit.issuer;
  const discovered = await fetchMetadata(provider, issuer, http);
  cache.set(key, { expiresAt: Date.now() + DISCOVERY_TTL_MS, issuer: discovered });
  return discovered;
}

async function fetchMetadata(provider: string, issuer: URL, http: HttpOptions): Promise<DiscoveredIssuer> {
  let as: oauth.AuthorizationServer;
  try {
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, http));
  } catch (error) {
    throw toProviderError(provider, "discovery", error);
  }
  for (const member of ["authorization_endpoint", "token_endpoint", "jwks_uri"] as const) {
    if (typeof as[member] !== "string") throw providerFailure(provider, "discovery", "ProviderUnavailable", `missing_${member}`);
  }
  return { as, jwks: {} };
}
