/**
 * Every HTML response carries the strict CSP (no script at all, no
 * framing), nosniff and a referrer policy; no page contains a script, except
 * the pages that offer passkeys (AUTH_PASSKEYS=true in tests): the sign-in
 * and account pages load exactly the one passkey file, which their CSP names
 * (test/passkeys/page.test.ts), and nothing inline.
 */
import { describe, expect, it } from "vitest";
import { PASSKEY_SCRIPT_HASH } from "../../src/pages/passkey-script.generated";
import { callWorker } from "../helpers/sessions";
import { getPage, signedInUser } from "./helpers";

const PASSKEY_SCRIPT_URL = `https://auth.example.com/assets/passkey.${PASSKEY_SCRIPT_HASH}.js`;

/** The only script any page may contain: the passkey file, by URL. */
function expectOnlyPasskeyScript(html: string): void {
  expect(html.match(/<script[^>]*>/gi)).toEqual([`<script type="module" src="${PASSKEY_SCRIPT_URL}">`]);
}

function expectHtmlSecurityHeaders(res: Response, script: "none" | "passkey" = "none"): void {
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain(script === "none" ? "script-src 'none'" : `script-src ${PASSKEY_SCRIPT_URL};`);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("base-uri 'none'");
  expect(csp).not.toContain("unsafe-eval");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
}

describe("HTML security headers", () => {
  it("sign-in page (signed out): CSP with form-action 'self', only the passkey script, an Origin-preserving referrer policy", async () => {
    const res = await getPage("/auth/signin?redirect_to=https%3A%2F%2Fapp.example.com%2F");
    expect(res.status).toBe(200);
    expectHtmlSecurityHeaders(res, "passkey");
    expect(res.headers.get("content-security-policy")).toContain("form-action 'self'");
    // The passkey script's POSTs need `Origin` (`no-referrer` would send `Origin: null`).
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
    const html = await res.text();
    expectOnlyPasskeyScript(html);
    expect(html).toContain('href="/auth/signin/github?redirect_to=https%3A%2F%2Fapp.example.com%2F"');
    // The inline stylesheet is a constant: not HTML-escaped (a `>` selector must stay `>`).
    expect(html).toContain("ul.plain>li");
  });

  it("root page: says what this is and links sign-in, account and the docs; same headers, no script", async () => {
    const res = await getPage("/");
    expect(res.status).toBe(200);
    expectHtmlSecurityHeaders(res);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("<h1>");
    expect(html).toMatch(/sign-in service/i);
    expect(html).toContain('href="/auth/signin"');
    expect(html).toContain('href="/account"');
    expect(html).toContain('href="/.well-known/openid-configuration"');
    expect(html).toContain('href="/.well-known/jwks.json"');
    // Only GET and HEAD: anything else is 405 with Allow.
    const post = await callWorker("/", { method: "POST", headers: { accept: "text/html" } });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("sign-in page (signed in): who you are, the account link and a sign-out form; Origin-preserving referrer policy", async () => {
    const ada = await signedInUser(["github"]);
    const res = await getPage("/auth/signin", ada.session.cookieHeader);
    expectHtmlSecurityHeaders(res, "passkey");
    // `no-referrer` would make the browser send `Origin: null` with the sign-out form.
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
    const html = await res.text();
    expect(html).toContain("Signed in as");
    expect(html).toContain('href="/account"');
    expect(html).toContain('action="/auth/signout"');
    expectOnlyPasskeyScript(html);
  });

  it("error page: code, explanation, a way back; no referrer (callback URLs carry codes)", async () => {
    const res = await getPage("/auth/error?code=StateInvalid");
    expectHtmlSecurityHeaders(res);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await res.text();
    expect(html).toContain("StateInvalid");
    expect(html).toContain("What to try");
    expect(html).toContain('href="/auth/signin"');
    expect(html).not.toMatch(/<script/i);
  });

  it("a rendered error (tampered callback) and a 404 page carry the same headers", async () => {
    const callback = await getPage("/auth/callback/github?state=tampered&code=x");
    expect(callback.status).toBeGreaterThanOrEqual(400);
    expectHtmlSecurityHeaders(callback);
    expect(callback.headers.get("referrer-policy")).toBe("no-referrer");
    expect(await callback.text()).not.toMatch(/<script|tampered/i);
    const missing = await getPage("/no/such/page");
    expect(missing.status).toBe(404);
    expectHtmlSecurityHeaders(missing);
  });

  it("account page: CSP without form-action (link forms redirect to providers), same-origin referrer", async () => {
    const ada = await signedInUser(["github"]);
    const res = await getPage("/account", ada.session.cookieHeader);
    expect(res.status).toBe(200);
    expectHtmlSecurityHeaders(res, "passkey");
    expect(res.headers.get("content-security-policy")).not.toContain("form-action");
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expectOnlyPasskeyScript(await res.text());
  });
});
