/**
 * Attacks on the session cookie. Every forged or broken session JWT must be
 * a 401 (never a 500), must not reach the database, and must not earn a cookie.
 */
import { importJWK, SignJWT } from "jose";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TEST_SIGNING_KEYS } from "../bindings";
import { b64json, callWorker, cookieHeader, craftJwt, createTestUser, resetRoundTrips, roundTrips, sessionClaims, signInAs } from "../helpers/sessions";

const SESSION_TYP = { typ: "session+jwt" };
let userId: string;
let sessionId: string;

async function expectRefused(sessionJwt: string, cookie = cookieHeader({ session: sessionJwt })): Promise<void> {
  await resetRoundTrips();
  const res = await callWorker("/auth/session", { headers: { cookie } });
  expect(res.status).toBe(401);
  expect(await res.json()).toMatchObject({ code: "Unauthorized" });
  expect(res.headers.getSetCookie()).toEqual([]);
  expect(await roundTrips()).toBe(0);
}

async function expectAccepted(sessionJwt: string): Promise<void> {
  await resetRoundTrips();
  const res = await callWorker("/auth/session", { headers: { cookie: cookieHeader({ session: sessionJwt }) } });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ user: { id: userId }, session: { id: sessionId } });
  expect(await roundTrips()).toBe(0);
}

beforeAll(async () => {
  userId = await createTestUser();
  sessionId = (await signInAs(userId)).sessionId;
});

beforeEach(async () => {
  await resetRoundTrips();
});

