/**
 * Per-IP limits on sign-in, callback and token, and on refresh-token checks:
 * 429 with Retry-After, never a 500.
 *
 * No test depends on the machine's speed. The real binding (miniflare) counts
 * in fixed windows aligned to the clock (floor(now / period)), so each test
 * fills an address's budget up to one below the limit through the binding
 * itself (cheap, no HTTP, no database), then sends the last allowed request
 * and the first refused one through the app. An attempt that straddles a
 * window boundary is detected from the clock and repeated with a fresh
 * address; inside one window the outcome is exact.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { rateLimitKey } from "../../src/lib/rate-limit";
import { call } from "../helpers/app";

/** wrangler.toml: AUTH_RATE_LIMITER and AUTH_REFRESH_RATE_LIMITER. */
const LIMIT = 60;
const REFRESH_LIMIT = 300;
const PERIOD_MS = 60_000;

let nextAddress = Math.floor(Math.random() * 200);
const freshIp = () => `198.51.100.${(nextAddress++ % 250) + 1}`;

/** Runs `attempt` until one run starts and ends in the same limiter window (at most 5 runs). */
async function inOneWindow<T>(attempt: (ip: string) => Promise<T>): Promise<T> {
  for (let tries = 0; tries < 5; tries++) {
    const window = Math.floor(Date.now() / PERIOD_MS);
    const result = await attempt(freshIp());
    if (Math.floor(Date.now() / PERIOD_MS) === window) return result;
  }
  throw new Error("five attempts in a row straddled a rate-limit window");
}

/** Spends `n` of `ip`'s budget in `bucket` through the binding, as `n` earlier requests would. */
async function spend(limiter: RateLimit, bucket: string, ip: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const { success } = await limiter.limit({ key: `${bucket}:${rateLimitKey(ip)}` });
    if (!success) throw new Error(`budget of ${bucket}:${ip} ran out after ${i} of ${n}`);
  }
}

const request = (path: string, ip: string, init: RequestInit = {}) =>
  call(path, { ...init, headers: { "cf-connecting-ip": ip, accept: "application/json", ...(init.headers as Record<string, string> | undefined) } });

describe("rate limits", () => {
  it.each([
    ["signin", "/auth/signin/no-such-provider", {}],
    ["callback", "/auth/callback/no-such-provider", {}],
    ["token", "/auth/token", { method: "POST", body: "{}", headers: { origin: "https://app.example.com", "content-type": "application/json" } }],
  ])("%s: the 60th request of an address is served, the 61st answers 429 with Retry-After", async (bucket, path, init: RequestInit) => {
    const { last, limited, other } = await inOneWindow(async (ip) => {
      await spend(env.AUTH_RATE_LIMITER, bucket, ip, LIMIT - 1);
      const last = await request(path, ip, init);
      const limited = await request(path, ip, init);
      // Another address is not affected.
      const other = await request(path, freshIp(), init);
      return { last, limited, other };
    });
    expect(last.status).not.toBe(429);
    expect(last.status).toBeLessThan(500);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(await limited.json()).toMatchObject({ code: "RateLimited" });
    if (path === "/auth/token") {
      // An allowed SPA can read the 429 and back off: CORS runs before the limiter.
      expect(limited.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    }
    expect(other.status).toBe(last.status);
  });

  it("does not limit other routes, even for an address whose every budget is spent", async () => {
    const statuses = await inOneWindow(async (ip) => {
      for (const bucket of ["signin", "callback", "token"]) await spend(env.AUTH_RATE_LIMITER, bucket, ip, LIMIT);
      await spend(env.AUTH_REFRESH_RATE_LIMITER, "refresh", ip, REFRESH_LIMIT);
      const out: number[] = [];
      for (let i = 0; i < 3; i++) out.push((await request("/auth/error?code=NotFound", ip)).status);
      return out;
    });
    expect(statuses).toEqual([200, 200, 200]);
  });
});

describe("refresh-token checks", () => {
  const forged = () => ({ cookie: `__Host-gh_refresh=${crypto.randomUUID()}.${"A".repeat(43)}` });

  it("limits forged refresh cookies per address (each would cost a database round trip): 300 a minute, then 429", async () => {
    const { last, limited, other } = await inOneWindow(async (ip) => {
      await spend(env.AUTH_REFRESH_RATE_LIMITER, "refresh", ip, REFRESH_LIMIT - 1);
      const last = await request("/auth/session", ip, { headers: forged() });
      const limited = await request("/auth/session", ip, { headers: forged() });
      const other = await request("/auth/session", freshIp(), { headers: forged() });
      return { last, limited, other };
    });
    expect(last.status).toBe(401);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(other.status).toBe(401);
  });

  it("never limits a valid session JWT: it costs no database round trip", async () => {
    const { createTestUser, signInAs, cookieHeader } = await import("../helpers/sessions");
    const session = await signInAs(await createTestUser());
    const { valid, forgedStatus } = await inOneWindow(async (ip) => {
      await spend(env.AUTH_REFRESH_RATE_LIMITER, "refresh", ip, REFRESH_LIMIT);
      const valid = await request("/auth/session", ip, { headers: { cookie: cookieHeader({ session: session.sessionJwt }) } });
      const forgedStatus = (await request("/auth/session", ip, { headers: forged() })).status;
      return { valid, forgedStatus };
    });
    // The budget was spent (a refresh check is refused), and the JWT is still served.
    expect(forgedStatus).toBe(429);
    expect(valid.status).toBe(200);
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

  });

  it("a host hopping addresses inside its /64 is refused at the limit; the next /64 is not", async () => {
    const { last, limited, other } = await inOneWindow(async () => {
      const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:7`;
      await spend(env.AUTH_RATE_LIMITER, "signin", `${prefix}::1`, LIMIT - 1);
      const last = await request("/auth/signin/no-such-provider", `${prefix}::2`);
      const limited = await request("/auth/signin/no-such-provider", `${prefix}:ffff:1:2:3`);
      const other = await request("/auth/signin/no-such-provider", `${prefix.replace(/:7$/, ":8")}::1`);
      return { last, limited, other };
    });
    expect(last.status).not.toBe(429);
    expect(limited.status).toBe(429);
    expect(other.status).not.toBe(429);
  });
});

describe("the org API and service clients", () => {
  it("limit /api/orgs per address (each request may cost a round trip): the 300th is served, the 301st is a 429 an allowed SPA can read", async () => {
    const { last, limited } = await inOneWindow(async (ip) => {
      await spend(env.AUTH_REFRESH_RATE_LIMITER, "api", ip, REFRESH_LIMIT - 1);
      const init = { headers: { authorization: "Bearer not-a-jwt", origin: "https://app.example.com" } };
      return { last: await request("/api/orgs", ip, init), limited: await request("/api/orgs", ip, init) };
    });
    expect(last.status).toBe(401);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(limited.headers.get("retry-after")).toBe("60");
  });

  it("limit service-client authentication per address: the 300th is checked, the 301st is a 429", async () => {
    const path = `/api/orgs/acme/pages/${crypto.randomUUID()}/token`;
    const init = { method: "POST", headers: { authorization: `Basic ${btoa("guess:wrong-secret-0123456789")}` } };
    const { last, limited } = await inOneWindow(async (ip) => {
      await spend(env.AUTH_REFRESH_RATE_LIMITER, "service", ip, REFRESH_LIMIT - 1);
      return { last: await request(path, ip, init), limited: await request(path, ip, init) };
    });
    expect(last.status).toBe(401);
    expect(limited.status).toBe(429);
  });
});
