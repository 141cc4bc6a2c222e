import { defineConfig } from "vitest/config";

/**
 * Node-side tests of the operator scripts (`npm run test:node`): they run
 * `scripts/*.ts` as an operator would, in child processes, against files in
 * throwaway directories. Files end in `.node.ts` so the workerd suite
 * (`npm test`) never picks them up.
 */
export default defineConfig({
  test: {
    include: ["test/node/**/*.node.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
