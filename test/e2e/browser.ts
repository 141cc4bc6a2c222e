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
  // No script at all, or (pages that offer passkeys) exactly the one bundled passkey file.
  expect(headers["content-security-policy"]).toMatch(/(^|; )script-src ('none'|https?:\/\/[^ ;]+\/assets\/passkey\.[0-9a-f]{16}\.js)(;|$)/);
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
}

/** A phone-sized viewport: the layout checks run at this width. */
export const PHONE = { width: 390, height: 844 } as const;

/**
 * Layout facts of the current page at its viewport: whether anything scrolls
 * sideways, the gap between `main` and the viewport edges, and how many
 * lines the text of each selector's first match takes.
 *
 * @example
 * const facts = await layoutFacts(page, ["#status"]);
 */
export async function layoutFacts(page: Page, lineSelectors: readonly string[] = []): Promise<{ overflows: boolean; mainGap: number; lines: Record<string, number> }> {
  return page.evaluate((selectors) => {
    const main = document.querySelector("main")!.getBoundingClientRect();
    const lines: Record<string, number> = {};
    for (const selector of selectors) {
      const el = document.querySelector(selector);
      if (!el) {
        lines[selector] = -1;
        continue;
      }
      const range = document.createRange();
      range.selectNodeContents(el);
      lines[selector] = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
    }
    return {
      overflows: document.documentElement.scrollWidth > window.innerWidth,
      mainGap: Math.min(main.left, window.innerWidth - main.right),
      lines,
    };
  }, lineSelectors);
}

/**
 * WCAG contrast ratio of `selector`'s text colour against the first opaque
 * background behind it.
 *
 * @example
 * expect(await contrastRatio(page, "#status")).toBeGreaterThanOrEqual(4.5);
 */
export async function contrastRatio(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const rgb = (css: string) => (css.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]) => {
      const lin = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
      return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
    };
    const el = document.querySelector(sel)!;
    const fg = rgb(getComputedStyle(el).color);
    let node: Element | null = el;
    // Nothing opaque behind it: the canvas, which follows the colour scheme.
    let bg = matchMedia("(prefers-color-scheme: dark)").matches ? [18, 18, 18] : [255, 255, 255];
    while (node) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) {
        bg = c.slice(0, 3);
        break;
      }
      node = node.parentElement;
    }
    const [a, b] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    return (a! + 0.05) / (b! + 0.05);
  }, selector);
}

/**
 * Whether every occurrence of `text` in the page's text is laid out on one
 * line (a word broken mid-way spans two). Fails when the text is absent.
 *
 * @example
 * expect(await onOneLine(page, "alice@local.test")).toBe(true);
 */
export async function onOneLine(page: Page, text: string): Promise<boolean> {
  return page.evaluate((needle) => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    let found = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.textContent?.indexOf(needle) ?? -1;
      if (at < 0) continue;
      found++;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + needle.length);
      if (new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size !== 1) return false;
    }
    if (found === 0) throw new Error(`text not on the page: ${needle}`);
    return true;
  }, text);
}
