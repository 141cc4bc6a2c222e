/**
 * The surface every sign-in provider file implements, identical across
 * providers (arctic's lesson): the routes never know which provider they
 * talk to. Protocol work is done with oauth4webapi.
 */
import type { ProviderConfig, ProviderKind } from "../config";

/** Who the provider says signed in, mapped to one shape for every provider. */
export interface Profile {
  /** Provider id as configured (`github`, `local`, …). */
  provider: string;
  /** The provider's stable subject id; identity is (provider, subject), never the email. */
  subject: string;
  /** OpenID Connect issuer URL, when the provider is an OIDC issuer. */
  issuer: string | null;
  email: string | null;
  /** True only when the provider asserts verification (Facebook and Naver: always false). */
  emailVerified: boolean;
  name: string | null;
  image: string | null;
}

/** The provider's own tokens, stored encrypted; scopes come from the token response only. */
export interface ProviderTokenSet {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: Date | null;
  scopes: string[];
}

/** What the sign-in route stores in the KV transaction and hands back at the callback. */
export interface AuthorizationRequest {
  state: string;
  codeVerifier: string;
  /** Only for providers that return an id_token. */
  nonce: string | null;
  redirectUri: string;
  scopes: readonly string[];
}

export interface CallbackInput extends AuthorizationRequest {
  /** The full callback URL as received (code, state, iss, error…). */
  callbackUrl: URL;
  /**
   * Awaited after the callback parameters were validated and right before
   * the code is sent to the token endpoint; whatever it throws ends the
   * sign-in unchanged. The callback route claims the state here, so the
   * provider sees each code at most once.
   */
  beforeExchange?: () => Promise<void>;
}

export interface SignInProvider {
  readonly id: string;
  readonly kind: ProviderKind;
  readonly name: string;
  /** Whether the flow carries a nonce and an id_token (OIDC). */
  readonly usesNonce: boolean;
  readonly defaultScopes: readonly string[];
  /** Builds the authorization redirect. No token-endpoint traffic. */
  authorizationUrl(request: AuthorizationRequest): Promise<URL>;
  /**
   * Validates the callback parameters (state, iss per RFC 9207, error=),
   * exchanges the code with the PKCE verifier, validates the id_token where
   * there is one, and fetches the profile. Throws `GatehouseError`
   * (`AccessDenied`, `OAuthCallback`, `StateInvalid`, `ProviderUnavailable`).
   */
  completeSignIn(input: CallbackInput): Promise<{ profile: Profile; tokens: ProviderTokenSet }>;
}

export type ProviderFactory = (config: ProviderConfig, options: ProviderOptions) => SignInProvider;

export interface ProviderOptions {
  /** Facebook Graph API version from configuration, e.g. `v24.0`. */
  graphVersion: string;
  /** Bound for every provider call; a slower provider is ProviderUnavailable. */
  timeoutMs: number;
}
