// Lint: type-aware rules that guard against the failure catalog, chiefly F9
// (a nonce written fire-and-forget): every promise must be awaited or handled.
import tseslint from "typescript-eslint";

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
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": [
        "error",
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: "Only config.ts reads configuration; pass it down." },
      ],
    },
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
  const rule = (...patterns) => ({ "no-restricted-imports": ["error", { patterns }] });
  return [
    { files: ["src/**"], ignores: ["src/db/**", "src/tokens/**", "src/verify.ts"], rules: rule(drizzle, jose) },
    { files: ["src/db/**"], rules: rule(jose) },
    { files: ["src/tokens/**", "src/verify.ts"], rules: rule(drizzle) },
  ];
}
