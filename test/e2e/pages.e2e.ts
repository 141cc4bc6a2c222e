/**
 * The pages on their own: the root page `npm run dev` prints, an error page
 * reached through a tampered callback, the sign-in page with JavaScript
 * disabled, and a sign-in done with the keyboard only.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectHtmlSecurityHeaders, launchBrowser, layoutFacts, loginAtProvider, newContext, PHONE, screenshot } from "./browser";

const stack = inject("stack");

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

describe("pages", () => {
  it("the root URL says what this is and leads to sign-in, also at 390 px", async () => {
    const { context, watch } = await newContext(browser, { viewport: PHONE });
    const page = await context.newPage();
    const response = await page.goto(`${stack.authUrl}/`);
    expect(response?.status()).toBe(200);
    expectHtmlSecurityHeaders(response!.headers());
    expect(await page.locator("h1").textContent()).toBe("gatehouse");
    const facts = await layoutFacts(page);
    expect(facts.overflows).toBe(false);
    expect(facts.mainGap).toBeGreaterThanOrEqual(8);
    await screenshot(page, "home-390");
    await page.getByRole("link", { name: "Sign in" }).click();
    await page.waitForURL(`${stack.authUrl}/auth/signin`);
    expect(watch.cspViolations).toEqual([]);
    await context.close();
  });

  it("a tampered callback shows the error page: code, explanation, a way back, nothing secret", async () => {
    const { context, watch } = await newContext(browser);
    const page = await context.newPage();
    const response = await page.goto(`${stack.authUrl}/auth/callback/local?state=tampered&code=x`);
    expect(response?.status()).toBe(400);
    expectHtmlSecurityHeaders(response!.headers());
    expect(response!.headers()["referrer-policy"]).toBe("no-referrer");
    const text = (await page.locator("main").textContent()) ?? "";
    expect(text).toContain("StateInvalid");
    expect(text).toContain("What to try");
    expect(text).not.toMatch(/tampered|stack|Error:/);
    await screenshot(page, "error");
    await page.getByRole("link", { name: "Back to sign-in" }).click();
    await page.waitForURL(`${stack.authUrl}/auth/signin`);
    expect(watch.cspViolations).toEqual([]);
    await context.close();
  });

  it("the sign-in page works with JavaScript disabled, all the way back to the SPA", async () => {
    const { context } = await newContext(browser, { javaScriptEnabled: false });
    const page = await context.newPage();
    const redirect = encodeURIComponent(`${stack.spaUrl}/`);
    await page.goto(`${stack.authUrl}/auth/signin?redirect_to=${redirect}`);
    await page.getByRole("link", { name: "Continue with Local" }).click();
    await loginAtProvider(page, stack.oidcUrl, "no-script");
    await page.waitForURL(`${stack.spaUrl}/`);
    // Signed in: the worker's sign-in page now says who we are.
    await page.goto(`${stack.authUrl}/auth/signin`);
    expect(await page.getByText("Signed in as").count()).toBe(1);
    await screenshot(page, "signin-signed-in-no-js");
    // And the sign-out form works without script too (its Origin header survives the referrer policy).
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${stack.authUrl}/auth/signin`);
    expect(await page.getByText("Signed in as").count()).toBe(0);
    await context.close();
  });

  it("keyboard only: Tab to the provider, Enter, type a username, Enter", async () => {
    const { context } = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${stack.authUrl}/auth/signin?redirect_to=${encodeURIComponent(`${stack.authUrl}/account`)}`);
    let focused = "";
    for (let i = 0; i < 10 && !focused.includes("Continue with Local"); i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() => document.activeElement?.textContent ?? "");
    }
    expect(focused).toContain("Continue with Local");
    // The focus is visible.
    expect(await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle)).not.toBe("none");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${stack.oidcUrl}/interaction/**`);
    // The provider's login field has autofocus.
    await page.locator('input[name="login"]').waitFor();
    // One step: a username and Enter (no password, no consent screen).
    await page.keyboard.type("keyboard-user");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${stack.authUrl}/account`);
    expect(await page.locator("li[data-session]").count()).toBe(1);
    await context.close();
  });
});
