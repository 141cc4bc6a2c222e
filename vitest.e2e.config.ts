import { defineConfig } from "vitest/config";

/**
 * Browser end-to-end tests (`npm run test:e2e`): Node-side vitest driving
 * Debian's Chromium through playwright-core against the real local stack
 * (scripts/dev.ts on free ports and a throwaway data dir). Files end in
 * `.e2e.ts` so the workerd suite (`npm test`) never picks them up.
 */
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.ts"],
    globalSetup: ["./test/e2e/global-setup.ts"],
    // One browser, one stack: files run one after the other.
    fileParallelism: false,
    testTimeout: 45_000,
    hookTimeout: 30_000,
  },
});
