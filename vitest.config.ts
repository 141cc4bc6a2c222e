import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { testBindings } from "./test/bindings.ts";
import { outboundService } from "./test/outbound.ts";

/**
 * Tests run inside workerd (vitest-plugin). test/global-setup.ts starts
 * neon-local in Node first; its address reaches the worker as bindings, so the
 * worker uses the real Neon HTTP driver against it.
 */
/**
 * The same module aliases as wrangler.toml's [alias] (the X.509 stand-ins for
 * passkeys, src/passkeys/stubs/), so the worker under test runs exactly the
 * deployed code; test/passkeys/attestation.test.ts checks they are in effect.
 */
const stub = (file: string) => fileURLToPath(new URL(`./src/passkeys/stubs/${file}`, import.meta.url));
export const passkeyAliases = {
  "@peculiar/x509": stub("peculiar-x509.ts"),
  "@peculiar/asn1-android": stub("peculiar-asn1-android.ts"),
  "reflect-metadata": stub("empty.ts"),
};

export default defineConfig({
  resolve: { alias: passkeyAliases },
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      ...(existsSync("./src/index.ts") ? { main: "./src/index.ts" } : {}),
      miniflare: {
        // Provider hostnames → test/fakes; localhost passes through.
        outboundService,
        bindings: {
          ...testBindings({
            neonFetchEndpoint: inject("neonFetchEndpoint"),
            databaseUrl: inject("databaseUrl"),
            oidcIssuer: inject("oidcIssuer"),
          }),
          NEON_LOCAL_URL: inject("neonLocalUrl"),
          DATABASE_BACKEND: inject("databaseBackend"),
          MAIL_CATCHER_SMTP_PORT: String(inject("mailSmtpPort")),
          MAIL_CATCHER_URL: inject("mailWebUrl"),
        },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/global-setup.ts"],
    // A hang detector, not a speed limit: real-Postgres concurrency tests on a
    // loaded 2-core machine can take seconds; no test asserts on time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The worker's one-line-per-request log (src/observability/request-log.ts) would
    // bury the output; info-level request lines are dropped, everything else is shown.
    onConsoleLog: (log) => (log.startsWith('{"level":"info","event":"request",') ? false : undefined),
  },
});
