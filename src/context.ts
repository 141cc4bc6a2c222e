/** The Hono environment shared by every route: bindings and per-request values. */
import type { Config } from "./config";
import type { Database } from "./db/client";

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
  };
}
