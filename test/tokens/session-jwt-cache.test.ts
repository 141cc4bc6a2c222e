/**
 * The per-isolate cache of verified session JWTs (src/tokens/session-jwt.ts):
 * a repeated check skips the signature, but never the time checks, never a
 * changed token, and never a configuration whose keys no longer hold.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { SESSION_CLOCK_TOLERANCE_SECONDS, signSessionJwt, verifySessionJwt } from "../../src/tokens/session-jwt";
import { TEST_SIGNING_KEYS } from "../bindings";
import { testConfig } from "../helpers/sessions";

const profile = { email: "cache@example.com", emailVerified: true, name: "Cache", image: null };

async function freshToken(at: Date) {
  const config = testConfig();
  const token = await signSessionJwt(config, {
    userId: crypto.randomUUID(),
    sessionId: crypto.randomUUID(),
    profile,
    sessionExpiresAt: new Date(at.getTime() + 86_400_000),
    now: at,
  });
  return { config, token };
}

describe("verified session JWT cache", () => {
  it("answers a repeated check the same way, and still expires the token at exp + tolerance", async () => {
    const t0 = new Date();
    const { config, token } = await freshToken(t0);
    const first = await verifySessionJwt(config, token, t0);
    expect(first.ok).toBe(true);
    expect(await verifySessionJwt(config, token, t0)).toEqual(first);
    const exp = Math.floor(t0.getTime() / 1000) + config.sessions.sessionTtlSeconds;
    const justBefore = new Date((exp + SESSION_CLOCK_TOLERANCE_SECONDS - 1) * 1000);
    expect((await verifySessionJwt(config, token, justBefore)).ok).toBe(true);
    const after = new Date((exp + SESSION_CLOCK_TOLERANCE_SECONDS + 1) * 1000);
    expect(await verifySessionJwt(config, token, after)).toEqual({ ok: false, reason: "expired" });
  });

  it("refuses a cached token checked by a clock more than the tolerance behind its iat", async () => {
    const t0 = new Date();
    const { config, token } = await freshToken(t0);
    expect((await verifySessionJwt(config, token, t0)).ok).toBe(true);
    const early = new Date(t0.getTime() - (SESSION_CLOCK_TOLERANCE_SECONDS + 5) * 1000);
    expect((await verifySessionJwt(config, token, early)).ok).toBe(false);
  });

  it("never serves a changed token from the cache", async () => {
    const t0 = new Date();
    const { config, token } = await freshToken(t0);
    expect((await verifySessionJwt(config, token, t0)).ok).toBe(true);
    const [h, p, sig] = token.split(".") as [string, string, string];
    const flipped = `${h}.${p}.${sig.slice(0, -2)}${sig.at(-2) === "A" ? "B" : "A"}${sig.at(-1)}`;
    expect((await verifySessionJwt(config, flipped, t0)).ok).toBe(false);
  });

  it("does not carry over to a configuration without the signing key (rotation)", async () => {
    const t0 = new Date();
    const { config, token } = await freshToken(t0);
    expect((await verifySessionJwt(config, token, t0)).ok).toBe(true);
    const rotated = parseConfig({ ...env, AUTH_SIGNING_KEYS: JSON.stringify([TEST_SIGNING_KEYS[1]]) } as Record<string, unknown>);
    if (!rotated.ok) throw new Error("rotated configuration invalid");
    expect(await verifySessionJwt(rotated.config, token, t0)).toEqual({ ok: false, reason: "invalid" });
  });
});
