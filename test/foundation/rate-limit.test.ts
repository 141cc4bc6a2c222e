/** Per-IP limits on sign-in, callback and token: 429 with Retry-After, never a 500. */
import { describe, expect, it } from "vitest";
import { call } from "../helpers/app";

async function hammer(path: string, ip: string, times: number, init: RequestInit = {}): Promise<Response[]> {
  const out: Response[] = [];
  for (let i = 0; i < times; i++) {
    const headers = { "cf-connecting-ip": ip, accept: "application/json", ...(init.headers as Record<string, string> | undefined) };
    out.push(await call(path, { ...init, headers }));
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
    const responses = await hammer(path, ip, 70, init);
    const limited = responses.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(responses.slice(0, 60).every((r) => r.status !== 429)).toBe(true);
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
    const responses = await hammer("/auth/error?code=NotFound", "192.0.2.77", 70);
    expect(responses.every((r) => r.status !== 429)).toBe(true);
  });
});