describe("session JWT verification", () => {
  it("accepts a well-formed token signed by either published key", async () => {
    await expectAccepted(await craftJwt(sessionClaims(userId, sessionId), SESSION_TYP));
    await expectAccepted(await craftJwt(sessionClaims(userId, sessionId), SESSION_TYP, TEST_SIGNING_KEYS[1]));
  });

  it("refuses alg none", async () => {
    const header = b64json(JSON.stringify({ alg: "none", typ: "session+jwt" }));
    const payload = b64json(JSON.stringify(sessionClaims(userId, sessionId)));
    await expectRefused(`${header}.${payload}.`);
    await expectRefused(`${header}.${payload}.c2ln`);
  });

  it("refuses HS256 keyed with our public key", async () => {
    const { d: _d, ...publicJwk } = TEST_SIGNING_KEYS[0]!;
    for (const secret of [JSON.stringify(publicJwk), publicJwk.x]) {
      const token = await new SignJWT(sessionClaims(userId, sessionId))
        .setProtectedHeader({ alg: "HS256", kid: publicJwk.kid, typ: "session+jwt" })
        .sign(new TextEncoder().encode(secret));
      await expectRefused(token);
    }
  });

  it("refuses a wrong issuer or audience", async () => {
    await expectRefused(await craftJwt({ ...sessionClaims(userId, sessionId), iss: "https://evil.example" }, SESSION_TYP));
    await expectRefused(await craftJwt({ ...sessionClaims(userId, sessionId), aud: "https://api.example.com" }, SESSION_TYP));
    await expectRefused(await craftJwt({ ...sessionClaims(userId, sessionId), aud: "https://auth.example.com" }, SESSION_TYP));
  });

  it("refuses a token without typ session+jwt, e.g. an access token", async () => {
    await expectRefused(await craftJwt(sessionClaims(userId, sessionId), { typ: "at+jwt" }));
    await expectRefused(await craftJwt(sessionClaims(userId, sessionId)));
    const access = { ...sessionClaims(userId, sessionId), aud: "https://api.example.com", scope: "openid profile" };
    await expectRefused(await craftJwt(access, { typ: "at+jwt" }));
  });

  it("refuses a refresh token presented as the session cookie", async () => {
    const s = await signInAs(userId);
    await expectRefused(s.refreshToken);
  });

  it("refuses an unknown kid, and a key that is not ours under our kid", async () => {
    await expectRefused(await craftJwt(sessionClaims(userId, sessionId), { ...SESSION_TYP, kid: "retired-key" }));
    const { privateKey } = await (await import("jose")).generateKeyPair("ES256");
    const forged = await new SignJWT(sessionClaims(userId, sessionId))
      .setProtectedHeader({ alg: "ES256", kid: TEST_SIGNING_KEYS[0]!.kid, typ: "session+jwt" })
      .sign(privateKey);
    await expectRefused(forged);
    const noKid = await new SignJWT(sessionClaims(userId, sessionId))
      .setProtectedHeader({ alg: "ES256", typ: "session+jwt" })
      .sign(await importJWK(TEST_SIGNING_KEYS[0]!, "ES256"));
    await expectRefused(noKid);
  });

  it("refuses missing sid or sub", async () => {
    const { sid: _sid, ...noSid } = sessionClaims(userId, sessionId);
    await expectRefused(await craftJwt(noSid, SESSION_TYP));
    const { sub: _sub, ...noSub } = sessionClaims(userId, sessionId);
    await expectRefused(await craftJwt(noSub, SESSION_TYP));
  });

  it("refuses an empty sid or sub", async () => {
    await expectRefused(await craftJwt({ ...sessionClaims(userId, sessionId), sub: "" }, SESSION_TYP));
    await expectRefused(await craftJwt({ ...sessionClaims(userId, sessionId), sid: "" }, SESSION_TYP));
  });

  it("allows 60 s of clock skew on exp, iat and nbf, and no more", async () => {
    await expectAccepted(await craftJwt(sessionClaims(userId, sessionId, { iat: -330, exp: -30 }), SESSION_TYP));
    await expectRefused(await craftJwt(sessionClaims(userId, sessionId, { iat: -420, exp: -120 }), SESSION_TYP));
    await expectAccepted(await craftJwt(sessionClaims(userId, sessionId, { iat: 30 }), SESSION_TYP));
    await expectRefused(await craftJwt(sessionClaims(userId, sessionId, { iat: 120 }), SESSION_TYP));
    const now = Math.floor(Date.now() / 1000);
    await expectAccepted(await craftJwt({ ...sessionClaims(userId, sessionId), nbf: now + 30 }, SESSION_TYP));
    await expectRefused(await craftJwt({ ...sessionClaims(userId, sessionId), nbf: now + 120 }, SESSION_TYP));
  });

  it("refuses a token older than the session lifetime even if exp was stretched", async () => {
    await expectRefused(await craftJwt(sessionClaims(userId, sessionId, { iat: -3600, exp: 3600 }), SESSION_TYP));
  });

  it("refuses malformed tokens: 2 or 4 parts, junk, over 4 KB, duplicate JSON keys", async () => {
    const good = await craftJwt(sessionClaims(userId, sessionId), SESSION_TYP);
    const [h, p, s] = good.split(".");
    await expectRefused(`${h}.${p}`);
    await expectRefused(`${h}.${p}.${s}.${s}`);
    await expectRefused("not-a-jwt");
    await expectRefused(`${h}.${p}!.${s}`);
    // Over MAX_SESSION_JWT_LENGTH (4096) but under the Cookie header cap (8 KiB, cookie-header.test.ts).
    const big = await craftJwt({ ...sessionClaims(userId, sessionId), pad: "x".repeat(4 * 1024) }, SESSION_TYP);
    expect(big.length).toBeGreaterThan(4096);
    await expectRefused(big);
    // Duplicate keys: JSON.parse keeps the last one; a signature over them proves nothing about intent.
    const key = await importJWK(TEST_SIGNING_KEYS[0]!, "ES256");
    const claims = sessionClaims(userId, sessionId);
    const dupPayload = JSON.stringify(claims).replace("{", `{"sub":"00000000-0000-0000-0000-000000000000",`);
    const dupHeader = `{"alg":"ES256","kid":"test-key-1","typ":"session+jwt","typ":"session+jwt"}`;
    for (const [header, payload] of [
      [JSON.stringify({ alg: "ES256", kid: "test-key-1", typ: "session+jwt" }), dupPayload],
      [dupHeader, JSON.stringify(claims)],
    ] as const) {
      const input = `${b64json(header)}.${b64json(payload)}`;
      const sig = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key as CryptoKey, new TextEncoder().encode(input)));
      const sigB64 = btoa(String.fromCharCode(...sig)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
      await expectRefused(`${input}.${sigB64}`);
    }
  });

  it("refuses a duplicated or oversized session cookie", async () => {
    const good = await craftJwt(sessionClaims(userId, sessionId), SESSION_TYP);
    await expectRefused(good, `__Host-gh_session=${good}; __Host-gh_session=${good}`);
    await expectRefused(good, `__Host-gh_session=${"a".repeat(5000)}`);
  });
});
