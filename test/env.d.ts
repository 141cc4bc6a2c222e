/** Values test/global-setup.ts provides to vitest.config.ts and tests (via inject). */
declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of neon-local (GET /__stats, POST /__faults, …). */
    neonLocalUrl: string;
    /** neon-local's fetch endpoint: neonLocalUrl + "/sql". */
    neonFetchEndpoint: string;
    /** Connection string for neon(); placeholder credentials. */
    databaseUrl: string;
    /** "pg" when TEST_DATABASE_URL is set (real Postgres), else "pglite". */
    databaseBackend: "pg" | "pglite";
    /** Issuer URL of the local oidc-provider started by global-setup. */
    oidcIssuer: string;
    /** The Postgres session TimeZone of every neon-local connection (never UTC: F11). */
    pgTimeZone: string;
    /** TZ of the Node-side processes (neon-local, the local OpenID provider). */
    nodeTimeZone: string;
    /** `[triggers] crons` of wrangler.toml, read with wrangler's own parser. */
    wranglerCrons: string[];
    /** SMTP port of the mail catcher (maildev) started by global-setup. */
    mailSmtpPort: number;
    /** Web UI and REST API of the mail catcher, e.g. http://127.0.0.1:40123. */
    mailWebUrl: string;
  }
}

/** Bindings the harness adds on top of test/bindings.ts. */
declare global {
  namespace Cloudflare {
    interface Env {
      /** Set by test/bindings.ts; deployments set it in wrangler.toml [vars] (docs/deploy.md). */
      AUTH_URL: string;
      NEON_LOCAL_URL: string;
      DATABASE_BACKEND: "pg" | "pglite";
      NEON_FETCH_ENDPOINT: string;
      DATABASE_URL: string;
      /** The mail catcher's SMTP port and web URL (test/global-setup.ts). */
      MAIL_CATCHER_SMTP_PORT: string;
      MAIL_CATCHER_URL: string;
    }
  }
}

export {};
