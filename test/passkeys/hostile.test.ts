/**
 * Hostile passkey ceremonies. Every refusal: its status and stable code,
 * no Set-Cookie, and nothing written (no passkey, session, user or audit
 * row; a challenge refused before the batch stays unconsumed).
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/crypto";
import { linkAccount } from "../account/helpers";
import { rawSql } from "../helpers/neon-local";
import { createTestUser, resetRoundTrips, roundTrips, signInAs } from "../helpers/sessions";
import { SoftAuthenticator } from "./authenticator";
import { expectRefusal, footprint, passkeysOf, postJson, registerPasskey, signInWithPasskey, startCeremony, userIdOfOptions } from "./helpers";

/** A user with a GitHub account and one registered passkey. */
async function userWithPasskey(authenticator = new SoftAuthenticator()) {
  const userId = await createTestUser();
  await linkAccount(userId, "github");
  const session = await signInAs(userId);
  const { res } = await registerPasskey(session.cookieHeader, authenticator);
  expect(res.status).toBe(200);
  return { userId, session, authenticator };
}

describe("passkey sign-in, hostile", () => {
  beforeEach(async () => {
    await resetRoundTrips();
  });

  it("a replayed sign-in (the same signed response twice) is refused: no second session, no cookie", async () => {
    // Without a counter (always 0, as synced passkeys do) only single use of the challenge stops the replay.
    const { userId, authenticator } = await userWithPasskey(new SoftAuthenticator({ counter: false }));
    const started = await startCeremony("signin");
    const response = await authenticator.get(started.options);
    const first = await postJson("/auth/passkey/signin", { response }, [started.binding]);
    expect(first.status).toBe(200);
    const before = await footprint(userId, String(started.options.challenge));
    const [counterBefore] = await passkeysOf(userId);

    await resetRoundTrips();
    const again = await postJson("/auth/passkey/signin", { response }, [started.binding]);
    await expectRefusal(again, 400, "PasskeyChallengeInvalid");
    // The credential read, then the batch that the consumed challenge rolls back.
    expect(await roundTrips()).toBe(2);
    expect(await footprint(userId, String(started.options.challenge))).toEqual(before);
    expect((await passkeysOf(userId))[0]!.counter).toBe(counterBefore!.counter);
  });

  it("the same signed response replayed by an authenticator with a counter fails on the counter already", async () => {
    const { userId, authenticator } = await userWithPasskey();
    const started = await startCeremony("signin");
    const response = await authenticator.get(started.options);
    expect((await postJson("/auth/passkey/signin", { response }, [started.binding])).status).toBe(200);
    const before = await footprint(userId);
    await expectRefusal(await postJson("/auth/passkey/signin", { response }, [started.binding]), 400, "PasskeyVerificationFailed");
    expect(await footprint(userId)).toEqual(before);
  });

  it("a replay with a fresh counter (a cloned authenticator answering the same challenge) fails on the consumed challenge, in the batch", async () => {
    const { userId, authenticator } = await userWithPasskey();
    const started = await startCeremony("signin");
    const first = await postJson("/auth/passkey/signin", { response: await authenticator.get(started.options) }, [started.binding]);
    expect(first.status).toBe(200);
    const before = await footprint(userId);
    // Same challenge, a new signature with a higher counter: everything verifies except single use.
    const second = await authenticator.get(started.options);
    await resetRoundTrips();
    await expectRefusal(await postJson("/auth/passkey/signin", { response: second }, [started.binding]), 400, "PasskeyChallengeInvalid");
    expect(await roundTrips()).toBe(2);
    expect(await footprint(userId)).toEqual(before);
  });

  it("a challenge asked for in another browser (missing or another __Host- cookie) is refused before any round trip", async () => {
    const { userId, authenticator } = await userWithPasskey();
    const started = await startCeremony("signin");
    const other = await startCeremony("signin");
    const response = await authenticator.get(started.options);
    await resetRoundTrips();
    await expectRefusal(await postJson("/auth/passkey/signin", { response }, []), 400, "PasskeyChallengeInvalid");
    await expectRefusal(await postJson("/auth/passkey/signin", { response }, [other.binding]), 400, "PasskeyChallengeInvalid");
    expect(await roundTrips()).toBe(0);
    expect(await footprint(userId, String(started.options.challenge))).toMatchObject({ sessions: 1, consumed: false });
  });

  it("refuses an assertion made for another origin or another RP ID", async () => {
    const { userId, authenticator } = await userWithPasskey();
    for (const overrides of [{ origin: "https://evil.example" }, { origin: "https://app.example.com" }, { rpId: "evil.example" }, { rpId: "example.com" }]) {
      const started = await startCeremony("signin");
      const response = await authenticator.get(started.options, overrides);
      await expectRefusal(await postJson("/auth/passkey/signin", { response }, [started.binding]), 400, "PasskeyVerificationFailed");
      expect(await footprint(userId, String(started.options.challenge))).toMatchObject({ sessions: 1, consumed: false });
    }
  });

  it("a disabled user's passkey is refused with UserDisabled: no session, no cookie, counter unchanged, no audit row", async () => {
    const userId = await createTestUser();
    const authenticator = new SoftAuthenticator();
    expect((await registerPasskey((await signInAs(userId)).cookieHeader, authenticator)).res.status).toBe(200);
    await rawSql("UPDATE users SET disabled_at = now() WHERE id = $1", [userId]);
    const before = await footprint(userId);
    const [key] = await passkeysOf(userId);
    const { res } = await signInWithPasskey(authenticator);
    await expectRefusal(res, 403, "UserDisabled");
    expect(await footprint(userId)).toEqual(before);
    expect(await passkeysOf(userId)).toMatchObject([{ counter: key!.counter, last_used_at: null }]);
    expect(await rawSql("SELECT 1 FROM audit_events WHERE subject_user_id = $1 AND action = 'signin.success'", [userId])).toEqual([]);
  });

  it("refuses an assertion without user verification", async () => {
    const { userId, authenticator } = await userWithPasskey();
    const started = await startCeremony("signin");
    const response = await authenticator.get(started.options, { userVerified: false });
    await expectRefusal(await postJson("/auth/passkey/signin", { response }, [started.binding]), 400, "PasskeyVerificationFailed");
    expect(await footprint(userId)).toMatchObject({ sessions: 1 });
  });

  it("refuses a counter that did not grow (a cloned authenticator)", async () => {
    const { userId, authenticator } = await userWithPasskey();
    const started = await startCeremony("signin");
    // Registered with counter 1: presenting 1 again is a regression.
    const response = await authenticator.get(started.options, { counter: 1 });
    await expectRefusal(await postJson("/auth/passkey/signin", { response }, [started.binding]), 400, "PasskeyVerificationFailed");
    expect((await passkeysOf(userId))[0]).toMatchObject({ counter: "1", last_used_at: null });
  });

  it("an unknown credential is PasskeyUnknown: one SELECT, nothing written", async () => {
    const stranger = new SoftAuthenticator();
    // A credential this server never registered.
    await stranger.create({ rp: { id: "auth.example.com" }, user: { id: "x" }, challenge: "x" });
    const started = await startCeremony("signin");
    const response = await stranger.get(started.options);
    await resetRoundTrips();
    await expectRefusal(await postJson("/auth/passkey/signin", { response }, [started.binding]), 400, "PasskeyUnknown");
    expect(await roundTrips()).toBe(1);
    const [row] = await rawSql<{ n: number }>("SELECT count(*)::int AS n FROM oauth_consumed_states WHERE state_hash = $1", [await sha256Hex(String(started.options.challenge))]);
    expect(row!.n).toBe(0);
  });

  it("a credential presented with another user's handle is refused (and signs nobody in)", async () => {
    const ada = await userWithPasskey();
    const bob = await userWithPasskey();
    const started = await startCeremony("signin");
    const handle = btoa(bob.userId).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    const response = await ada.authenticator.get(started.options, { userHandle: handle });
    await expectRefusal(await postJson("/auth/passkey/signin", { response }, [started.binding]), 400, "PasskeyUnknown");
    expect(await footprint(ada.userId)).toMatchObject({ sessions: 1 });
    expect(await footprint(bob.userId)).toMatchObject({ sessions: 1 });
  });

  it("a signature by another credential's key under a known credential id fails verification", async () => {
    const ada = await userWithPasskey();
    const mallory = await userWithPasskey();
    const started = await startCeremony("signin");
    // Mallory signs, but claims Ada's credential id.
    const forged = await mallory.authenticator.get(started.options);
    const adaId = ada.authenticator.credentials[0]!.id;
    const response = { ...forged, id: adaId, rawId: adaId, response: { ...(forged.response as object), userHandle: null } };
    await expectRefusal(await postJson("/auth/passkey/signin", { response }, [started.binding]), 400, "PasskeyVerificationFailed");
    expect(await footprint(ada.userId)).toMatchObject({ sessions: 1 });
  });

  it("a response to a registration challenge cannot be used to sign in, nor the other way round", async () => {
    const { authenticator, session } = await userWithPasskey();
    const registration = await startCeremony("register", {}, [session.cookieHeader]);
    const response = await authenticator.get({ rpId: "auth.example.com", challenge: registration.options.challenge });
    await expectRefusal(await postJson("/auth/passkey/signin", { response }, [registration.binding]), 400, "PasskeyChallengeInvalid");
  });

  it("refuses requests from other origins, non-JSON bodies and junk responses, with no round trip", async () => {
    await resetRoundTrips();
    const foreign = await postJson("/auth/passkey/signin/options", {}, [], "https://app.example.com");
    expect(foreign.status).toBe(403);
    expect(foreign.headers.getSetCookie()).toEqual([]);
    const noOrigin = await postJson("/auth/passkey/signin/options", {}, [], null);
    expect(noOrigin.status).toBe(403);
    const form = await callJunk("a=1", "application/x-www-form-urlencoded");
    expect(form.status).toBe(415);
    const junk = await postJson("/auth/passkey/signin", { response: { id: "x" } });
    await expectRefusal(junk, 400, "PasskeyVerificationFailed");
    const badRedirect = await postJson("/auth/passkey/signin/options", { redirect_to: "https://evil.example/" });
    expect(badRedirect.status).toBe(400);
    expect(badRedirect.headers.getSetCookie()).toEqual([]);
    expect(await roundTrips()).toBe(0);
  });
});

