/**
 * The provider registry: which file implements which kind, and the
 * providers this deployment has enabled (from the parsed configuration).
 */
import type { Config, ProviderConfig, ProviderKind } from "../config";
import { createFacebook } from "./facebook";
import { createGitHub } from "./github";
import { createGoogle } from "./google";
import { createKakao } from "./kakao";
import { createNaver } from "./naver";
import { createOidc } from "./oidc";
import type { ProviderFactory, ProviderOptions, SignInProvider } from "./types";

export type { Profile, ProviderTokenSet, AuthorizationRequest, CallbackInput, SignInProvider, ProviderOptions } from "./types";

/** Upper bound for one provider HTTP call unless the caller says otherwise. */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 8_000;

const FACTORIES: Record<ProviderKind, ProviderFactory> = {
  github: createGitHub,
  google: createGoogle,
  facebook: createFacebook,
  naver: createNaver,
  kakao: createKakao,
  oidc: createOidc,
};

/**
 * The sign-in provider for one configured provider.
 *
 * @example
 * const github = providerFor(config.providers[0], { graphVersion: "v24.0", timeoutMs: 5000 });
 */
export function providerFor(config: ProviderConfig, options: ProviderOptions): SignInProvider {
  return FACTORIES[config.kind](config, options);
}

/**
 * Options from the configuration (the Graph API version) and the default timeout.
 *
 * @example
 * providerOptions(config) // { graphVersion: "v24.0", timeoutMs: 8000 }
 */
export function providerOptions(config: Config, timeoutMs = DEFAULT_PROVIDER_TIMEOUT_MS): ProviderOptions {
  return { graphVersion: config.facebook.graphVersion, timeoutMs };
}

/**
 * Every provider this deployment enabled, in configuration order.
 *
 * @example
 * enabledProviders(config).map((p) => p.id) // ["github", "google", "local"]
 */
export function enabledProviders(config: Config, options: ProviderOptions = providerOptions(config)): SignInProvider[] {
  return config.providers.map((p) => providerFor(p, options));
}

/**
 * The enabled provider with this route id, or null.
 *
 * @example
 * const provider = findProvider(config, c.req.param("provider"));
 * if (!provider) throw new GatehouseError("NotFound", "Unknown sign-in provider.");
 */
export function findProvider(config: Config, id: string, options: ProviderOptions = providerOptions(config)): SignInProvider | null {
  const entry = config.providers.find((p) => p.id === id);
  return entry ? providerFor(entry, options) : null;
}
