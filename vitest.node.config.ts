import { defineConfig } from "vitest/config";

/**
 * Node-side tests (`npm run test:node`): the operator scripts, run as an
 * operator would in child processes against throwaway directories, and
 * `gatehouse/verify` as plain Node imports it. Files end in `.node.ts` so the workerd suite
 * (`npm test`) never picks them up.
 */
export default defineConfig({
  test: {
    include: ["test/node/**/*.node.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