describe("passkey registration and sign-up, hostile", () => {
  it("registering the same credential twice is PasskeyExists; a replayed registration is PasskeyChallengeInvalid", async () => {
    const userId = await createTestUser();
    const session = await signInAs(userId);
    const authenticator = new SoftAuthenticator();
    const { res, started, response } = await registerPasskey(session.cookieHeader, authenticator);
    expect(res.status).toBe(200);
    const replay = await postJson("/auth/passkey/register", { response }, [session.cookieHeader, started.binding]);
    await expectRefusal(replay, 400, "PasskeyChallengeInvalid");
    // The same credential id again, under a fresh challenge.
    const again = await startCeremony("register", {}, [session.cookieHeader]);
    const copy = await authenticator.create(again.options, { credentialId: String(response.id) });
    await expectRefusal(await postJson("/auth/passkey/register", { response: copy }, [session.cookieHeader, again.binding]), 409, "PasskeyExists");
    expect(await footprint(userId)).toMatchObject({ passkeys: 1, audit: 1 });
  });

  it("registration needs the session of the user the challenge was made for", async () => {
    const ada = await signInAs(await createTestUser());
    const bobId = await createTestUser();
    const bob = await signInAs(bobId);
    const started = await startCeremony("register", {}, [ada.cookieHeader]);
    const response = await new SoftAuthenticator().create(started.options);
    await expectRefusal(await postJson("/auth/passkey/register", { response }, [bob.cookieHeader, started.binding]), 401, "Unauthorized");
    await expectRefusal(await postJson("/auth/passkey/register", { response }, [started.binding]), 401, "Unauthorized");
    expect(await footprint(bobId, String(started.options.challenge))).toMatchObject({ passkeys: 0, consumed: false });
    const noSession = await postJson("/auth/passkey/register/options", {});
    expect(noSession.status).toBe(401);
  });

  it("refuses a registration without user verification, for another origin or RP ID", async () => {
    const userId = await createTestUser();
    const session = await signInAs(userId);
    for (const overrides of [{ userVerified: false }, { origin: "https://evil.example" }, { rpId: "evil.example" }]) {
      const { res } = await registerPasskey(session.cookieHeader, new SoftAuthenticator(), { overrides });
      await expectRefusal(res, 400, "PasskeyVerificationFailed");
    }
    expect(await footprint(userId)).toMatchObject({ passkeys: 0, audit: 0 });
  });

  it("a sign-up replayed, or finished in another browser, creates nobody", async () => {
    const started = await startCeremony("signup", { name: "Eve" });
    const userId = userIdOfOptions(started.options);
    const response = await new SoftAuthenticator().create(started.options);
    await expectRefusal(await postJson("/auth/passkey/signup", { response }, []), 400, "PasskeyChallengeInvalid");
    expect(await footprint(userId)).toMatchObject({ users: 0, passkeys: 0 });
    expect((await postJson("/auth/passkey/signup", { response }, [started.binding])).status).toBe(200);
    await expectRefusal(await postJson("/auth/passkey/signup", { response }, [started.binding]), 400, "PasskeyChallengeInvalid");
    expect(await footprint(userId)).toMatchObject({ users: 1, passkeys: 1, sessions: 1 });
  });

  it("is 404 when passkeys are turned off", async () => {
    const { scopedEnv, call } = await import("../helpers/app");
    const off = scopedEnv("passkeys-off", { AUTH_PASSKEYS: "false" });
    const res = await call("/auth/passkey/signin/options", { method: "POST", headers: { origin: "https://auth.example.com", "content-type": "application/json", accept: "application/json" }, body: "{}" }, { env: off });
    expect(res.status).toBe(404);
    const signin = await call("/auth/signin", { headers: { accept: "text/html" } }, { env: off });
    expect(await signin.text()).not.toContain("webauthn");
    expect(signin.headers.get("content-security-policy")).toContain("script-src 'none'");
    expect((env as unknown as Record<string, unknown>).AUTH_PASSKEYS).toBe("true");
  });
});

function callJunk(body: string, type: string): Promise<Response> {
  return postJsonRaw("/auth/passkey/signin/options", body, type);
}

async function postJsonRaw(path: string, body: string, type: string): Promise<Response> {
  const { callWorker } = await import("../helpers/sessions");
  return callWorker(path, { method: "POST", headers: { origin: "https://auth.example.com", "content-type": type, accept: "application/json" }, body });
}
