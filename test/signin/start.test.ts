/**
 * `GET /auth/signin` and `GET /auth/signin/:provider`: the page, redirect_to
 * validation, the transaction in KV (awaited before the redirect, F9), the
 * binding cookie, and zero database round trips.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/crypto";
import { resetStats, stats } from "../helpers/neon-local";
import { request, requestUnsettled, signinEnv, startSignIn, TX_COOKIE, wrapKv } from "./helpers";

const SCOPE = "signin_start";
const HTML = { accept: "text/html" };

async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return btoa(String.fromCharCode(...digest)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

async function storedTransaction(state: string): Promise<Record<string, unknown> | null> {
  return env.AUTH_KV.get(`tx:${await sha256Hex(state)}`, "json");
}

beforeEach(async () => {
  await resetStats(SCOPE);
});

describe("GET /auth/signin", () => {
  it("lists every enabled provider as a plain link that keeps redirect_to", async () => {
    const res = await request("/auth/signin?redirect_to=https%3A%2F%2Fapp.example.com%2Fhome", { headers: HTML }, signinEnv(SCOPE));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    // The only script is the passkey file (AUTH_PASSKEYS=true in tests; test/passkeys/page.test.ts).
    expect(html.match(/<script[^>]*>/g)).toEqual([expect.stringMatching(/^<script type="module" src="https:\/\/auth\.example\.com\/assets\/passkey\.[0-9a-f]{16}\.js">$/)]);
    for (const id of ["github", "google", "facebook", "naver", "kakao"]) {
      expect(html).toContain(`href="/auth/signin/${id}?redirect_to=https%3A%2F%2Fapp.example.com%2Fhome"`);
    }
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("links without redirect_to when none was given", async () => {
    const html = await (await request("/auth/signin", { headers: HTML }, signinEnv(SCOPE))).text();
    expect(html).toContain(`href="/auth/signin/github"`);
  });

  it("refuses a foreign redirect_to with the InvalidRedirect page", async () => {
    const res = await request("/auth/signin?redirect_to=https%3A%2F%2Fevil.example.com%2F", { headers: HTML }, signinEnv(SCOPE));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("InvalidRedirect");
    expect(res.headers.get("location")).toBeNull();
  });
});

describe("GET /auth/signin/:provider", () => {
  it("stores the transaction, sets the binding cookie and redirects, with zero database round trips", async () => {
    const { response, location, state, cookie } = await startSignIn("github", signinEnv(SCOPE), "?redirect_to=%2Faccount");
    expect(await stats(SCOPE)).toMatchObject({ requests: 0 });
    expect(location.origin + location.pathname).toBe("https://github.com/login/oauth/authorize");
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get("redirect_uri")).toBe("https://auth.example.com/auth/callback/github");
    expect(location.searchParams.get("code_challenge_method")).toBe("S256");
    expect(response.headers.get("cache-control")).toBe("no-store");

    const tx = await storedTransaction(state);
    expect(tx).toMatchObject({ provider: "github", nonce: null, redirectTo: "https://auth.example.com/account", linkUserId: null });
    expect(location.searchParams.get("code_challenge")).toBe(await s256(String(tx?.codeVerifier)));

    const [setCookie, ...others] = response.headers.getSetCookie();
    expect(others).toEqual([]);
    expect(setCookie).toMatch(new RegExp(`^${TX_COOKIE}=[A-Za-z0-9_-]{43}; `));
    for (const attribute of ["Max-Age=600", "Path=/", "Secure", "HttpOnly", "SameSite=Lax"]) expect(setCookie).toContain(attribute);
    expect(setCookie).not.toContain("Domain");
    // The cookie binds this transaction: KV holds only its hash, and never the state in clear.
    expect(tx?.bindingHash).toBe(await sha256Hex(cookie.split("=")[1] ?? ""));
    expect(JSON.stringify(tx)).not.toContain(state);
  });

  it("carries a nonce for OpenID providers (Google)", async () => {
    const { location, state } = await startSignIn("google", signinEnv(SCOPE));
    expect(location.origin).toBe("https://accounts.google.com");
    const tx = await storedTransaction(state);
    expect(tx?.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get("nonce")).toBe(tx?.nonce);
    expect(await stats(SCOPE)).toMatchObject({ requests: 0 });
  });

  it("defaults redirect_to to the worker's own root", async () => {
    const { state } = await startSignIn("github", signinEnv(SCOPE));
    expect(await storedTransaction(state)).toMatchObject({ redirectTo: "https://auth.example.com/" });
  });

  it.each([
    ["an allowed app origin", "https://app.example.com/after?x=1#frag", "https://app.example.com/after?x=1#frag"],
    ["http on localhost", "http://localhost:5173/callback", "http://localhost:5173/callback"],
    ["a path on the worker", "/account/linked", "https://auth.example.com/account/linked"],
  ])("accepts %s", async (_, value, stored) => {
    const { state } = await startSignIn("github", signinEnv(SCOPE), `?redirect_to=${encodeURIComponent(value)}`);
    expect(await storedTransaction(state)).toMatchObject({ redirectTo: stored });
  });

  it.each([
    ["another origin", "https://evil.example.com/"],
    ["a look-alike suffix", "https://app.example.com.evil.com/"],
    ["another port", "https://app.example.com:8443/"],
    ["plain http off localhost", "http://app.example.com/"],
    ["protocol-relative", "//evil.example.com/"],
    ["a backslash", "/\\evil.example.com/"],
    ["a backslash after the scheme", "https:\\\\evil.example.com"],
    ["credentials", "https://user:pw@app.example.com/"],
    ["javascript:", "javascript:alert(1)"],
    ["data:", "data:text/html,hi"],
    ["a tab", "/\t/evil.example.com"],
    ["a control character", "https://app.example.com/\u0000"],
    ["a non-ASCII host", "https://аpp.example.com/"],
    ["an empty value", ""],
  ])("refuses %s with 400 InvalidRedirect, no cookie, no KV write", async (_, value) => {
    const { kv, puts } = wrapKv(env.AUTH_KV);
    const res = await request(`/auth/signin/github?redirect_to=${encodeURIComponent(value)}`, { headers: HTML }, signinEnv(SCOPE, kv));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("InvalidRedirect");
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(puts).toEqual([]);
  });

  it("refuses redirect_to given twice", async () => {
    const res = await request("/auth/signin/github?redirect_to=%2Fa&redirect_to=https%3A%2F%2Fevil.example.com", {}, signinEnv(SCOPE));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "InvalidRedirect" });
  });

  it.each(["twitter", "GitHub", "..%2Fgithub"])("answers 404 for the unknown provider %s", async (id) => {
    const { kv, puts } = wrapKv(env.AUTH_KV);
    const res = await request(`/auth/signin/${id}`, { headers: HTML }, signinEnv(SCOPE, kv));
    expect(res.status).toBe(404);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(puts).toEqual([]);
  });

  it("redirects only after KV accepted a slow write (F9)", async () => {
    const { kv, puts } = wrapKv(env.AUTH_KV, { putDelayMs: 200 });
    const { response, settled } = requestUnsettled("/auth/signin/github", {}, signinEnv(SCOPE, kv));
    const res = await response;
    // Read at the moment the redirect exists, before anything left running could finish.
    const state = new URL(res.headers.get("location") ?? "").searchParams.get("state") ?? "";
    const tx = await storedTransaction(state);
    await settled();
    expect(res.status).toBe(302);
    expect(puts).toHaveLength(1);
    expect(tx).toMatchObject({ provider: "github" });
  });

  it("answers 503 StorageUnavailable with no redirect and no cookie when KV refuses the write", async () => {
    const { kv, puts } = wrapKv(env.AUTH_KV, { failPut: true });
    const page = await request("/auth/signin/github", { headers: HTML }, signinEnv(SCOPE, kv));
    expect(page.status).toBe(503);
    expect(await page.text()).toContain("StorageUnavailable");
    expect(page.headers.get("location")).toBeNull();
    expect(page.headers.getSetCookie()).toEqual([]);
    expect(puts).toHaveLength(1);

    const api = await request("/auth/signin/github", {}, signinEnv(SCOPE, kv));
    expect(api.status).toBe(503);
    expect(await api.json()).toMatchObject({ code: "StorageUnavailable" });
    expect(await stats(SCOPE)).toMatchObject({ requests: 0 });
  });
});
