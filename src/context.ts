/** The Hono environment shared by every route: bindings and per-request values. */
import type { Config } from "./config";
import type { Database } from "./db/client";
import type { ErrorCode } from "./error";
import type { Language, Messages } from "./i18n";
import type { RequestContext } from "./lib/request-context";
import type { SendEmailBinding } from "./mail/cloudflare";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Parsed once per request by the config middleware; the only view of `env` past `app.ts`. */
    config: Readonly<Config>;
    /** Created lazily: routes that never touch the database never build a client. */
    db: () => Promise<Database>;
    /** The KV namespace; only functions in `kv/` call its methods. Key prefixes: docs/kv.md. */
    kv: KVNamespace;
    /** Per-client-IP limiter binding, used by `middleware/rate-limit.ts`. */
    rateLimiter: RateLimit;
    /** Per-client-IP limiter for refresh-token checks (each a database round trip). */
    refreshRateLimiter: RateLimit;
    /** Per-address and per-client-IP limiter for sending sign-in emails (routes/email.ts). */
    emailRateLimiter: RateLimit;
    /** The Cloudflare `send_email` binding, if declared (MAIL_TRANSPORT=cloudflare). */
    sendEmail: SendEmailBinding | undefined;
    /** The request's language (`?lang=`, the `__Host-gh_lang` cookie, Accept-Language) and its texts. */
    lang: Language;
    t: Messages;
    /** Request id, client address, User-Agent, country and ASN (`lib/request-context.ts`): audit rows and log lines. */
    request: RequestContext;
    /** The Analytics Engine binding for counters (`observability/metrics.ts`); absent: counters are no-ops. */
    analytics: AnalyticsEngineDataset | undefined;
    /** The GatehouseError code `onError` rendered, for the request's log line. */
    errorCode: ErrorCode | undefined;
  };
}
