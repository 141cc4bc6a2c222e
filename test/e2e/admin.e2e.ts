/**
 * The `/admin` page in Chromium with JavaScript disabled: the operator
 * (ADMIN_USER_IDS of the stack, E2E_OPERATOR_ID, linked in advance to the
 * local provider's `operator-e2e`) signs in, searches a user who signed in
 * before, opens their detail, disables them through the confirmation page,
 * and the user's browser is signed out. Screenshots: test-results/e2e/admin-*.png.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectHtmlSecurityHeaders, launchBrowser, loginAtProvider, newContext, screenshot } from "./browser";
import { E2E_OPERATOR_ID } from "./stack";

const stack = inject("stack");
const neonUrl = inject("neonUrl");

let browser: Browser;

/** One statement against the stack's database through neon-local's Neon protocol. */
async function sql(query: string, params: string[] = []): Promise<void> {
  const res = await fetch(`${neonUrl}/sql`, {
    method: "POST",
    headers: { "content-type": "application/json", "neon-connection-string": "postgresql://e2e-admin:local@127.0.0.1/gatehouse" },
    body: JSON.stringify({ query, params }),
  });
  if (!res.ok) throw new Error(`neon-local: HTTP ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  browser = await launchBrowser();
  // The operator exists before the stack sees them sign in: their id is in ADMIN_USER_IDS.
  await sql(
    `INSERT INTO users (id, email, email_normalized, email_verified_at, name) VALUES ($1, 'operator-e2e@local.test', 'operator-e2e@local.test', now(), 'Operator')
     ON CONFLICT (id) DO NOTHING`,
    [E2E_OPERATOR_ID],
  );
  await sql(
    `INSERT INTO accounts (user_id, provider, provider_subject, email, email_verified) VALUES ($1, 'local', 'operator-e2e', 'operator-e2e@local.test', true)
     ON CONFLICT (provider, provider_subject) DO NOTHING`,
    [E2E_OPERATOR_ID],
  );
});

afterAll(async () => {
  await browser?.close();
});

describe("admin page", () => {
  it("an operator finds a user, opens them, and disables them with confirmation, without JavaScript", async () => {
    // The user signs in first (their own browser).
    const user = await newContext(browser);
    const userPage = await user.context.newPage();
    await userPage.goto(`${stack.authUrl}/auth/signin?redirect_to=${encodeURIComponent(`${stack.authUrl}/account`)}`);
    await userPage.getByRole("link", { name: "Continue with Local" }).click();
    await loginAtProvider(userPage, stack.oidcUrl, "target-e2e");
    await userPage.waitForURL(`${stack.authUrl}/account`);

    const { context, watch } = await newContext(browser, { javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${stack.authUrl}/admin`);
    // Signed out: sign in first, then back to /admin.
    await page.getByRole("link", { name: "Continue with Local" }).click();
    await loginAtProvider(page, stack.oidcUrl, "operator-e2e");
    await page.waitForURL(`${stack.authUrl}/admin`);
    const response = await page.reload();
    expectHtmlSecurityHeaders(response!.headers());

    await page.getByLabel("Email, name, user id or provider subject").fill("target-e2e");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/\/admin\?q=target-e2e/);
    await screenshot(page, "admin-search");
    await page.getByRole("link", { name: "target-e2e@local.test" }).click();
    await page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}$/);
    expect(await page.locator("h1").textContent()).toContain("target-e2e@local.test");
    expect(await page.locator("[data-session]").count()).toBe(1);
    await screenshot(page, "admin-user");

    await page.getByRole("link", { name: "Disable" }).click();
    await page.waitForURL(/\/confirm\/disable$/);
    await screenshot(page, "admin-confirm");
    await page.getByRole("button", { name: /Disable/ }).click();
    await page.waitForURL(/\?notice=disabled$/);
    expect(await page.getByRole("status").textContent()).toContain("disabled and signed out everywhere");
    expect(await page.locator("h1 .tag").textContent()).toBe("disabled");
    expect(await page.locator("[data-session]").count()).toBe(0);
    await screenshot(page, "admin");
    expect(watch.cspViolations).toEqual([]);

    // The user's browser is signed out at once (the session JWT is denylisted, the refresh token revoked).
    await userPage.goto(`${stack.authUrl}/account`);
    await userPage.waitForURL(/\/auth\/signin/);
    // And cannot sign in again: UserDisabled, no session.
    await userPage.getByRole("link", { name: "Continue with Local" }).click();
    await loginAtProvider(userPage, stack.oidcUrl, "target-e2e");
    await userPage.waitForLoadState("domcontentloaded");
    expect(await userPage.locator("main").textContent()).toContain("UserDisabled");
    await screenshot(userPage, "admin-user-disabled");
    await user.context.close();
    await context.close();
  });

  it("an operator acts as a user: every page shows the banner until its button ends it", async () => {
    const user = await newContext(browser);
    const userPage = await user.context.newPage();
    await userPage.goto(`${stack.authUrl}/auth/signin?redirect_to=${encodeURIComponent(`${stack.authUrl}/account`)}`);
    await userPage.getByRole("link", { name: "Continue with Local" }).click();
    await loginAtProvider(userPage, stack.oidcUrl, "shown-e2e");
    await userPage.waitForURL(`${stack.authUrl}/account`);
    await user.context.close();

    const { context, watch } = await newContext(browser, { javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${stack.authUrl}/admin`);
    await page.getByRole("link", { name: "Continue with Local" }).click();
    await loginAtProvider(page, stack.oidcUrl, "operator-e2e");
    await page.waitForURL(`${stack.authUrl}/admin`);
    await page.getByLabel("Email, name, user id or provider subject").fill("shown-e2e");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/\/admin\?q=shown-e2e/);
    await page.getByRole("link", { name: "shown-e2e@local.test" }).click();
    await page.getByRole("link", { name: "Act as this user" }).click();
    await page.getByRole("button", { name: /Act as this user/ }).click();
    await page.waitForURL(`${stack.authUrl}/account`);
    expect(await page.getByRole("alert").textContent()).toContain("You are acting as shown-e2e@local.test");
    expect(await page.locator("main h1").textContent()).toBe("Your account");
    await screenshot(page, "admin-impersonation");
    // Another page carries it too.
    await page.goto(`${stack.authUrl}/`);
    expect(await page.getByRole("alert").count()).toBe(1);
    await page.getByRole("button", { name: "End impersonation" }).click();
    await page.waitForURL(/\/auth\/signin\?redirect_to=%2Fadmin/);
    expect(await page.getByRole("alert").count()).toBe(0);
    expect(watch.cspViolations).toEqual([]);
    await context.close();
  });
});
