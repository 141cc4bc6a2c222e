/**
 * gatehouse as the authorization server of another site, in a real
 * browser: the example web app (examples/webapp, on 127.0.0.1 while
 * gatehouse is on localhost) → gatehouse's sign-in → the local provider →
 * the consent page → Allow → back at the web app, signed in, with the
 * example API accepting its access token. Then remembered consent, the
 * account page's "Apps with access", and Revoke.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectHtmlSecurityHeaders, launchBrowser, loginAtProvider, newContext, screenshot, type PageWatch } from "./browser";

const stack = inject("stack");
const USER = `olivia-${Date.now().toString(36)}`;

let browser: Browser;
let context: BrowserContext;
let watch: PageWatch;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, watch } = await newContext(browser));
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
});

describe("signing in to another site's web app through gatehouse", () => {
  it("the web app starts signed out", async () => {
    await page.goto(stack.webappUrl);
    expect(await page.locator("#status").textContent()).toBe("signed out");
  });

  it("Sign in goes to gatehouse's sign-in page, then the provider, then the consent page", async () => {
    await page.getByRole("link", { name: "Sign in with gatehouse" }).click();
    await page.waitForURL(`${stack.authUrl}/auth/signin?**`);
    await page.getByRole("link", { name: "Continue with Local" }).click();
    await loginAtProvider(page, stack.oidcUrl, USER);
    await page.waitForURL(`${stack.authUrl}/oauth/authorize?**`);
    await expect.poll(() => page.getByRole("heading", { name: /Allow Example Web App/ }).isVisible()).toBe(true);
    // The host the browser will be sent to is shown prominently.
    expect(await page.getByText(new URL(stack.webappUrl).host).count()).toBeGreaterThan(0);
    expect(await page.getByText("See your email address").count()).toBe(1);
    const response = await page.reload();
    expectHtmlSecurityHeaders(response!.headers());
    expect(response!.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    await screenshot(page, "consent");
  });

  it("Allow lands back at the web app, signed in, and the API accepted its access token", async () => {
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForURL(`${stack.webappUrl}/`);
    expect(await page.locator("#status").textContent()).toContain("signed in as");
    expect(await page.locator("#api").textContent()).toMatch(/^200 \{"hello":"[0-9a-f-]{36}"\}$/);
    await screenshot(page, "webapp-signed-in");
  });

  it("the next sign-in skips the consent page (remembered)", async () => {
    await page.getByRole("link", { name: "Sign out of this app" }).click();
    expect(await page.locator("#status").textContent()).toBe("signed out");
    await page.getByRole("link", { name: "Sign in with gatehouse" }).click();
    await page.waitForURL(`${stack.webappUrl}/`);
    expect(await page.locator("#status").textContent()).toContain("signed in as");
  });

  it("the account page lists the app; Revoke removes it and the consent page comes back", async () => {
    await page.goto(`${stack.authUrl}/account`);
    await expect.poll(() => page.getByRole("heading", { name: "Apps with access to your account" }).isVisible()).toBe(true);
    await page.getByRole("button", { name: "Revoke access for Example Web App" }).click();
    await page.waitForURL(`${stack.authUrl}/account?notice=app_revoked`);
    expect(await page.getByText("No application has access.").count()).toBe(1);
    await screenshot(page, "account-app-revoked");
    await page.goto(`${stack.webappUrl}/logout`);
    await page.getByRole("link", { name: "Sign in with gatehouse" }).click();
    await page.waitForURL(`${stack.authUrl}/oauth/authorize?**`);
    await page.getByRole("button", { name: "Deny" }).click();
    await page.waitForURL(`${stack.webappUrl}/callback?**`);
    expect(await page.locator("#status").textContent()).toBe("not signed in: access_denied");
  });

  it("no page broke its Content-Security-Policy", () => {
    expect(watch.cspViolations).toEqual([]);
  });
});
