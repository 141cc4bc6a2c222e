/**
 * Passkeys in Chromium against the real local stack, with a virtual
 * authenticator (CDP `WebAuthn` domain: CTAP2, internal transport, resident
 * keys, user verification that always succeeds): sign in through the local
 * OpenID provider, add a passkey on the account page, sign out, sign in with
 * the passkey, and remove it. The RP ID is `localhost` (AUTH_URL's host);
 * http://localhost is a secure context, so WebAuthn is available.
 */
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser, loginAtProvider, newContext, screenshot, type PageWatch } from "./browser";

const stack = inject("stack");
const USER = `passkey-${Date.now().toString(36)}`;

let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;
let cdp: CDPSession;
let authenticatorId: string;

async function credentialCount(): Promise<number> {
  const { credentials } = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })) as { credentials: unknown[] };
  return credentials.length;
}

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, watch } = await newContext(browser));
  // Chromium's virtual authenticator answers a conditional (autofill) request at once, where a real
  // browser waits for the user to pick: every sign-in page would sign straight back in. So these
  // pages run as in a browser without conditional mediation (the script then only wires the button);
  // the autofill markup is checked in test/passkeys/page.test.ts.
  await context.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
  });
  page = await context.newPage();
  cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  ({ authenticatorId } = (await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  })) as { authenticatorId: string });
});

afterAll(async () => {
  await browser?.close();
});

describe("passkeys with a virtual authenticator", () => {
  it("adds a passkey on the account page after signing in with the provider", async () => {
    await page.goto(`${stack.authUrl}/auth/signin?redirect_to=${encodeURIComponent(`${stack.authUrl}/account`)}`);
    await page.getByRole("link", { name: "Continue with Local" }).click();
    await loginAtProvider(page, stack.oidcUrl, USER);
    await page.waitForURL(`${stack.authUrl}/account`);

    // The script revealed the control (it is hidden without JavaScript).
    const add = page.getByRole("button", { name: "Add a passkey" });
    await expect.poll(() => add.isEnabled()).toBe(true);
    await page.getByLabel("Name for the new passkey (optional)").fill("Virtual key");
    await add.click();
    await page.waitForURL(`${stack.authUrl}/account?notice=passkey_added`);
    expect(await page.getByText("Virtual key").count()).toBe(1);
    expect(await credentialCount()).toBe(1);
    await screenshot(page, "passkey-added");
  });

  it("signs out, then signs in with the passkey button", async () => {
    await page.goto(`${stack.authUrl}/auth/signin`);
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL(`${stack.authUrl}/auth/signin`);
    expect(await page.getByRole("button", { name: "Sign out", exact: true }).count()).toBe(0);
    await page.goto(`${stack.authUrl}/auth/signin?redirect_to=${encodeURIComponent(`${stack.authUrl}/account`)}`);
    const button = page.getByRole("button", { name: "Sign in with a passkey" });
    await expect.poll(() => button.isEnabled()).toBe(true);
    expect(await page.locator('input[autocomplete="username webauthn"]').isVisible()).toBe(true);
    await screenshot(page, "passkey-signin");
    await button.click();
    await page.waitForURL(`${stack.authUrl}/account`);
    expect(await page.getByText("Virtual key").count()).toBe(1);
  });

  it("removes the passkey (the provider account stays)", async () => {
    await page.getByRole("button", { name: "Remove passkey Virtual key" }).click();
    await page.waitForURL(`${stack.authUrl}/**`);
    // The session came through the passkey: removing it ends that session too.
    expect(new URL(page.url()).pathname).toBe("/auth/signin");
    await page.goto(`${stack.authUrl}/auth/signin?redirect_to=${encodeURIComponent(`${stack.authUrl}/account`)}`);
    await page.getByRole("link", { name: "Continue with Local" }).click();
    await loginAtProvider(page, stack.oidcUrl, USER);
    await page.waitForURL(`${stack.authUrl}/account`);
    expect(await page.getByText("Virtual key").count()).toBe(0);
    expect(await page.getByText("No passkey yet.").count()).toBe(1);
    expect(watch.cspViolations).toEqual([]);
  });

  it("creates an account with a passkey alone in a fresh browser", async () => {
    const fresh = await newContext(browser);
    const p = await fresh.context.newPage();
    const session = await fresh.context.newCDPSession(p);
    await session.send("WebAuthn.enable", { enableUI: false });
    await session.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await p.goto(`${stack.authUrl}/auth/signin?redirect_to=${encodeURIComponent(`${stack.authUrl}/account`)}`);
    await p.getByText("New here?").click();
    await p.getByLabel("Your name (optional)").fill("Passkey Person");
    const create = p.getByRole("button", { name: "Create an account with a passkey" });
    await expect.poll(() => create.isEnabled()).toBe(true);
    await create.click();
    await p.waitForURL(`${stack.authUrl}/account`);
    expect(await p.getByText("Passkey Person").count()).toBeGreaterThan(0);
    expect(fresh.watch.cspViolations).toEqual([]);
    await fresh.context.close();
  });
});
