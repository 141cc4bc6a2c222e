/**
 * Korean pages in a real browser: Chromium with `Accept-Language: ko`
 * (its locale) sees the sign-in, email and error pages in Korean, with
 * error codes unchanged; `?lang=en` switches to English and is remembered.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser, newContext, screenshot } from "./browser";

const stack = inject("stack");
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe("Korean pages (Accept-Language: ko)", () => {
  it("sign-in, email and error pages in Korean; ?lang=en switches and sticks", async () => {
    const { context, watch } = await newContext(browser, { locale: "ko-KR", extraHTTPHeaders: { "accept-language": "ko-KR,ko;q=0.9" } });
    const page = await context.newPage();
    await page.goto(`${stack.authUrl}/auth/signin`);
    expect(await page.locator("html").getAttribute("lang")).toBe("ko");
    expect(await page.getByRole("heading", { name: "로그인" }).isVisible()).toBe(true);
    expect(await page.getByRole("link", { name: "Local(으)로 계속하기" }).isVisible()).toBe(true);
    await screenshot(page, "signin-ko");
    await page.getByRole("link", { name: "이메일로 계속하기" }).click();
    expect(await page.getByRole("heading", { name: "이메일로 로그인" }).isVisible()).toBe(true);
    expect(await page.getByLabel("이메일 주소").isVisible()).toBe(true);

    await page.goto(`${stack.authUrl}/auth/error?code=StateInvalid`);
    expect(await page.getByRole("heading", { name: "로그인 링크 만료" }).isVisible()).toBe(true);
    expect(await page.locator("code").last().textContent()).toBe("StateInvalid");

    await page.goto(`${stack.authUrl}/auth/signin?lang=en`);
    expect(await page.getByRole("heading", { name: "Sign in" }).isVisible()).toBe(true);
    await page.goto(`${stack.authUrl}/`);
    expect(await page.locator("html").getAttribute("lang")).toBe("en");
    expect(watch.cspViolations).toEqual([]);
    await context.close();
  });
});
