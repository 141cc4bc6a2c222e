/**
 * gatehouse/verify: what a backend accepts. Tokens are crafted with jose
 * and the test keys so claims and clocks can be set exactly; the JWKS is
 * fetched from the worker itself through the `fetch` option.
 */
import { generateKeyPair, importJWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_TOKEN_AGE_SECONDS, verifyAccessToken, type VerifyAccessTokenOptions } from "../../src/verify";
import { TEST_SIGNING_KEYS } from "../bindings";
import { b64json, callWorker, craftJwt, testConfig } from "../helpers/sessions";

const jwksFetch = (url: string, init: { headers: Headers }) => callWorker(new URL(url).pathname, { headers: init.headers });
const options: VerifyAccessTokenOptions = {
  issuer: "https://auth.example.com",
  audience: "https://api.example.com",
  jwksUrl: "https://auth.example.com/.well-known/jwks.json",
  fetch: jwksFetch,
};
const AT = { typ: "at+jwt" };

/** Access-token claims relative to now; offsets in seconds. */
function claims(offsets: { iat?: number; exp?: number; nbf?: number } = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const iat = now + (offsets.iat ?? 0);
  return {
    iss: "https://auth.example.com",
    aud: "https://api.example.com",
    sub: "6f1c1f5e-8a53-4f4e-9d43-0b2a8f0f3c11",
    sid: "0e8f8a1e-3a52-4c1b-8a0b-5c1d2e3f4a5b",
    scope: "openid profile",
    client_id: "https://app.example.com",
    jti: crypto.randomUUID(),
    iat,
    exp: offsets.exp === undefined ? iat + 600 : now + offsets.exp,
    ...(offsets.nbf === undefined ? {} : { nbf: now + offsets.nbf }),
  };
}

