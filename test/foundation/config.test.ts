/**
 * F2 and F5: every kind of configuration mistake is a named problem, reported
 * all at once, without the value; the worker answers with a readable error
 * instead of crashing deep in a provider call.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { parseConfig } from "../../src/config";

/** The test environment as plain strings (what the worker gets). */
function baseEnv(): Record<string, unknown> {
  return { ...(env as unknown as Record<string, unknown>) };
}

function problemsOf(overrides: Record<string, unknown>, remove: string[] = []) {
  const e = { ...baseEnv(), ...overrides };
  for (const k of remove) delete e[k];
  const result = parseConfig(e);
  return result.ok ? [] : result.problems;
}

describe("configuration", () => {
  it("accepts the test environment and exposes typed values", () => {
    const result = parseConfig(baseEnv());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.authUrl.origin).toBe("https://auth.example.com");
    expect(result.config.signingKeys[0]?.kid).toBe("test-key-1");
    expect(result.config.encryptionKeys.map((k) => k.version)).toEqual([2, 1]);
    expect(result.config.allowedAudiences[0]).toBe("https://api.example.com");
    expect(result.config.providers.map((p) => p.id)).toEqual(expect.arrayContaining(["github", "google", "facebook", "naver", "kakao"]));
    expect(Object.isFrozen(result.config)).toBe(true);
  });

  it.each([
    ["missing", {}, ["GITHUB_CLIENT_SECRET"], { variable: "GITHUB_CLIENT_SECRET", problem: "missing" }],
    ["empty", { GOOGLE_CLIENT_ID: "" }, [], { variable: "GOOGLE_CLIENT_ID", problem: "empty" }],
    ["double-quoted", { GITHUB_CLIENT_ID: '"abc123"' }, [], { variable: "GITHUB_CLIENT_ID", problem: "quoted" }],
    ["single-quoted", { NAVER_CLIENT_SECRET: "'naver-secret-0123456789'" }, [], { variable: "NAVER_CLIENT_SECRET", problem: "quoted" }],
    ["whitespace-padded", { KAKAO_CLIENT_ID: " kakao " }, [], { variable: "KAKAO_CLIENT_ID", problem: "whitespace" }],
    ["trailing newline", { FACEBOOK_CLIENT_SECRET: "facebook-secret-0123456789\n" }, [], { variable: "FACEBOOK_CLIENT_SECRET", problem: "whitespace" }],
    ["malformed URL", { AUTH_URL: "auth.example.com" }, [], { variable: "AUTH_URL", problem: "invalid_url" }],
    ["http outside localhost", { AUTH_URL: "http://auth.example.com" }, [], { variable: "AUTH_URL", problem: "invalid_url" }],
    ["URL with a path where an origin is needed", { ALLOWED_ORIGINS: "https://app.example.com/path" }, [], { variable: "ALLOWED_ORIGINS", problem: "invalid_url" }],
    ["secret too short", { GITHUB_CLIENT_SECRET: "short" }, [], { variable: "GITHUB_CLIENT_SECRET", problem: "too_short" }],
    ["half a provider (id without secret)", { GOOGLE_CLIENT_SECRET: undefined }, ["GOOGLE_CLIENT_SECRET"], { variable: "GOOGLE_CLIENT_SECRET", problem: "missing" }],
    ["half a provider (secret without id)", {}, ["NAVER_CLIENT_ID"], { variable: "NAVER_CLIENT_ID", problem: "missing" }],
    ["signing keys not JSON", { AUTH_SIGNING_KEYS: "{not json" }, [], { variable: "AUTH_SIGNING_KEYS", problem: "invalid" }],
    ["signing key without the private part", { AUTH_SIGNING_KEYS: JSON.stringify([{ kty: "EC", crv: "P-256", x: "a", y: "b", kid: "k" }]) }, [], { variable: "AUTH_SIGNING_KEYS", problem: "invalid" }],
    ["encryption key of the wrong length", { TOKEN_ENCRYPTION_KEY: "1:c2hvcnQ" }, [], { variable: "TOKEN_ENCRYPTION_KEY", problem: "invalid" }],
    ["database URL missing", {}, ["DATABASE_URL"], { variable: "DATABASE_URL", problem: "missing" }],
    ["OIDC instance without issuer", { OIDC_PROVIDERS: "corp", OIDC_CORP_CLIENT_ID: "corp-client", OIDC_CORP_CLIENT_SECRET: "corp-secret-0123456789" }, [], { variable: "OIDC_CORP_ISSUER", problem: "missing" }],
    ["number out of range", { SESSION_TTL_SECONDS: "5" }, [], { variable: "SESSION_TTL_SECONDS", problem: "invalid" }],
  ])("%s is a named problem", (_name, overrides, remove, expected) => {
    const problems = problemsOf(overrides, remove);
    expect(problems).toContainEqual(expect.objectContaining(expected));
  });

  describe("development-only values need GATEHOUSE_DEVELOPMENT=true", () => {
    // The test harness's local OpenID provider runs on http://localhost: left out here.
    const production = {
      GATEHOUSE_DEVELOPMENT: undefined,
      NEON_FETCH_ENDPOINT: undefined,
      ALLOWED_ORIGINS: "https://app.example.com",
      ALLOWED_REDIRECT_ORIGINS: "https://app.example.com",
      OIDC_PROVIDERS: undefined,
    };

    it("accepts a production-shaped environment without the flag", () => {
      expect(problemsOf(production)).toEqual([]);
    });

    it.each([
      ["AUTH_URL on http://localhost", { AUTH_URL: "http://localhost:8787" }, "AUTH_URL"],
      ["an http://localhost SPA origin", { ALLOWED_ORIGINS: "http://localhost:5173" }, "ALLOWED_ORIGINS"],
      ["an http://127.0.0.1 redirect origin", { ALLOWED_REDIRECT_ORIGINS: "http://127.0.0.1:5173" }, "ALLOWED_REDIRECT_ORIGINS"],
      ["an http://localhost OpenID issuer", { OIDC_PROVIDERS: "corp", OIDC_CORP_ISSUER: "http://localhost:9000", OIDC_CORP_CLIENT_ID: "c", OIDC_CORP_CLIENT_SECRET: "corp-secret-0123456789" }, "OIDC_CORP_ISSUER"],
      ["NEON_FETCH_ENDPOINT (any URL)", { NEON_FETCH_ENDPOINT: "https://neon-local.example.com/sql" }, "NEON_FETCH_ENDPOINT"],
    ])("refuses %s without it, accepts it with GATEHOUSE_DEVELOPMENT=true", (_label, overrides, variable) => {
      expect(problemsOf({ ...production, ...overrides })).toContainEqual(expect.objectContaining({ variable }));
      expect(problemsOf({ ...production, ...overrides, GATEHOUSE_DEVELOPMENT: "true" })).toEqual([]);
    });

    it("refuses any other value of the flag, and http outside localhost even with it", () => {
      expect(problemsOf({ ...production, GATEHOUSE_DEVELOPMENT: "yes" })).toContainEqual(expect.objectContaining({ variable: "GATEHOUSE_DEVELOPMENT", problem: "invalid" }));
      expect(problemsOf({ GATEHOUSE_DEVELOPMENT: "true", AUTH_URL: "http://auth.example.com" })).toContainEqual(expect.objectContaining({ variable: "AUTH_URL", problem: "invalid_url" }));
    });
  });

  it("refuses ALLOWED_AUDIENCES that lists gatehouse's own API audience (<AUTH_URL>/api)", () => {
    expect(problemsOf({ ALLOWED_AUDIENCES: "https://auth.example.com/api,https://api.example.com" })).toContainEqual(
      expect.objectContaining({ variable: "ALLOWED_AUDIENCES", problem: "invalid" }),
    );
  });

  it("reads OAUTH_DYNAMIC_REGISTRATION: off by default, open when asked, any other value a named problem", () => {
    const read = (value?: string) => parseConfig({ ...baseEnv(), ...(value === undefined ? {} : { OAUTH_DYNAMIC_REGISTRATION: value }) });
    expect(read()).toMatchObject({ ok: true, config: { dynamicRegistration: "off" } });
    expect(read("open")).toMatchObject({ ok: true, config: { dynamicRegistration: "open" } });
    expect(read("off")).toMatchObject({ ok: true, config: { dynamicRegistration: "off" } });
    for (const bad of ["on", "true", "OPEN", "closed"]) {
      expect(problemsOf({ OAUTH_DYNAMIC_REGISTRATION: bad })).toContainEqual(expect.objectContaining({ variable: "OAUTH_DYNAMIC_REGISTRATION", problem: "invalid" }));
    }
  });

  it.each(["-acme", "acme-", "ac--me", "Acme", "a"])("a service client for an org slug that can never exist (%s) is a named problem", (org) => {
    const value = JSON.stringify([{ id: "billing", secretHash: "a".repeat(64), orgs: [org] }]);
    expect(problemsOf({ AUTH_SERVICE_CLIENTS: value })).toContainEqual(expect.objectContaining({ variable: "AUTH_SERVICE_CLIENTS", problem: "invalid" }));
  });

  it("reports every problem at once and never includes a value", () => {
    const secret = '"super-secret-value-123456"';
    const problems = problemsOf({ GITHUB_CLIENT_SECRET: secret, AUTH_URL: "nope", GOOGLE_CLIENT_ID: " x " });
    expect(problems.map((p) => p.variable).sort()).toEqual(["AUTH_URL", "GITHUB_CLIENT_SECRET", "GOOGLE_CLIENT_ID"]);
    expect(JSON.stringify(problems)).not.toContain("super-secret-value");
  });

  it("a provider with no configuration at all is simply disabled, not a problem", () => {
    const result = parseConfig({ ...baseEnv(), GITHUB_CLIENT_ID: undefined, GITHUB_CLIENT_SECRET: undefined });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.config.providers.some((p) => p.id === "github")).toBe(false);
  });

  it("API routes answer 500 JSON naming the variables; browser routes a readable page; no value leaks", async () => {
    const app = createApp();
    const broken = { ...baseEnv(), GITHUB_CLIENT_SECRET: undefined, GOOGLE_CLIENT_SECRET: '"google-secret-value-xyz"' };
    const api = await app.request("https://auth.example.com/health", {}, broken);
    expect(api.status).toBe(500);
    const body = (await api.json()) as { error: string; problems: { variable: string; problem: string }[] };
    expect(body.error).toBe("configuration");
    expect(body.problems).toContainEqual({ variable: "GITHUB_CLIENT_SECRET", problem: "missing", hint: expect.any(String) });
    expect(body.problems).toContainEqual(expect.objectContaining({ variable: "GOOGLE_CLIENT_SECRET", problem: "quoted" }));
    expect(JSON.stringify(body)).not.toContain("google-secret-value");

    const page = await app.request("https://auth.example.com/auth/error?code=Configuration", { headers: { accept: "text/html" } }, broken);
    expect(page.status).toBe(500);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).toContain("GITHUB_CLIENT_SECRET");
    expect(html).toContain("GOOGLE_CLIENT_SECRET");
    expect(html).not.toContain("google-secret-value");
    expect(html).not.toMatch(/at .*\.ts:\d+/);
    // The list comes first, so the advice points up to it; hints show code as code, never raw backticks.
    const list = html.indexOf("GITHUB_CLIENT_SECRET");
    expect(html.indexOf("listed above")).toBeGreaterThan(list);
    expect(html).not.toContain("listed below");
    expect(html).not.toContain("`");
  });

  it("renders a hint's `code` as <code> on the configuration page", async () => {
    const broken = { ...baseEnv(), AUTH_SERVICE_CLIENTS: "not json" };
    const html = await (await createApp().request("https://auth.example.com/auth/error?code=Configuration", { headers: { accept: "text/html" } }, broken)).text();
    expect(html).toContain("AUTH_SERVICE_CLIENTS");
    expect(html).toContain("<code>npm run service-client:generate</code>");
    expect(html).not.toContain("`");
  });
});
