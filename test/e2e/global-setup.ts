/**
 * Once per `npm run test:e2e`: refuse to run without Chromium (never skip
 * silently, F14), start the stack, hand its URLs to the tests, stop it after.
 */
import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { CHROMIUM_PATH } from "./browser";
import { E2E_OPERATOR_ID, startStack, type StackUrls } from "./stack";

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackUrls;
    /** neon-local of the stack (POST /sql), for tests that must prepare rows first. */
    neonUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}. The browser tests never skip: install it with \`apt-get install chromium\` (or set CHROMIUM_PATH).`);
  }
  const stack = await startStack({ adminUserIds: E2E_OPERATOR_ID });
  project.provide("stack", { authUrl: stack.authUrl, spaUrl: stack.spaUrl, apiUrl: stack.apiUrl, mcpUrl: stack.mcpUrl, oidcUrl: stack.oidcUrl, webappUrl: stack.webappUrl, mailUrl: stack.mailUrl });
  project.provide("neonUrl", stack.neonUrl);
  return () => stack.stop();
}