describe("verifyAccessToken", () => {
  it("accepts a token signed by any published key, using only the JWKS URL", async () => {
    expect(await verifyAccessToken(await craftJwt(claims(), AT), options)).toMatchObject({ ok: true, claims: { sub: claims().sub } });
    expect(await verifyAccessToken(await craftJwt(claims(), AT, TEST_SIGNING_KEYS[1]), options)).toMatchObject({ ok: true });
  });

  it("tolerates 60 s of clock skew both ways (F7): iat +30 s and exp -30 s pass, 120 s fail", async () => {
    expect(await verifyAccessToken(await craftJwt(claims({ iat: 30 }), AT), options)).toMatchObject({ ok: true });
    expect(await verifyAccessToken(await craftJwt(claims({ iat: 120 }), AT), options)).toEqual({ ok: false, error: "invalid_claims" });
    expect(await verifyAccessToken(await craftJwt(claims({ iat: -630, exp: -30 }), AT), options)).toMatchObject({ ok: true });
    expect(await verifyAccessToken(await craftJwt(claims({ iat: -720, exp: -120 }), AT), options)).toEqual({ ok: false, error: "expired" });
    expect(await verifyAccessToken(await craftJwt(claims({ nbf: 30 }), AT), options)).toMatchObject({ ok: true });
    expect(await verifyAccessToken(await craftJwt(claims({ nbf: 120 }), AT), options)).toEqual({ ok: false, error: "invalid_claims" });
  });

  it("requires iss, aud, sub, exp and iat, with the configured values (F8)", async () => {
    expect(await verifyAccessToken(await craftJwt({ ...claims(), iss: "https://evil.example" }, AT), options)).toEqual({ ok: false, error: "invalid_claims" });
    expect(await verifyAccessToken(await craftJwt({ ...claims(), aud: "https://other-api.example.com" }, AT), options)).toEqual({ ok: false, error: "invalid_claims" });
    for (const claim of ["iss", "aud", "sub", "exp", "iat"]) {
      const { [claim]: _dropped, ...rest } = claims();
      expect(await verifyAccessToken(await craftJwt(rest, AT), options)).toEqual({ ok: false, error: "invalid_claims" });
    }
  });

  it("by default refuses a token older than the access-token lifetime gatehouse issues, even with a far exp", async () => {
    // What gatehouse mints by default: the backend's default follows it.
    expect(DEFAULT_MAX_TOKEN_AGE_SECONDS).toBe(testConfig().sessions.accessTokenTtlSeconds);
    expect(DEFAULT_MAX_TOKEN_AGE_SECONDS).toBe(600);
    // 20 minutes old, exp stretched an hour ahead: a token gatehouse never issued with its default lifetime.
    const old = await craftJwt(claims({ iat: -1200, exp: 3600 }), AT);
    expect(await verifyAccessToken(old, options)).toEqual({ ok: false, error: "expired" });
    // An operator who raised ACCESS_TOKEN_TTL_SECONDS passes the same value.
    expect(await verifyAccessToken(old, { ...options, maxTokenAgeSeconds: 3600 })).toMatchObject({ ok: true });
    // Within the lifetime (plus the 60 s tolerance) it passes by default.
    expect(await verifyAccessToken(await craftJwt(claims({ iat: -630, exp: 30 }), AT), options)).toMatchObject({ ok: true });
  });

  it("refuses an empty sub, and an empty sid when the token carries one", async () => {
    expect(await verifyAccessToken(await craftJwt({ ...claims(), sub: "" }, AT), options)).toEqual({ ok: false, error: "invalid_claims" });
    expect(await verifyAccessToken(await craftJwt({ ...claims(), sid: "" }, AT), options)).toEqual({ ok: false, error: "invalid_claims" });
    expect(await verifyAccessToken(await craftJwt({ ...claims(), sid: 42 }, AT), options)).toEqual({ ok: false, error: "invalid_claims" });
  });

  it("requires typ at+jwt: a session JWT is not an access token", async () => {
    expect(await verifyAccessToken(await craftJwt(claims(), { typ: "session+jwt" }), options)).toEqual({ ok: false, error: "invalid_claims" });
    expect(await verifyAccessToken(await craftJwt(claims()), options)).toEqual({ ok: false, error: "invalid_claims" });
    const sessionShaped = { ...claims(), aud: "https://auth.example.com/session" };
    expect(await verifyAccessToken(await craftJwt(sessionShaped, { typ: "session+jwt" }), options)).toMatchObject({ ok: false });
  });

  it("refuses alg none and HS256 keyed with the public key", async () => {
    const none = `${b64json(JSON.stringify({ alg: "none", typ: "at+jwt" }))}.${b64json(JSON.stringify(claims()))}.`;
    expect(await verifyAccessToken(none, options)).toEqual({ ok: false, error: "malformed" });
    const { d: _d, ...publicJwk } = TEST_SIGNING_KEYS[0]!;
    const hs = await new SignJWT(claims())
      .setProtectedHeader({ alg: "HS256", kid: publicJwk.kid, typ: "at+jwt" })
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    expect(await verifyAccessToken(hs, options)).toEqual({ ok: false, error: "invalid_signature" });
  });

  it("refuses an unknown kid and a foreign key under our kid", async () => {
    expect(await verifyAccessToken(await craftJwt(claims(), { ...AT, kid: "retired" }), options)).toEqual({ ok: false, error: "unknown_key" });
    const { privateKey } = await generateKeyPair("ES256");
    const forged = await new SignJWT(claims()).setProtectedHeader({ alg: "ES256", kid: "test-key-1", typ: "at+jwt" }).sign(privateKey);
    expect(await verifyAccessToken(forged, options)).toEqual({ ok: false, error: "invalid_signature" });
  });

  it("refuses malformed input before any cryptography", async () => {
    const good = await craftJwt(claims(), AT);
    const [h, p, s] = good.split(".");
    for (const bad of [undefined, 42, "", "abc", `${h}.${p}`, `${h}.${p}.${s}.${s}`, `${h}.${p}.${s}`.padEnd(9000, "A"), `${h}.${p}=.${s}`]) {
      expect(await verifyAccessToken(bad, options)).toEqual({ ok: false, error: "malformed" });
    }
    const key = await importJWK(TEST_SIGNING_KEYS[0]!, "ES256");
    const dup = `{"alg":"ES256","kid":"test-key-1","typ":"at+jwt"}`;
    const payload = JSON.stringify(claims()).replace("{", `{"aud":"https://evil.example",`);
    const input = `${b64json(dup)}.${b64json(payload)}`;
    const sig = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key as CryptoKey, new TextEncoder().encode(input)));
    const token = `${input}.${btoa(String.fromCharCode(...sig)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")}`;
    expect(await verifyAccessToken(token, options)).toEqual({ ok: false, error: "malformed" });
  });

  it("reports an unreachable or broken JWKS as jwks_unavailable, not as a bad token", async () => {
    const down = async () => new Response("nope", { status: 503 });
    expect(await verifyAccessToken(await craftJwt(claims(), AT), { ...options, fetch: down })).toEqual({ ok: false, error: "jwks_unavailable" });
    const junk = async () => new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
    expect(await verifyAccessToken(await craftJwt(claims(), AT), { ...options, fetch: junk })).toEqual({ ok: false, error: "jwks_unavailable" });
  });
});
