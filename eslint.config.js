// Lint: type-aware rules that guard against the failure catalog, chiefly F9
// (a nonce written fire-and-forget): every promise must be awaited or handled,
// `void` is no escape, and request code never hands work to waitUntil (a
// write there cannot fail the answer; only the cron entry in src/index.ts may).
import tseslint from "typescript-eslint";

const processEnv = { selector: "MemberExpression[object.name='process'][property.name='env']", message: "Only config.ts reads configuration; pass it down." };
const noWaitUntil = [
  {
    selector: "MemberExpression[property.name='waitUntil']",
    message: "F9: must-succeed writes (KV, database) are awaited before answering; work in waitUntil cannot fail the request. Only src/index.ts (the cron) uses waitUntil.",
  },
  {
    selector: "ImportSpecifier[imported.name='waitUntil']",
    message: "F9: must-succeed writes (KV, database) are awaited before answering; work in waitUntil cannot fail the request.",
  },
];

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", ".wrangler/", ".data/", "src/worker-configuration.d.ts", "test-results/", "examples/**/dist/"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parserOptions: {
        project: ["./tsconfig.json", "./scripts/tsconfig.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // ignoreVoid: false — `void kv.put(…)` is a fire-and-forget write (F9).
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: false }],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": ["error", processEnv, ...noWaitUntil],
    },
  },
  {
    // The Worker entry hands the cron's housekeeping to waitUntil (a scheduled event has no answer to fail).
    files: ["src/index.ts"],
    rules: { "no-restricted-syntax": ["error", processEnv] },
  },
  {
    // Node-side tools legitimately read process.env.
    files: ["scripts/**", "test/global-setup.ts", "test/e2e/**", "test/node/**", "vitest.config.ts", "vitest.e2e.config.ts", "vitest.node.config.ts", "drizzle.config.ts", "examples/**", "test/fakes/**", "test/outbound.ts"],
    rules: { "no-restricted-syntax": "off" },
  },
  // Layering rules from docs/architecture.md: only src/db/ imports drizzle,
  // only src/tokens/ (and the standalone src/verify.ts) imports jose.
  ...layering(),
);

function layering() {
  const drizzle = { group: ["drizzle-orm", "drizzle-orm/*"], message: "Only src/db/ imports drizzle." };
  const jose = { group: ["jose"], message: "Only src/tokens/ imports jose." };
  const upward = {
    group: ["../config", "../pages/*", "../routes/*", "../db/*", "../kv/*"],
    message: "src/lib/ is pure: it imports nothing from config, pages, routes, db or kv.",
  };
  // hono/tiny (PatternRouter) keeps the Smart/RegExp/Trie routers out of the bundle; one `Hono` from "hono" brings them back.
  const honoTiny = { name: "hono", importNames: ["Hono"], message: 'Import Hono from "hono/tiny" (bundle budget, docs/benchmarks.md).' };
  const rule = (patterns, paths = [honoTiny]) => ({
    "@typescript-eslint/no-restricted-imports": ["error", { patterns, paths: paths.map((p) => ({ ...p, allowTypeImports: true })) }],
  });
  return [
    { files: ["src/**"], ignores: ["src/db/**", "src/tokens/**", "src/verify.ts"], rules: rule([drizzle, jose]) },
    { files: ["src/lib/**"], rules: rule([drizzle, jose, upward]) },
    { files: ["src/db/**"], rules: rule([jose]) },
    { files: ["src/tokens/**", "src/verify.ts"], rules: rule([drizzle]) },
  ];
}
