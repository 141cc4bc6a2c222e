/**
 * The passkey controls on the pages, and the one script behind them: the
 * sign-in and account pages load `/assets/passkey.<hash>.js` and their CSP
 * allows exactly that URL (nothing inline, nothing remote); the controls are
 * hidden and disabled in the HTML (they need the script); the asset is
 * served with its content hash in the name and cached as immutable.
 */
import { describe, expect, it } from "vitest";
import { PASSKEY_SCRIPT, PASSKEY_SCRIPT_HASH } from "../../src/pages/passkey-script.generated";
import { callWorker, createTestUser, signInAs } from "../helpers/sessions";

const SCRIPT_URL = `https://auth.example.com/assets/passkey.${PASSKEY_SCRIPT_HASH}.js`;

function scriptSrc(res: Response): string | undefined {
  return res.headers.get("content-security-policy")?.split(";").map((d) => d.trim()).find((d) => d.startsWith("script-src"));
}

describe("passkey page script", () => {
  it("the sign-in page offers passkeys (autofill input, button, sign-up) hidden until the script runs", async () => {
    const res = await callWorker("/auth/signin?redirect_to=https%3A%2F%2Fapp.example.com%2Fx", { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`<script type="module" src="${SCRIPT_URL}"></script>`);
    expect(html).toMatch(/<section data-passkey-root="true" data-autofill="true" data-redirect-to="https:\/\/app.example.com\/x"[^>]* hidden=""/);
    expect(html).toContain('autocomplete="username webauthn"');
    expect(html).toMatch(/data-passkey="signin" disabled/);
    expect(html).toMatch(/data-passkey="signup" disabled/);
    expect(scriptSrc(res)).toBe(`script-src ${SCRIPT_URL}`);
    expect(res.headers.get("content-security-policy")).toContain("connect-src 'self'");
    // The script's fetch POSTs need an Origin header: not `no-referrer`.
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
    // Nothing inline.
    expect(html.match(/<script/g)).toHaveLength(1);
  });

  it("the account page lists the add control with the same single script", async () => {
    const session = await signInAs(await createTestUser());
    const res = await callWorker("/account", { headers: { accept: "text/html", cookie: session.cookieHeader } });
    const html = await res.text();
    expect(html).toMatch(/data-passkey="register" disabled/);
    expect(html).toContain("<noscript>");
    expect(scriptSrc(res)).toBe(`script-src ${SCRIPT_URL}`);
  });

  it("serves the bundled script under its content hash, immutable; any other name is 404", async () => {
    const res = await callWorker(`/assets/passkey.${PASSKEY_SCRIPT_HASH}.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const body = await res.text();
    expect(body).toBe(PASSKEY_SCRIPT);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)));
    expect(Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, 16)).toBe(PASSKEY_SCRIPT_HASH);
    // The bundled browser library is in it: one file, nothing loaded from elsewhere.
    expect(body).toContain("/auth/passkey/signin/options");
    expect(body).not.toMatch(/\bimport\s*[("{*]/);
    expect((await callWorker("/assets/passkey.0000000000000000.js")).status).toBe(404);
    expect((await callWorker("/assets/other.js")).status).toBe(404);
  });
});
