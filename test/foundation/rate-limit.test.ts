/**
 * Per-IP limits on sign-in, callback and token, and on refresh-token checks:
 * 429 with Retry-After, never a 500.
 *
 * The limiter counts in fixed one-minute windows, so a run that crosses a
 * window boundary starts counting again: the tests send up to two windows'
 * worth and assert that the first 429 comes after at least one full window.
 */
import { describe, expect, it } from "vitest";
import { rateLimitKey } from "../../src/lib/rate-limit";
import { call } from "../helpers/app";

/** Sends up to `times` requests, stopping after the first 429. */
async function hammer(path: string, ip: string, times: number, init: RequestInit = {}): Promise<Response[]> {
  const out: Response[] = [];
  for (let i = 0; i < times; i++) {
    const headers = { "cf-connecting-ip": ip, accept: "application/json", ...(init.headers as Record<string, string> | undefined) };
    const res = await call(path, { ...init, headers });
    out.push(res);
    if (res.status === 429) break;
  }
  return out;
}

describe("rate limits", () => {
  it.each([
    ["/auth/signin/no-such-provider", {}],
    ["/auth/callback/no-such-provider", {}],
    ["/auth/token", { method: "POST", body: "{}", headers: { origin: "https://app.example.com", "content-type": "application/json" } }],
  ])("%s answers 429 with Retry-After once an address exceeds the limit", async (path, init: RequestInit) => {
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const responses = await hammer(path, ip, 2 * 60 + 1, init);
    const limited = responses.filter((r) => r.status === 429);
    expect(limited).toHaveLength(1);
    expect(responses.length).toBeGreaterThan(60);
    expect(limited[0]!.headers.get("retry-after")).toBe("60");
    expect(await limited[0]!.json()).toMatchObject({ code: "RateLimited" });
    if (path === "/auth/token") {
      // An allowed SPA can read the 429 and back off: CORS runs before the limiter.
      expect(limited[0]!.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    }
    expect(responses.every((r) => r.status < 500)).toBe(true);
    // Another address is not affected.
    const [other] = await hammer(path, "203.0.113.9", 1, init);
    expect(other!.status).not.toBe(429);
  });

  it("does not limit other routes", async () => {
    const responses = await hammer("/auth/error?code=NotFound", "192.0.2.77", 2 * 60 + 1);
    expect(responses.every((r) => r.status !== 429)).toBe(true);
  });
});

describe("refresh-token checks", () => {
  it("limits forged refresh cookies per address (each would cost a database round trip): 300 a minute, then 429", async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const statuses: number[] = [];
    for (let i = 0; i < 2 * 300 + 1 && statuses.at(-1) !== 429; i++) {
      const forged = `__Host-gh_refresh=${crypto.randomUUID()}.${"A".repeat(43)}`;
      const res = await call("/auth/session", { headers: { cookie: forged, "cf-connecting-ip": ip } });
      statuses.push(res.status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.length).toBeGreaterThan(300);
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
  });

  it("never limits a valid session JWT: it costs no database round trip", async () => {
    const { createTestUser, signInAs, cookieHeader } = await import("../helpers/sessions");
    const session = await signInAs(await createTestUser());
    const ip = "192.0.2.200";
    for (let i = 0; i < 320; i++) {
      const res = await call("/auth/session", { headers: { cookie: cookieHeader({ session: session.sessionJwt }), "cf-connecting-ip": ip } });
      expect(res.status).toBe(200);
    }
  });
});

describe("IPv6 clients", () => {
  it("are keyed by their /64: one host hopping addresses inside its prefix shares one limit", async () => {
    expect(rateLimitKey("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(rateLimitKey("2001:0DB8:0001:0002:ffff:1:2:3")).toBe("2001:db8:1:2::/64");
    expect(rateLimitKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(rateLimitKey("::1")).toBe("0:0:0:0::/64");
    expect(rateLimitKey("::ffff:198.51.100.7")).toBe("198.51.100.7");
    expect(rateLimitKey("198.51.100.7")).toBe("198.51.100.7");
    expect(rateLimitKey(undefined)).toBe("unknown");
    expect(rateLimitKey("not an address")).toBe("unknown");

    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:7`;
    const statuses: number[] = [];
    for (let i = 0; i < 2 * 60 + 1 && statuses.at(-1) !== 429; i++) {
      const res = await call("/auth/signin/no-such-provider", { headers: { "cf-connecting-ip": `${prefix}::${(i + 1).toString(16)}`, accept: "application/json" } });
      statuses.push(res.status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.length).toBeGreaterThan(60);
    const [other] = await hammer("/auth/signin/no-such-provider", `${prefix.replace(/:7$/, ":8")}::1`, 1);
    expect(other!.status).not.toBe(429);
  });
});

describe("the org API and service clients", () => {
  it("limit /api/orgs per address (each request may cost a round trip): 300 a minute, then 429 that an allowed SPA can read", async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 2 * 300 + 1 && statuses.at(-1) !== 429; i++) {
      last = await call("/api/orgs", { headers: { authorization: "Bearer not-a-jwt", origin: "https://app.example.com", "cf-connecting-ip": ip } });
      statuses.push(last.status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.length).toBeGreaterThan(300);
    expect(last!.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(last!.headers.get("retry-after")).toBe("60");
  }, 60_000);

  it("limit service-client authentication per address: 300 a minute, then 429", async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const statuses: number[] = [];
    const path = `/api/orgs/acme/pages/${crypto.randomUUID()}/token`;
    for (let i = 0; i < 2 * 300 + 1 && statuses.at(-1) !== 429; i++) {
      const res = await call(path, { method: "POST", headers: { authorization: `Basic ${btoa("guess:wrong-secret-0123456789")}`, "cf-connecting-ip": ip } });
      statuses.push(res.status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.length).toBeGreaterThan(300);
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
  }, 60_000);
});
