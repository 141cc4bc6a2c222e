/**
 * The worker's environment in tests. Keys here are throwaway test keys,
 * generated for this suite and used nowhere else.
 */
export const TEST_SIGNING_KEYS = [
  {"kty":"EC","x":"Bo1nsrZf6Xce0Cxx8gz7c6QOcqgDsJwgppJMHYAJSN4","y":"XCBgflH8pMAQ9csTNEGAjBoY4yzuMDYsQTXg_DbB6iU","crv":"P-256","d":"qe4YDx4Qx6G3MiDIPC3AuI3VW58rRvOvM0yDHS2m_OM","kid":"test-key-1","alg":"ES256"},
  {"kty":"EC","x":"tkbtnn4cnRuyzXBTJd5KNqtSqD6l5b3wRLwbdkLDo_k","y":"4yaE4BObZ29v7Zjl-rc-ibPM5j2dXtVmX_NkoRocl5A","crv":"P-256","d":"LNukwE9rxRk2pbZXLQCCupM_fFGmKy1fT492FL77pok","kid":"test-key-2","alg":"ES256"},
];

export const TEST_AUTH_URL = "https://auth.example.com";

/** Values the harness learns at startup (ports of local servers). */
export interface HarnessContext {
  neonFetchEndpoint: string;
  databaseUrl: string;
  /** Issuer URL of the local `oidc-provider`, when the harness started one. */
  oidcIssuer?: string;
}

/** Every binding the worker gets in tests, besides KV and the rate limiter from wrangler.toml. */
export function testBindings(ctx: HarnessContext): Record<string, string> {
  return {
    AUTH_URL: TEST_AUTH_URL,
    // neon-local and http://localhost origins are development-only (src/config.ts).
    GATEHOUSE_DEVELOPMENT: "true",
    DATABASE_URL: ctx.databaseUrl,
    NEON_FETCH_ENDPOINT: ctx.neonFetchEndpoint,
    AUTH_SIGNING_KEYS: JSON.stringify(TEST_SIGNING_KEYS),
    TOKEN_ENCRYPTION_KEY: "2:xVNAx-eW1Wyas7ZEehNnqSVhGauyH8RWeOec8rdWyXo,1:QW3UjBuIF1TXG0hMjgyMFcBRzM10bIwkP0VEWnRaLGA",
    ALLOWED_ORIGINS: "https://app.example.com,http://localhost:5173",
    ALLOWED_REDIRECT_ORIGINS: "https://app.example.com,http://localhost:5173",
    ALLOWED_AUDIENCES: "https://api.example.com,https://other-api.example.com",
    GITHUB_CLIENT_ID: "test-github-client",
    GITHUB_CLIENT_SECRET: "test-github-secret-0123456789",
    GOOGLE_CLIENT_ID: "test-google-client.apps.googleusercontent.com",
    GOOGLE_CLIENT_SECRET: "test-google-secret-0123456789",
    FACEBOOK_CLIENT_ID: "1234567890",
    FACEBOOK_CLIENT_SECRET: "test-facebook-secret-0123456789",
    NAVER_CLIENT_ID: "test-naver-client",
    NAVER_CLIENT_SECRET: "test-naver-secret-0123456789",
    KAKAO_CLIENT_ID: "test-kakao-client",
    KAKAO_CLIENT_SECRET: "test-kakao-secret-0123456789",
    // Secret "test-backend-secret-0123456789"; test/orgs/ adds clients for the orgs it creates.
    AUTH_SERVICE_CLIENTS: JSON.stringify([
      { id: "test-backend", secretHash: "9cadf461939e14b9b5f36427ea32a3d155d51b2402ce98deabad186d1f379053", orgs: ["test-service-org"] },
    ]),
    // Email sign-in through the Resend fake (test/fakes/resend.ts, RESEND_TEST_KEY).
    EMAIL_SIGNIN: "true",
    // Passkeys (test/passkeys/, a software authenticator in test/passkeys/authenticator.ts).
    AUTH_PASSKEYS: "true",
    MAIL_TRANSPORT: "resend",
    MAIL_FROM: "sign-in@example.com",
    MAIL_FROM_NAME: "Example sign-in",
    RESEND_API_KEY: "re_test_0123456789abcdefghij",
    ...(ctx.oidcIssuer
      ? {
          OIDC_PROVIDERS: "local",
          OIDC_LOCAL_NAME: "Local",
          OIDC_LOCAL_ISSUER: ctx.oidcIssuer,
          OIDC_LOCAL_CLIENT_ID: "gatehouse-test",
          OIDC_LOCAL_CLIENT_SECRET: "gatehouse-test-secret-0123456789",
        }
      : {}),
  };
}
