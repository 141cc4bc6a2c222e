/**
 * Email sign-in in a real browser against the real local stack: the code
 * and the link travel by SMTP (the worker's SMTP transport over
 * cloudflare:sockets) into the mail catcher (maildev), and are read from its
 * REST API. The link works only in the browser that asked.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser, newContext, screenshot } from "./browser";

const stack = inject("stack");

interface CaughtMail {
  subject: string;
  text: string;
  to: { address: string }[];
}

/** The newest message to `address` in the catcher, waiting for it to arrive. */
async function latestMail(address: string, count: number): Promise<CaughtMail> {
  let found: CaughtMail[] = [];
  await expect
    .poll(async () => {
      const all = (await (await fetch(`${stack.mailUrl}/api/email`)).json()) as CaughtMail[];
      found = all.filter((m) => m.to.some((t) => t.address === address));
      return found.length;
    }, { timeout: 10_000 })
    .toBe(count);
  return found[found.length - 1]!;
}

const codeOf = (mail: CaughtMail) => /is: (\d{6})/.exec(mail.text)?.[1] ?? "";
const linkOf = (mail: CaughtMail) => /^http\S+\/auth\/email\/verify\S+$/m.exec(mail.text)?.[0] ?? "";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe("email sign-in through the mail catcher", () => {
  const address = `mail-${Date.now().toString(36)}@example.com`;

  it("signs in with the emailed code typed into the page", async () => {
    const { context, watch } = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${stack.authUrl}/auth/signin?redirect_to=${encodeURIComponent(`${stack.authUrl}/account`)}`);
    await page.getByRole("link", { name: "Continue with email" }).click();
    await page.getByLabel("Email address").fill(address);
    await page.getByRole("button", { name: "Send the code" }).click();
    await page.waitForURL(`${stack.authUrl}/auth/email/verify?**`);
    const mail = await latestMail(address, 1);
    expect(codeOf(mail)).toMatch(/^\d{6}$/);
    await screenshot(page, "email-code");
    await page.getByLabel("Code").fill(codeOf(mail));
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(`${stack.authUrl}/account`);
    expect(await page.getByText(address).count()).toBeGreaterThan(0);
    expect(watch.cspViolations).toEqual([]);
    await context.close();
  });

  it("signs in with the magic link in the same browser (a confirmation page first); another browser is refused", async () => {
    const { context } = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${stack.authUrl}/auth/email?redirect_to=${encodeURIComponent(`${stack.authUrl}/account`)}`);
    await page.getByLabel("Email address").fill(address);
    await page.getByRole("button", { name: "Send the code" }).click();
    await page.waitForURL(`${stack.authUrl}/auth/email/verify?**`);
    const link = linkOf(await latestMail(address, 2));
    expect(link).not.toBe("");

    // Another browser (its own cookie jar) opening the link: the page shows, the POST is refused.
    const other = await newContext(browser);
    const stranger = await other.context.newPage();
    await stranger.goto(link);
    await stranger.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => stranger.locator("body").textContent()).toContain("EmailOtherBrowser");
    await other.context.close();

    await page.goto(link);
    expect(await page.getByRole("heading", { name: "Confirm sign-in" }).isVisible()).toBe(true);
    await screenshot(page, "email-confirm");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${stack.authUrl}/account`);
    expect(await page.getByText(address).count()).toBeGreaterThan(0);
    await context.close();
  });
});
