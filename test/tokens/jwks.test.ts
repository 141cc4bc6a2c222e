/** Discovery documents and the key ring. */
import { describe, expect, it } from "vitest";
import { parseConfig, type SigningJwk } from "../../src/config";
import { GatehouseError } from "../../src/error";
import { signAccessToken } from "../../src/tokens/access-token";
import { generateSigningJwk, keyRingFor } from "../../src/tokens/keys";
import { TEST_SIGNING_KEYS } from "../bindings";
import { callWorker, testConfig } from "../helpers/sessions";

describe("GET /.well-known/jwks.json", () => {
  it("publishes every configured key with public members only, cacheable for 5 minutes", async () => {
    const res = await callWorker("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const text = await res.text();
    const { keys } = JSON.parse(text) as { keys: Record<string, unknown>[] };
    expect(keys.map((k) => k.kid)).toEqual(TEST_SIGNING_KEYS.map((k) => k.kid));
    for (const key of keys) expect(Object.keys(key).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
    expect(keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig", x: TEST_SIGNING_KEYS[0]!.x });
    for (const key of TEST_SIGNING_KEYS) expect(text).not.toContain(key.d);
    expect(text).not.toContain('"d"');
  });

  it("serves an OpenID-style configuration naming issuer, JWKS and token endpoint", async () => {
    const res = await callWorker("/.well-known/openid-configuration");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    expect(await res.json()).toMatchObject({
      issuer: "https://auth.example.com",
      jwks_uri: "https://auth.example.com/.well-known/jwks.json",
      token_endpoint: "https://auth.example.com/oauth/token",
      id_token_signing_alg_values_supported: ["ES256"],
    });
  });
});

describe("claims_supported", () => {
  it("names every claim an access token can carry, the org ones included", async () => {
    const { claims_supported } = (await (await callWorker("/.well-known/openid-configuration")).json()) as { claims_supported: string[] };
    const config = testConfig();
    const { token } = await signAccessToken(config, {
      userId: crypto.randomUUID(),
      sessionId: crypto.randomUUID(),
      audience: config.allowedAudiences[0]!,
      scope: "openid profile",
      clientId: "https://app.example.com",
      org: { id: crypto.randomUUID(), roles: ["admin"] },
      now: new Date(),
    });
    const payload = JSON.parse(atob(token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/"))) as Record<string, unknown>;
    expect(payload).toHaveProperty("org");
    expect(payload).toHaveProperty("roles");
    for (const claim of Object.keys(payload)) expect(claims_supported).toContain(claim);
  });
});

describe("key ring", () => {
  it("generates keys the configuration accepts and the ring can sign with", async () => {
    const jwk = await generateSigningJwk(new Date("2026-01-05T00:00:00Z"));
    expect(jwk.kid).toMatch(/^2026-01-05-[0-9a-f]{8}$/);
    const parsed = parseConfig({
      AUTH_URL: "https://auth.example.com",
      DATABASE_URL: "postgres://u:p@localhost/db",
      AUTH_SIGNING_KEYS: JSON.stringify([jwk]),
      TOKEN_ENCRYPTION_KEY: "1:QW3UjBuIF1TXG0hMjgyMFcBRzM10bIwkP0VEWnRaLGA",
    });
    expect(parsed.ok).toBe(true);
    const ring = await keyRingFor([jwk]);
    expect(ring.signing.kid).toBe(jwk.kid);
  });

  it("refuses a key whose public x/y do not belong to its d, as a Configuration error", async () => {
    const [a, b] = TEST_SIGNING_KEYS;
    const mismatched = { ...a!, x: b!.x, y: b!.y, kid: "mismatched" };
    const error = await keyRingFor([mismatched as SigningJwk]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseError);
    expect(error).toMatchObject({ code: "Configuration", extra: { problems: [{ variable: "AUTH_SIGNING_KEYS", problem: "invalid" }] } });
    expect(JSON.stringify((error as GatehouseError).extra)).not.toContain(a!.d);
  });
});
