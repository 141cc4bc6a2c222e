/**
 * The browser: Debian's Chromium driven by playwright-core (which never
 * downloads a browser), with a fresh profile per launch, plus the helpers
 * the scenarios share (provider login, screenshots, CSP-violation capture).
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";
import { expect } from "vitest";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOT_DIR = resolve(import.meta.dirname, "../../test-results/e2e");

/**
 * Launches headless Chromium. Playwright gives every launch a fresh, temporary user-data-dir.
 *
 * @example
 * const browser = await launchBrowser();
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 20_000,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/** Messages that mean the page broke its own CSP (form-action after a redirect, a stray script…). */
export interface PageWatch {
  cspViolations: string[];
}

/**
 * A new browser context (its own cookie jar) with bounded timeouts; nothing
 * outside localhost is reachable (the provider's login page imports a web font).
 *
 * @example
 * const { context, watch } = await newContext(browser);
 */
export async function newContext(browser: Browser, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; watch: PageWatch }> {
  const context = await browser.newContext({ viewport: { width: 720, height: 640 }, ...options });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  await context.route(/^https?:\/\/(?!localhost[:/]|127\.0\.0\.1[:/])/, (route) => route.abort());
  const watch: PageWatch = { cspViolations: [] };
  context.on("console", (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to/i.test(text) && !text.includes("fonts.googleapis.com")) watch.cspViolations.push(text);
  });
  return { context, watch };
}

/**
 * Completes the local provider's one-step development login (a username,
 * nothing else: no password, no consent screen).
 *
 * @example
 * await loginAtProvider(page, stack.oidcUrl, "alice");
 */
export async function loginAtProvider(page: Page, oidcUrl: string, username: string): Promise<void> {
  await page.waitForLoadState("domcontentloaded");
  const before = page.url();
  if (!before.startsWith(oidcUrl)) return;
  const left = page.waitForURL((url) => !url.href.startsWith(oidcUrl), { waitUntil: "domcontentloaded" });
  await page.locator('input[name="login"]').fill(username);
  await page.getByRole("button", { name: "Sign in" }).click();
  await left;
}

/**
 * Saves a full-page screenshot under test-results/e2e/.
 *
 * @example
 * await screenshot(page, "signin");
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = resolve(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The page carries gatehouse's HTML security headers. */
export function expectHtmlSecurityHeaders(headers: Record<string, string>): void {
  expect(headers["content-security-policy"]).toContain("script-src 'none'");
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
}
