/**
 * Shared steps of the provider tests (inside workerd): the configured
 * provider, a fresh authorization request as the sign-in route would store
 * it, the browser's trip through the fake, and error assertions.
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { parseConfig, type Config, type ProviderConfig } from "../../src/config";
import { GatehouseError, type ErrorCode } from "../../src/error";
import { providerFor } from "../../src/providers";
import type { AuthorizationRequest, ProviderOptions, SignInProvider } from "../../src/providers/types";
import { fakeScenario, TENANT_CLIENT, tenantIssuer, visitAuthorize, type FakeProviderName, type FakeScenario } from "../fakes/control";

export const AUTH_URL = "https://auth.example.com";

/** The test worker's configuration, parsed as the worker does. */
export function testConfig(): Config {
  const result = parseConfig(env as unknown as Record<string, unknown>);
  if (!result.ok) throw new Error(`test bindings do not parse: ${JSON.stringify(result.problems)}`);
  return result.config;
}

export const FAST: ProviderOptions = { graphVersion: "v24.0", timeoutMs: 3_000 };

/** A configured built-in provider, e.g. `configured("github")`. */
export function configured(id: string, options: Partial<ProviderOptions> = {}): SignInProvider {
  const entry = testConfig().providers.find((p) => p.id === id);
  if (!entry) throw new Error(`provider ${id} is not configured in test/bindings.ts`);
  return providerFor(entry, { ...FAST, graphVersion: testConfig().facebook.graphVersion, ...options });
}

/** A generic OIDC provider on the fake tenant `tenant` (its own issuer, so its own caches). */
export function tenantProvider(tenant: string, options: Partial<ProviderOptions> = {}): SignInProvider {
  const config: ProviderConfig = {
    id: tenant,
    kind: "oidc",
    name: `Tenant ${tenant}`,
    issuer: new URL(tenantIssuer(tenant)),
    clientId: TENANT_CLIENT.clientId,
    clientSecret: TENANT_CLIENT.clientSecret,
    scopes: [],
  };
  return providerFor(config, { ...FAST, ...options });
}

/** What the sign-in route would generate and keep in KV. */
export function newRequest(provider: SignInProvider, overrides: Partial<AuthorizationRequest> = {}): AuthorizationRequest {
  return {
    state: random(),
    codeVerifier: random() + random(),
    nonce: provider.usesNonce ? random() : null,
    redirectUri: `${AUTH_URL}/auth/callback/${provider.id}`,
    scopes: provider.defaultScopes,
    ...overrides,
  };
}

function random(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** Authorization URL → fake (with a scenario) → callback URL. */
export async function authorizeAt(
  provider: SignInProvider,
  fake: FakeProviderName,
  scenario: FakeScenario = {},
  overrides: Partial<AuthorizationRequest> = {},
) {
  const request = newRequest(provider, overrides);
  const scenarioId = await fakeScenario(fake, scenario);
  const callbackUrl = await visitAuthorize(await provider.authorizationUrl(request), scenarioId);
  return { request, scenarioId, callbackUrl, input: { ...request, callbackUrl } };
}

/** The whole flow: authorize at the fake, then `completeSignIn`. */
export async function signIn(provider: SignInProvider, fake: FakeProviderName, scenario: FakeScenario = {}) {
  const flow = await authorizeAt(provider, fake, scenario);
  return { ...flow, result: await provider.completeSignIn(flow.input) };
}

/**
 * Awaits a rejection and checks it is the GatehouseError `code`, and that
 * nothing secret leaks into its message or extra.
 */
export async function expectFailure(promise: Promise<unknown>, code: ErrorCode, secrets: string[] = []): Promise<GatehouseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "expected a rejection").toBeInstanceOf(GatehouseError);
  const failure = error as GatehouseError;
  expect(failure.code).toBe(code);
  const visible = JSON.stringify({ message: failure.message, extra: failure.extra, cause: String(failure.cause) });
  for (const secret of secrets) expect(visible).not.toContain(secret);
  expect(visible).not.toMatch(/<script|error_description/i);
  return failure;
}
