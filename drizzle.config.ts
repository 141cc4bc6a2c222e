import { defineConfig } from "drizzle-kit";

/** Generates `migrations/` from `src/db/schema.ts`; no database connection needed. */
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: process.env.DRIZZLE_OUT ?? "./migrations",
});
