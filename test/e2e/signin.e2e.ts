/**
 * What a person does, in a real browser against the real local stack:
 * SPA → sign in at the local provider → API call → account page → revoke
 * from a second browser → the SPA is signed out → sign in again → sign out
 * everywhere. Screenshots of every page go to test-results/e2e/.
 */
import { copyFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { contrastRatio, expectHtmlSecurityHeaders, launchBrowser, layoutFacts, loginAtProvider, newContext, onOneLine, PHONE, screenshot, type PageWatch } from "./browser";

const stack = inject("stack");
const USER = `alice-${Date.now().toString(36)}`;

let browser: Browser;
let laptop: { context: BrowserContext; watch: PageWatch; page: Page };
let phone: { context: BrowserContext; watch: PageWatch; page: Page };

async function open(): Promise<{ context: BrowserContext; watch: PageWatch; page: Page }> {
  const { context, watch } = await newContext(browser);
  return { context, watch, page: await context.newPage() };
}

/** The SPA's status line once it settled (not "loading…"). */
async function spaStatus(page: Page): Promise<string> {
  const status = page.locator("#status");
  await expect.poll(() => status.getAttribute("data-state"), { timeout: 10_000 }).not.toBe("loading");
  return (await status.textContent()) ?? "";
}

/** From the SPA: Sign in → Local → provider login → back on the SPA. */
async function signInFromSpa(page: Page): Promise<void> {
  await page.goto(stack.spaUrl);
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.waitForURL(`${stack.authUrl}/auth/signin?**`);
  await page.getByRole("link", { name: "Continue with Local" }).click();
  await loginAtProvider(page, stack.oidcUrl, USER);
  await page.waitForURL(`${stack.spaUrl}/`);
}

beforeAll(async () => {
  browser = await launchBrowser();
  laptop = await open();
  phone = await open();
});

afterAll(async () => {
  await browser?.close();
});

describe("sign-in, sessions and revocation in the browser", () => {
  it("the SPA starts signed out (its token call answers 401), offers only Sign in, and says so when asked", async () => {
    await laptop.page.goto(stack.spaUrl);
    expect(await spaStatus(laptop.page)).toBe("signed out");
    expect(await laptop.page.locator("#signin").isVisible()).toBe(true);
    expect(await laptop.page.locator("#call").isVisible()).toBe(false);
    expect(await laptop.page.locator("#signout").isVisible()).toBe(false);
    expect(await laptop.page.locator("#result").textContent()).toContain("Not signed in");
  });

  it("the sign-in page shows the provider; screenshot", async () => {
    const responded = laptop.page.waitForResponse((r) => r.url().startsWith(`${stack.authUrl}/auth/signin`));
    await laptop.page.getByRole("link", { name: "Sign in" }).click();
    const response = await responded;
    expectHtmlSecurityHeaders(response.headers());
    await expect.poll(() => laptop.page.getByRole("link", { name: "Continue with Local" }).isVisible()).toBe(true);
    const shot = await screenshot(laptop.page, "signin");
    if (process.env.UPDATE_DOCS_SCREENSHOT) copyFileSync(shot, resolve(import.meta.dirname, "../../docs/signin.png"));
  });

  it("signing in at the local provider lands back on the SPA, signed in, and the API accepts the token", async () => {
    await laptop.page.getByRole("link", { name: "Continue with Local" }).click();
    await loginAtProvider(laptop.page, stack.oidcUrl, USER);
    await laptop.page.waitForURL(`${stack.spaUrl}/`);
    // The name, from gatehouse's /auth/session; the API answers with the user id.
    expect(await spaStatus(laptop.page)).toBe(`signed in as ${USER}`);
    const answer = JSON.parse((await laptop.page.locator("#result").textContent()) ?? "{}") as { hello?: string };
    expect(answer.hello).toMatch(/^[0-9a-f-]{36}$/);
    expect(await laptop.page.locator("#signin").isVisible()).toBe(false);
    expect(await laptop.page.locator("#call").isVisible()).toBe(true);
    expect(await laptop.page.locator("#signout").isVisible()).toBe(true);
    // The session cookies are gatehouse's, HttpOnly and invisible to the SPA's script.
    expect(await laptop.page.evaluate(() => document.cookie)).toBe("");
    // Cookies belong to a host, not a port: the provider's own cookies share `localhost` in development.
    const ours = (await laptop.context.cookies(stack.authUrl)).filter((c) => c.name.startsWith("__Host-gh_"));
    // Besides the session pair, the sign-in page's passkey autofill left its challenge binding (5 minutes; docs/passkeys.md).
    expect(ours.map((c) => c.name).filter((n) => n !== "__Host-gh_passkey").sort()).toEqual(["__Host-gh_refresh", "__Host-gh_session"]);
    expect(ours.every((c) => c.httpOnly && c.secure && c.sameSite === "Lax")).toBe(true);
    await screenshot(laptop.page, "spa-signed-in");
  });

  it("at 390 px the SPA fits (the JSON wraps) and its status colours pass WCAG AA in light and dark", async () => {
    await laptop.page.setViewportSize(PHONE);
    try {
      for (const colorScheme of ["light", "dark"] as const) {
        await laptop.page.emulateMedia({ colorScheme });
        const facts = await layoutFacts(laptop.page);
        expect(facts.overflows).toBe(false);
        expect(facts.mainGap).toBeGreaterThanOrEqual(8);
        // The JSON wraps instead of scrolling sideways inside its box.
        expect(await laptop.page.locator("#result").evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
        expect(await contrastRatio(laptop.page, "#status")).toBeGreaterThanOrEqual(4.5);
        await screenshot(laptop.page, `spa-signed-in-390-${colorScheme}`);
      }
      await laptop.page.locator("#status").evaluate((el) => (el.dataset.state = "signed-out"));
      for (const colorScheme of ["light", "dark"] as const) {
        await laptop.page.emulateMedia({ colorScheme });
        expect(await contrastRatio(laptop.page, "#status")).toBeGreaterThanOrEqual(4.5);
      }
    } finally {
      await laptop.page.emulateMedia({ colorScheme: null });
      await laptop.page.setViewportSize({ width: 720, height: 640 });
    }
  });

  it("the account page lists this session as this device", async () => {
    const response = await laptop.page.goto(`${stack.authUrl}/account`);
    expect(response?.status()).toBe(200);
    expectHtmlSecurityHeaders(response!.headers());
    await expect.poll(() => laptop.page.locator("li[data-session]").count()).toBe(1);
    await expect.poll(() => laptop.page.locator("li[data-session]").first().textContent()).toContain("this device");
    expect(await laptop.page.getByText(USER, { exact: false }).count()).toBeGreaterThan(0);
    await screenshot(laptop.page, "account");
  });

  it("at 390 px the account page fits: the card keeps a margin, the email and the method name stay whole", async () => {
    await laptop.page.setViewportSize(PHONE);
    try {
      const facts = await layoutFacts(laptop.page);
      expect(facts.overflows).toBe(false);
      expect(facts.mainGap).toBeGreaterThanOrEqual(8);
      // Whole words: the email (profile and sign-in method rows) and the method's name.
      expect(await onOneLine(laptop.page, `${USER}@local.test`)).toBe(true);
      const method = laptop.page.locator("section[aria-labelledby=methods] li").first();
      expect(await method.locator(".grow").evaluate((el) => {
        const range = document.createRange();
        range.selectNodeContents(el.firstChild!);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
      })).toBe(1);
      // The badge keeps its size.
      expect((await method.locator(".badge").boundingBox())!.width).toBeGreaterThanOrEqual(27);
      await screenshot(laptop.page, "account-390");
    } finally {
      await laptop.page.setViewportSize({ width: 720, height: 640 });
    }
  });

  it("a second browser signs in as the same user and revokes the first browser's session from /account", async () => {
    const res = await phone.page.goto(`${stack.authUrl}/account`);
    // Not signed in there: sent to sign in, and back to /account afterwards.
    expect(phone.page.url()).toContain("/auth/signin?redirect_to=%2Faccount");
    expect(res?.status()).toBe(200);
    await phone.page.getByRole("link", { name: "Continue with Local" }).click();
    await loginAtProvider(phone.page, stack.oidcUrl, USER);
    await phone.page.waitForURL(`${stack.authUrl}/account`);
    const sessions = phone.page.locator("li[data-session]");
    await expect.poll(() => sessions.count()).toBe(2);
    const other = sessions.filter({ hasNotText: "this device" });
    await other.getByRole("button", { name: /Revoke session/ }).click();
    await phone.page.waitForURL(`${stack.authUrl}/account?notice=revoked`);
    await expect.poll(() => sessions.count()).toBe(1);
    await screenshot(phone.page, "account-after-revoke");
  });

  it("the SPA's next token call is refused: it shows signed out", async () => {
    await laptop.page.goto(stack.spaUrl);
    expect(await spaStatus(laptop.page)).toBe("signed out");
    // And the account page sends that browser to sign in.
    await laptop.page.goto(`${stack.authUrl}/account`);
    expect(laptop.page.url()).toContain("/auth/signin?redirect_to=%2Faccount");
  });

  it("signing in again works, and sign out everywhere ends both browsers' sessions", async () => {
    await signInFromSpa(laptop.page);
    expect(await spaStatus(laptop.page)).toMatch(/^signed in as /);

    await laptop.page.goto(`${stack.authUrl}/account`);
    await expect.poll(() => laptop.page.locator("li[data-session]").count()).toBe(2);
    await laptop.page.getByRole("button", { name: "Sign out everywhere" }).click();
    await laptop.page.waitForURL(`${stack.authUrl}/auth/signin`);
    expect(await laptop.page.getByText("Signed in as").count()).toBe(0);

    await laptop.page.goto(stack.spaUrl);
    expect(await spaStatus(laptop.page)).toBe("signed out");
    await phone.page.goto(`${stack.authUrl}/account`);
    expect(phone.page.url()).toContain("/auth/signin?redirect_to=%2Faccount");
  });

  it("no page broke its Content-Security-Policy (form posts and their redirects included)", () => {
    expect([...laptop.watch.cspViolations, ...phone.watch.cspViolations]).toEqual([]);
  });
});
