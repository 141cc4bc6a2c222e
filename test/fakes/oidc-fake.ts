/**
 * A fake OpenID Connect issuer: discovery, JWKS, authorize, token (with a
 * signed id_token) and UserInfo. Google, Kakao and the generic
 * `oidc/<tenant>` issuers are instances with their own URLs and dialects.
 */
import { atHash, issuerKeys, jwks, signIdToken, tamperClaims, type IssuerKeys } from "./id-tokens.ts";
import { authorize, faultResponse, grantedScopes, json, readParams, redeemCode, type CodeFailure, type FakeClient } from "./flow.ts";
import { state, type Grant } from "./state.ts";
import type { FakeUser } from "./types.ts";

export interface OidcFakeOptions {
  provider: string;
  issuer: string;
  endpoints: { discovery: string; authorization: string; token: string; userinfo: string; jwks: string };
  client: FakeClient;
  auth: readonly ("basic" | "post")[];
  alg: "RS256" | "ES256";
  /** Send RFC 9207 `iss` on the callback and advertise it. */
  issInCallback: boolean;
  defaultUser: Required<FakeUser>;
  /** Token endpoint failure in the provider's shape. */
  tokenError: (failure: CodeFailure | string | number) => Response;
  /** Extra members of the token response. */
  tokenExtras?: (grant: Grant) => Record<string, unknown>;
  /** Extra id_token claims (Google's azp, …). */
  claimExtras?: (grant: Grant) => Record<string, unknown>;
  accessTokenPrefix: string;
}

/** @example const google = new OidcFake({ provider: "google", issuer: "https://accounts.google.com", … }); */
export class OidcFake {
  private keys: Promise<IssuerKeys>;

  constructor(readonly options: OidcFakeOptions) {
    this.keys = issuerKeys(options.alg, options.provider.replace(/\W/g, "-"));
  }

  /** The response for a URL this issuer owns, or undefined. */
  async handle(request: Request, url: URL): Promise<Response | undefined> {
    const at = url.origin + url.pathname;
    const e = this.options.endpoints;
    const provider = this.options.provider;
    const faults = state.endpointFaults.get(provider);
    if (at === e.discovery) {
      state.record({ provider, endpoint: "discovery", method: request.method });
      return (await faultResponse(faults?.discovery, () => json({}, 500))) ?? json(this.metadata());
    }
    if (at === e.jwks) {
      state.record({ provider, endpoint: "jwks", method: request.method });
      return (await faultResponse(faults?.jwks, () => json({}, 500))) ?? json(jwks(await this.keys));
    }
    if (at === e.authorization) {
      return authorize({
        provider,
        url,
        client: this.options.client,
        defaultUser: this.options.defaultUser,
        ...(this.options.issInCallback ? { iss: this.options.issuer } : {}),
      });
    }
    if (at === e.token && request.method === "POST") return this.token(request, url);
    if (at === e.userinfo) return this.userinfo(request, url);
    return undefined;
  }

  metadata(): Record<string, unknown> {
    const e = this.options.endpoints;
    return {
      issuer: this.options.issuer,
      authorization_endpoint: e.authorization,
      token_endpoint: e.token,
      userinfo_endpoint: e.userinfo,
      jwks_uri: e.jwks,
      response_types_supported: ["code"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: [this.options.alg],
      token_endpoint_auth_methods_supported: this.options.auth.map((a) => `client_secret_${a}`),
      code_challenge_methods_supported: ["S256"],
      scopes_supported: ["openid", "email", "profile"],
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "email", "email_verified", "name", "picture", "nonce"],
      ...(this.options.issInCallback ? { authorization_response_iss_parameter_supported: true } : {}),
    };
  }

  private async token(request: Request, url: URL): Promise<Response> {
    const o = this.options;
    const result = redeemCode(o.provider, request, await readParams(request, url), o.client, o.auth);
    if ("failure" in result) return o.tokenError(result.failure === "pkce_failed" ? "invalid_grant" : result.failure);
    const grant = result.grant;
    const fault = await faultResponse(grant.scenario.token, o.tokenError);
    if (fault) return fault;

    const scopes = grantedScopes(grant);
    const accessToken = state.issueToken(o.accessTokenPrefix, grant, scopes, 3600);
    const now = Math.floor(Date.now() / 1000);
    const script = grant.scenario.idToken ?? {};
    const user = grant.user;
    const claims = tamperClaims(
      {
        iss: o.issuer,
        aud: o.client.clientId,
        sub: user.id,
        iat: now + (script.iatOffset ?? 0),
        exp: now + (script.expOffset ?? 3600),
        ...(grant.nonce !== null ? { nonce: grant.nonce } : {}),
        at_hash: atHash(accessToken),
        ...(user.email !== null ? { email: user.email, email_verified: user.emailVerified } : {}),
        ...(user.name !== null ? { name: user.name } : {}),
        ...(user.picture !== null ? { picture: user.picture } : {}),
        ...o.claimExtras?.(grant),
        ...script.claims,
      },
      script.tamper,
      now,
    );
    const idToken = await signIdToken(await this.keys, claims, script.tamper, o.client.clientSecret);
    return json({
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: 3599,
      scope: scopes.join(" "),
      id_token: idToken,
      ...o.tokenExtras?.(grant),
    });
  }

  private async userinfo(request: Request, url: URL): Promise<Response> {
    const issued = state.bearer(request, url);
    state.record({ provider: this.options.provider, endpoint: "userinfo", method: request.method, ...(issued ? { scenario: issued.grant.scenarioId } : {}) });
    const invalid = () =>
      json({ error: "invalid_token", error_description: "Invalid Credentials" }, 401, { "www-authenticate": 'Bearer error="invalid_token"' });
    if (!issued) return invalid();
    const fault = await faultResponse(issued.grant.scenario.profile, invalid);
    if (fault) return fault;
    const user = issued.grant.user;
    return json({
      sub: issued.grant.scenario.userinfoSub ?? user.id,
      ...(user.email !== null ? { email: user.email, email_verified: user.emailVerified } : {}),
      ...(user.name !== null ? { name: user.name, preferred_username: user.login } : {}),
      ...(user.picture !== null ? { picture: user.picture } : {}),
    });
  }
}
