/**
 * The tests' side of the provider fakes (runs inside workerd; plain fetch to
 * the reserved host `fakes.test`, which test/outbound.ts hands to the fakes).
 *
 * @example
 * const scenario = await fakeScenario("github", { user: { id: "42" } });
 * const callback = await visitAuthorize(await provider.authorizationUrl(request), scenario);
 * const { profile } = await provider.completeSignIn({ ...request, callbackUrl: callback });
 */
import type { FakeCall, FakeEndpointFaults, FakeProviderName, FakeScenario } from "./types.ts";

export type { FakeCall, FakeEndpointFaults, FakeFacebookPage, FakeProviderName, FakeScenario, Fault, FakeUser, IdTokenTamper } from "./types.ts";

const CONTROL = "http://fakes.test";

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${CONTROL}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`fakes ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

/**
 * Registers a flow script and returns its id, to pass to {@link visitAuthorize}.
 * With `next: true` it is also used by the provider's next authorize request
 * that names no scenario (for tests that cannot touch the authorize URL).
 */
export async function fakeScenario(provider: FakeProviderName, scenario: FakeScenario = {}, options: { next?: boolean } = {}): Promise<string> {
  const res = await call("POST", `/__control/${provider}${options.next ? "?next=1" : ""}`, scenario);
  return ((await res.json()) as { scenario: string }).scenario;
}

/** Faults of discovery/JWKS for every caller: use only with your own `oidc/<tenant>`. */
export async function setEndpointFaults(provider: FakeProviderName, faults: FakeEndpointFaults | null): Promise<void> {
  await call(faults === null ? "DELETE" : "POST", `/__control/${provider}/faults`, faults ?? undefined);
}

/**
 * Plays the browser at the provider: GETs the authorization URL (with
 * `fake_scenario`), and returns the URL the provider redirects back to.
 * Throws when the provider does not redirect (bad client_id, redirect_uri…).
 */
export async function visitAuthorize(authorizationUrl: URL | string, scenario?: string): Promise<URL> {
  const url = new URL(authorizationUrl);
  if (scenario !== undefined) url.searchParams.set("fake_scenario", scenario);
  const res = await fetch(url, { redirect: "manual" });
  const location = res.headers.get("location");
  if (res.status !== 302 || location === null) throw new Error(`authorize did not redirect: HTTP ${res.status} ${await res.text()}`);
  return new URL(location);
}

/** Calls the fakes received, filtered. */
export async function fakeCalls(filter: { provider?: string; endpoint?: FakeCall["endpoint"]; scenario?: string; since?: number } = {}): Promise<FakeCall[]> {
  const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
  return (await call("GET", `/__calls?${q}`)).json();
}

/** The sequence number of the latest call, for `fakeCalls({ since })`. */
export async function lastCallSeq(): Promise<number> {
  const calls = await fakeCalls();
  return calls.at(-1)?.seq ?? 0;
}

/** Forgets scenarios, codes, tokens, faults and the call log. Affects every test file: prefer scenario ids. */
export async function resetFakes(): Promise<void> {
  await call("POST", "/__reset");
}

/**
 * The Page token the Facebook fake hands out for `pageId` in a scenario's
 * flow, when `/me/accounts` was called with a LONG-LIVED user token (with
 * the short-lived one it would be `EAAPS-…`, which real Facebook makes expire
 * within hours).
 *
 * @example
 * expect(body.accessToken).toBe(fakePageToken(flow.scenario, "1001"));
 */
export function fakePageToken(scenario: string, pageId: string): string {
  return `EAAPL-${scenario}-${pageId}`;
}

/** The issuer URL of a generic fake OpenID tenant. */
export function tenantIssuer(tenant: string): string {
  return `https://fakes.test/oidc/${tenant}`;
}

/** The client every tenant accepts. */
export const TENANT_CLIENT = { clientId: "test-oidc-client", clientSecret: "test-oidc-secret-0123456789" } as const;
